"""The evaluation result of the contract (`cmlkb evaluate --format json`), assembled from
what the rules derived. Only aggregation happens here, each by an order the knowledge
defines: a drug's status is the strongest effect among its reasons (cml:strengthRank), the
ELN and NCCN categories are the most severe current finding (cml:severityRank), and so on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from cmlkb.case.facts import fact_schema
from cmlkb.knowledge import query_files
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.cache import cached
from cmlkb.knowledge.namespaces import compact
from cmlkb.reasoning.reasoner import FactRecord, Inference

DISCLAIMER = (
    "cmlkb is decision support for clinicians, not a medical device: every conclusion must "
    "be checked by the treating physician against the patient as a whole."
)


@dataclass(frozen=True)
class Citation:
    statement: str
    evidence: str
    sources: tuple[str, ...]
    citation: str
    locator: str
    comment: str
    plain: str


_citations: dict[str, dict[str, Citation]] = {}
_ranks: dict[str, dict[str, dict[str, int]]] = {}


def citations(kb: KnowledgeBase) -> dict[str, Citation]:
    """Statement IRI -> its evidence and sources (queries/explain/statements.rq); kept in
    the disk cache of `kb`, if it has one."""
    if kb.digest not in _citations:
        query = query_files.load("explain/statements", kb.root)
        _citations[kb.digest] = cached(
            kb,
            "citations",
            lambda: _citations_of(kb, query),
            encode=lambda table: {s: list(asdict(c).values()) for s, c in table.items()},
            decode=lambda data: {s: _citation(*fields) for s, fields in data.items()},
            inputs=[query.text],
        )
    return _citations[kb.digest]


def _citation(
    statement: str, evidence: str, sources: list[str], citation: str, *text: str
) -> Citation:
    return Citation(statement, evidence, tuple(sources), citation, *text)


def _citations_of(kb: KnowledgeBase, query: query_files.Query) -> dict[str, Citation]:
    rows: dict[str, dict[str, Any]] = {}
    for r in kb.select(query):
        s = str(r["statement"])
        entry = rows.setdefault(
            s,
            {
                "evidence": str(r["evidence"]),
                "sources": {},
                "locator": str(r.get("locator") or ""),
                "comment": str(r.get("comment") or ""),
                "plain": str(r.get("plain") or ""),
            },
        )
        src = compact(str(r["source"]))
        ident = (
            (r.get("doi") and f"doi:{r['doi']}")
            or (r.get("pmid") and f"PMID {r['pmid']}")
            or str(r.get("url") or "")
        )
        entry["sources"][src] = f"{r.get('sourceTitle') or src}" + (f" ({ident})" if ident else "")
    return {
        s: Citation(
            statement=compact(s),
            evidence=e["evidence"],
            sources=tuple(sorted(e["sources"])),
            citation="; ".join(e["sources"][k] for k in sorted(e["sources"])),
            locator=e["locator"],
            comment=e["comment"],
            plain=e["plain"],
        )
        for s, e in rows.items()
    }


def ranks(kb: KnowledgeBase) -> dict[str, dict[str, int]]:
    """Order of the value sets, from the knowledge: class local name -> code -> rank."""
    if kb.digest in _ranks:
        return _ranks[kb.digest]
    out: dict[str, dict[str, int]] = {}
    for r in kb.select("engine/value-set-ranks"):
        cls = str(r["class"]).split("#")[-1]
        out.setdefault(cls, {})[str(r["code"])] = int(r["rank"])
    _ranks[kb.digest] = out
    return out


def knowledge_premises(inference: Inference, record: FactRecord) -> list[str]:
    """IRIs of the knowledge statements a derived fact rests on, nearest first (breadth
    first through the first derivation of each fact, down to the input)."""
    seen: set[str] = {record.fid}
    out: list[str] = []
    queue = [record]
    while queue:
        r = queue.pop(0)
        if r.origin == "knowledge" and r.iri:
            out.append(r.iri)
        for d in r.derivations[:1]:
            for p in d.premises:
                if p not in seen:
                    seen.add(p)
                    queue.append(inference.records[p])
    return out


def _source_of(
    kb: KnowledgeBase, inference: Inference, record: FactRecord, rule_source: str
) -> dict[str, Any]:
    cites = citations(kb)
    for iri in knowledge_premises(inference, record):
        c = cites.get(iri)
        if c:
            return {
                "statement": c.statement,
                "evidence": c.evidence,
                "source": ", ".join(c.sources),
                "citation": c.citation,
            }
    return {"statement": None, "evidence": None, "source": rule_source, "citation": None}


def _unverified(evidence: str | None) -> bool:
    """A reason whose nearest knowledge statement is U-tagged (U-high, U-med, U-low)."""
    return bool(evidence) and str(evidence).startswith("U")


def _flag_unverified(entry: dict[str, Any]) -> None:
    """Mark each U-tagged reason, and the entry itself when every reason that gives its
    status is U-tagged (contract extension: `"unverified": true`, absent otherwise)."""
    for reason in entry["reasons"]:
        if _unverified(reason.get("evidence")):
            reason["unverified"] = True
    deciding = [r for r in entry["reasons"] if r["effect"] == entry["status"]]
    if deciding and all(r.get("unverified") for r in deciding):
        entry["unverified"] = True


_withheld: dict[str, frozenset[str]] = {}


def withheld_options(kb: KnowledgeBase) -> frozenset[str]:
    """Options whose actions are not proposed when the option rests only on U-tagged
    knowledge (cml:withholdWhenUnverified in the knowledge)."""
    if kb.digest not in _withheld:
        _withheld[kb.digest] = frozenset(
            str(r["code"]) for r in kb.select("engine/withheld-options")
        )
    return _withheld[kb.digest]


def _unverified_actions(
    inference: Inference, records: list[FactRecord], options: list[dict[str, Any]]
) -> dict[str, str]:
    """Actions every derivation of which goes through an option that rests only on
    U-tagged knowledge: action code -> that option (of the first derivation)."""
    weak = {o["option"] for o in options if o.get("unverified")}
    out: dict[str, str] = {}
    for r in records:
        via: list[str] = []
        for d in r.derivations:
            hit = [
                inference.records[p].fact["option"]
                for p in d.premises
                if inference.records[p].kind == "option"
                and inference.records[p].fact["option"] in weak
            ]
            if not hit:
                break
            via.append(hit[0])
        else:
            if via:
                out[r.fact["code"]] = via[0]
    return out


def _rule_ref(inference: Inference, record: FactRecord) -> tuple[str, str]:
    d = record.derivations[0]
    rule = inference.rules[d.rule_id]
    return f"{rule.id}@{rule.version}", rule.guideline.get("source", "")


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _months(value: int, scale: int) -> float | None:
    """Scaled months (rules/facts.yaml `scales.months` of the evaluating knowledge) as
    months to one decimal; None when not applicable (-1)."""
    return None if value < 0 else round(value / scale, 1)


def build_result(
    case: dict[str, Any],
    kb: KnowledgeBase,
    inference: Inference,
    selection: dict[str, str],
    evaluation_id: str,
) -> dict[str, Any]:
    rk = ranks(kb)
    scales = fact_schema(kb).scales
    facts = {
        k: inference.of_kind(k)
        for k in (
            "case",
            "bcr",
            "response-level",
            "current-finding",
            "resistance",
            "extrinsic",
            "extrinsic-causes-excluded",
            "testing",
            "drug-reason",
            "insufficient",
            "transplant-reason",
            "action",
            "dose-advice",
            "drug",
            "finding",
            "option",
            "is-not-applicable",
        )
    }
    case_fact = facts["case"][0].fact

    # response ------------------------------------------------------------------------
    latest = next((r for r in facts["bcr"] if r.fact["latest"]), None)
    latest_value = None
    molecular = None
    if latest is not None:
        raw = case["bcr_abl1"][latest.fact["idx"]]
        latest_value = _number(raw.get("is_percent")) if not raw.get("undetectable") else 0.0
        levels = [r.fact for r in facts["response-level"] if r.fact["bcr"] == latest.fact["idx"]]
        if levels:
            molecular = max(levels, key=lambda f: f["rank"])["level"]
        elif latest.fact["quantified"] and not facts["is-not-applicable"]:
            molecular = "none"

    def category(family: str) -> tuple[str | None, list[dict[str, Any]]]:
        current = [r.fact for r in facts["current-finding"] if r.fact["family"] == family]
        if not current:
            return None, []
        worst = max(f["rank"] for f in current)
        basis = [
            {"category": f["category"], "basis": f["basis"], "detail": f["detail"]}
            for f in sorted(current, key=lambda f: (-f["rank"], f["detail"]))
        ]
        return next(f["category"] for f in current if f["rank"] == worst), basis

    eln, eln_basis = category("eln")
    nccn, nccn_basis = category("nccn")

    # resistance ----------------------------------------------------------------------
    status_rank = rk.get("ResistanceStatus", {})
    statuses = [r.fact for r in facts["resistance"]]
    status = (
        max(statuses, key=lambda f: status_rank.get(f["status"], 0))["status"]
        if statuses
        else "none"
    )
    excluded = bool(facts["extrinsic-causes-excluded"])
    extrinsic = sorted({r.fact["detail"] for r in facts["extrinsic"]})
    # Which causes are documented and which are only missing data (extrinsic.documented).
    documented = sorted({r.fact["cause"] for r in facts["extrinsic"] if r.fact.get("documented")})
    unknown = sorted(
        {r.fact["cause"] for r in facts["extrinsic"] if r.fact.get("documented") is False}
        - set(documented)
    )

    # mutation testing ----------------------------------------------------------------
    testing = [r.fact for r in facts["testing"]]
    if testing:
        top = max(testing, key=lambda f: f["rank"])
        indication = top["indication"]
        method = (
            None
            if top["method"] in ("none", None) or indication == "not-indicated"
            else top["method"]
        )
    else:
        indication, method = "not-indicated", None

    # drugs ---------------------------------------------------------------------------
    strength = rk.get("DrugStatus", {})
    drugs = []
    for d in sorted({r.fact["drug"] for r in facts["drug"]}):
        reasons: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in facts["drug-reason"]:
            f = r.fact
            if f["drug"] != d:
                continue
            rule, rule_source = _rule_ref(inference, r)
            key = (f["reason"], f["effect"], rule)
            if key in reasons:
                reasons[key]["details"].add(f["detail"])
                continue
            reasons[key] = {
                "kind": f["reason"],
                "effect": f["effect"],
                "rule": rule,
                "details": {f["detail"]},
                **_source_of(kb, inference, r, rule_source),
            }
        for reason in reasons.values():
            reason["detail"] = ", ".join(sorted(reason.pop("details")))
        ordered = sorted(
            reasons.values(), key=lambda x: (-strength.get(x["effect"], 0), x["kind"], x["detail"])
        )
        status_code = ordered[0]["effect"] if ordered else "candidate"
        entry = {"drug": d, "status": status_code, "reasons": ordered}
        _flag_unverified(entry)
        drugs.append(entry)
    drugs.sort(key=lambda x: (strength.get(x["status"], 0), x["drug"]))

    # transplant, actions, insufficient data -------------------------------------------
    transplant_reasons: dict[str, dict[str, Any]] = {}
    for r in facts["transplant-reason"]:
        trigger = r.fact["trigger"]
        if trigger in transplant_reasons:
            transplant_reasons[trigger]["details"].add(r.fact["detail"])
            continue
        rule, rule_source = _rule_ref(inference, r)
        transplant_reasons[trigger] = {
            "trigger": trigger,
            "details": {r.fact["detail"]},
            "rule": rule,
            **_source_of(kb, inference, r, rule_source),
        }
    for reason in transplant_reasons.values():
        reason["detail"] = "; ".join(sorted(reason.pop("details")))
    options = _options(kb, inference, facts["option"], strength)
    unverified = _unverified_actions(inference, facts["action"], options)
    withheld = {a for a, option in unverified.items() if option in withheld_options(kb)}
    actions = sorted({r.fact["code"] for r in facts["action"]} - withheld)
    # Extension: why each action, with the interval its source gives (a repeat test).
    action_details = [
        {"code": c, "detail": d}
        for c, d in sorted({(r.fact["code"], str(r.fact["detail"])) for r in facts["action"]})
        if c not in withheld
    ]
    insufficient = [
        {"conclusion": c, "missing": m}
        for c, m in sorted(
            {(r.fact["conclusion"], r.fact["missing"]) for r in facts["insufficient"]}
        )
    ]
    dose_advice = sorted(
        (
            {
                "drug": r.fact["drug"],
                "dose_mg": r.fact["dose"] / scales["mg"],
                "frequency": r.fact["frequency"],
                "detail": r.fact["detail"],
            }
            for r in facts["dose-advice"]
        ),
        key=lambda x: (x["drug"], x["detail"]),
    )

    response: dict[str, Any] = {
        "current_tki": None if case_fact["off_therapy"] else case_fact["current_drug"],
        "months_on_current_therapy": _months(case_fact["months_on_current"], scales["months"]),
        "latest_bcr_abl1_is_percent": latest_value,
        "molecular_response": molecular,
        "eln": eln,
        "nccn": nccn,
        "eln_basis": eln_basis,
        "nccn_basis": nccn_basis,
        "guidelines_disagree": _disagree(kb, eln, nccn),
    }
    if facts["is-not-applicable"]:
        # Extension: present only when the International Scale does not apply to the
        # transcript (no category or response level is drawn from is_percent).
        scope = facts["is-not-applicable"][0].fact
        response["is_not_applicable"] = {
            "transcript": scope["transcript"],
            "detail": scope["detail"],
        }

    return {
        "case": case["id"],
        "evaluation_id": evaluation_id,
        "assessed_on": case["assessed_on"],
        "knowledge": {
            "version": kb.version,
            "digest": kb.digest,
            "guideline": selection["guideline"],
            "nccn": selection["nccn"],
            "classification": selection["classification"],
        },
        "response": response,
        "resistance": {
            "status": status,
            "extrinsic_causes_excluded": excluded,
            "extrinsic_causes": extrinsic,
            "extrinsic_causes_documented": documented,
            "extrinsic_causes_unknown": unknown,
        },
        "mutation_testing": {"indication": indication, "method": method},
        "drugs": drugs,
        "dose_advice": dose_advice,
        "insufficient_data": insufficient,
        "transplant": {
            "consider": bool(transplant_reasons),
            "reasons": sorted(
                transplant_reasons.values(), key=lambda x: (x["trigger"], x["detail"])
            ),
        },
        "options": options,
        "actions": actions,
        "action_details": action_details,
        **_tfr(case_fact, facts["action"], scales["months"]),
        "unverified_actions": [
            {"action": a, "option": unverified[a], "proposed": a not in withheld}
            for a in sorted(unverified)
        ],
        "disclaimer": DISCLAIMER,
    }


def _tfr(case_fact: dict[str, Any], actions: list[FactRecord], month_scale: int) -> dict[str, Any]:
    """Extension `treatment_free_remission`, only when the patient is off therapy after
    stopping in treatment-free remission: the months since stopping and the monitoring
    interval that applies now (the detail of the tfr-monitoring action; null after a loss
    of MMR, when the TKI is to be restarted)."""
    if not case_fact["tfr_stop"]:
        return {}
    monitoring = sorted(r.fact["detail"] for r in actions if r.fact["code"] == "tfr-monitoring")
    return {
        "treatment_free_remission": {
            "months_since_stop": _months(case_fact["months_off"], month_scale),
            "monitoring": monitoring[0] if monitoring else None,
        }
    }


def _options(
    kb: KnowledgeBase, inference: Inference, records: list[FactRecord], strength: dict[str, int]
) -> list[dict[str, Any]]:
    """Non-TKI options (contract `options`), each with the strongest effect among its
    reasons, like drugs."""
    grouped: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for r in records:
        f = r.fact
        rule, rule_source = _rule_ref(inference, r)
        reasons = grouped.setdefault(f["option"], {})
        key = (f["effect"], rule)
        if key in reasons:
            reasons[key]["details"].add(f["detail"])
            continue
        reasons[key] = {
            "effect": f["effect"],
            "rule": rule,
            "details": {f["detail"]},
            **_source_of(kb, inference, r, rule_source),
        }
    out = []
    for option, reasons in grouped.items():
        listed = []
        for reason in reasons.values():
            reason["detail"] = "; ".join(sorted(reason.pop("details")))
            listed.append(reason)
        listed.sort(key=lambda x: (-strength.get(x["effect"], 0), x["rule"]))
        entry = {"option": option, "status": listed[0]["effect"], "reasons": listed}
        _flag_unverified(entry)
        out.append(entry)
    out.sort(key=lambda x: (strength.get(x["status"], 0), x["option"]))
    return out


_groups: dict[str, dict[str, frozenset[str]]] = {}


def status_groups(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """cml:statusGroup of the drug statuses, from the knowledge: "choice" (offered as a
    choice), "care" (only with extra care), "against" (not offered) -> the status codes."""
    if kb.digest not in _groups:
        out: dict[str, set[str]] = {"choice": set(), "care": set(), "against": set()}
        for r in kb.select("engine/status-groups"):
            out.setdefault(str(r["group"]), set()).add(str(r["code"]))
        _groups[kb.digest] = {group: frozenset(codes) for group, codes in out.items()}
    return _groups[kb.digest]


_families: dict[str, dict[str, tuple[str, int]]] = {}


def category_families(kb: KnowledgeBase) -> dict[str, tuple[str, int]]:
    """Response category code -> (its cml:categoryFamily, its cml:severityRank), from the
    knowledge (queries/engine/category-families.rq)."""
    if kb.digest not in _families:
        _families[kb.digest] = {
            str(r["code"]): (str(r["family"]), int(r["rank"]))
            for r in kb.select("engine/category-families")
        }
    return _families[kb.digest]


def _disagree(kb: KnowledgeBase, eln: str | None, nccn: str | None) -> bool:
    """ELN and NCCN disagree when their categories have different severity classes:
    ELN optimal with NCCN green or light green agree, and so on (cml:severityRank of the
    category over the highest rank of its cml:categoryFamily)."""
    if eln is None or nccn is None:
        return False
    families = category_families(kb)
    scale: dict[str, int] = {}
    for family, rank in families.values():
        scale[family] = max(scale.get(family, 0), rank)

    def severity(code: str) -> float:
        family, rank = families[code]
        return rank / (scale[family] or 1)

    return abs(severity(eln) - severity(nccn)) >= 0.5


__all__ = ["DISCLAIMER", "build_result", "category_families", "citations", "ranks", "status_groups"]
