"""Rendering evaluations: `text` for a clinician (the conclusion first, then the reasons
with their sources), `json` per the contract, `turtle`/`jsonld` for the provenance graph,
`patient` for the patient (cmlkb.results.patient)."""

from __future__ import annotations

from typing import Any

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.results.result import DISCLAIMER, status_groups


def _line(label: str, value: Any) -> str:
    return f"  {label:<22} {value}"


_cause_labels: dict[str, dict[str, dict[str, str]]] = {}


def cause_labels(kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    """How the headline names the extrinsic causes, from the knowledge: "to-confirm" (only
    the data is missing; cml:toConfirmLabel) and "documented" (cml:documentedLabel), each
    code -> words (queries/engine/extrinsic-cause-labels.rq)."""
    if kb.digest not in _cause_labels:
        out: dict[str, dict[str, str]] = {"to-confirm": {}, "documented": {}}
        for r in kb.select("engine/extrinsic-cause-labels"):
            if r.get("toConfirm"):
                out["to-confirm"][str(r["code"])] = str(r["toConfirm"])
            if r.get("documented"):
                out["documented"][str(r["code"])] = str(r["documented"])
        _cause_labels[kb.digest] = out
    return _cause_labels[kb.digest]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def headline(result: dict[str, Any], kb: KnowledgeBase) -> str:
    """The conclusion in one sentence, saying what the actions say: a change of the current
    TKI when it is excluded or failing (conditional on missing data, held back by a
    documented extrinsic cause), transplant and trials first when no approved TKI is a plain
    option."""
    resistance = result["resistance"]
    response = result["response"]
    actions = result["actions"]
    causes = cause_labels(kb)
    to_confirm, documented_as = causes["to-confirm"], causes["documented"]
    drugs = {d["drug"]: d for d in result["drugs"]}
    groups = status_groups(kb)
    choice, care = groups["choice"], groups["care"]
    plain = [d["drug"] for d in result["drugs"] if d["status"] in choice]
    usable = plain or [
        f"{d['drug']} (with caution)"
        for d in result["drugs"]
        if d["status"] in care and any(r["effect"] in choice for r in d["reasons"])
    ]
    current = response.get("current_tki")
    current_drug = drugs.get(current) if current else None
    excluded = [r for r in (current_drug or {}).get("reasons", []) if r["effect"] == "excluded"]
    by_mutation = [r for r in excluded if r["kind"] == "mutation"]
    documented = resistance.get("extrinsic_causes_documented", [])
    unknown = resistance.get("extrinsic_causes_unknown", [])
    switching = "switch-tki" in actions
    # Transplant and trials lead when the rules found no approved TKI expected to work
    # (trigger no-tki-left: every one excluded, or none left without an effect caution).
    no_plain = any(r["trigger"] == "no-tki-left" for r in result["transplant"]["reasons"])

    parts: list[str] = []
    tfr = result.get("treatment_free_remission")
    if no_plain:
        lead = (
            "consider allogeneic transplant and a clinical trial: "
            "no approved TKI is expected to work well"
        )
        if usable:
            lead += f" (left: {', '.join(usable)})"
        parts.append(lead)
    if response["eln"] == "failure":
        status = resistance["status"]
        kind = "progression on therapy" if status == "progression" else f"{status} resistance"
        if by_mutation:
            mutations = ", ".join(sorted({r["detail"] for r in by_mutation}))
            qualifier = f" (biological: {mutations} excludes {current})"
        elif resistance["extrinsic_causes_excluded"]:
            qualifier = ""
        elif documented:
            qualifier = " (not yet confirmed as true resistance: extrinsic causes not excluded)"
        else:
            qualifier = " (to confirm: " + _and([to_confirm.get(c, c) for c in unknown]) + ")"
        parts.append(f"ELN failure, {kind}{qualifier}")
    elif response["eln"]:
        parts.append(f"ELN {response['eln']}")
    elif tfr:
        state = "off therapy in" if tfr["monitoring"] else "loss of MMR after stopping in"
        since = tfr["months_since_stop"]
        parts.append(f"{state} treatment-free remission ({since} months since stopping)")
    elif response.get("is_not_applicable"):
        transcript = response["is_not_applicable"]["transcript"]
        parts.append(
            f"no ELN category: the IS milestones do not apply to the {transcript} transcript"
            " (judge the response by marrow cytogenetics or a transcript-specific assay)"
        )
    else:
        parts.append("no ELN milestone applies now")
    if "restart-tki" in actions:
        parts.append("restart the TKI")
    elif tfr and tfr["monitoring"]:
        parts.append(tfr["monitoring"])
    elif switching:
        names = ", ".join(usable) or "no usable TKI"
        if excluded and current:
            failed = [r for r in excluded if r["kind"] == "prior-failure"]
            why = ", ".join(sorted({r["detail"] for r in (by_mutation or failed or excluded)}))
            verb = f"change {current} (excluded: {why})"
        else:
            verb = "switch TKI"
        pending = (
            not excluded
            and not resistance["extrinsic_causes_excluded"]
            and not documented
            and unknown
        )
        if pending:
            things = [to_confirm.get(c, c) for c in unknown]
            verb += f" once {_and(things)} {'is' if len(things) == 1 else 'are'} confirmed"
        if not no_plain:
            verb += f" (options: {names})"
        parts.append(verb)
        if documented:
            parts.append("address " + _and([documented_as.get(c, c) for c in documented]) + " too")
    elif response["eln"] == "failure" and documented:
        parts.append("address " + _and([documented_as.get(c, c) for c in documented]) + " first")
    elif "continue-tki" in actions:
        parts.append("continue the current TKI")
    if "confirm-bcr-abl1" in actions:
        parts.append("repeat BCR::ABL1 to confirm the latest result")
    if result["transplant"]["consider"] and not no_plain:
        parts.append("consider allogeneic transplant")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:] if no_plain else text


def clinician_text(result: dict[str, Any], kb: KnowledgeBase) -> str:
    r = result["response"]
    tfr = result.get("treatment_free_remission")
    out = [
        f"Case {result['case']} - assessed {result['assessed_on']}",
        f"Conclusion: {headline(result, kb)}",
        "",
        "Response",
        _line(
            "time on current TKI",
            f"{r['months_on_current_therapy']} months"
            if r["months_on_current_therapy"] is not None
            else (
                f"off therapy, {tfr['months_since_stop']} months since stopping for "
                "treatment-free remission"
                if tfr
                else "off therapy"
            ),
        ),
        _line(
            "latest BCR::ABL1 (IS)",
            f"{r['latest_bcr_abl1_is_percent']} %"
            if r["latest_bcr_abl1_is_percent"] is not None
            else "no result",
        ),
        _line("molecular response", r["molecular_response"] or "unknown"),
        _line(
            f"ELN ({result['knowledge']['guideline']})",
            _category(r["eln"], r["eln_basis"], tfr, r.get("is_not_applicable")),
        ),
        _line(
            f"NCCN ({result['knowledge']['nccn']})",
            _category(r["nccn"], r["nccn_basis"], tfr, r.get("is_not_applicable")),
        ),
    ]
    if r.get("is_not_applicable"):
        out.append(
            "  No category is drawn from this value: "
            + r["is_not_applicable"]["detail"]
            + " (the value is shown as reported)."
        )
    if r["guidelines_disagree"]:
        out.append("  ELN and NCCN disagree here; both are shown, neither is merged.")
    res = result["resistance"]
    out += [
        "",
        "Resistance",
        _line("status", res["status"]),
        _line(
            "extrinsic causes",
            "excluded"
            if res["extrinsic_causes_excluded"]
            else "not applicable (off therapy after stopping for treatment-free remission)"
            if tfr and not res["extrinsic_causes"]
            else "NOT excluded: " + (", ".join(res["extrinsic_causes"]) or "no data"),
        ),
    ]
    mt = result["mutation_testing"]
    out.append(
        _line(
            "mutation testing",
            mt["indication"] + (f" ({mt['method']} preferred)" if mt["method"] else ""),
        )
    )
    out += ["", "TKIs (status: strongest reason wins; excluded drugs must not be used)"]
    # In the result's order: by the cml:strengthRank of the status in the knowledge, weakest
    # (preferred) first, then by name (cmlkb.results.result.build_result).
    for d in result["drugs"]:
        mark = "  [UNVERIFIED: rests only on U-tagged knowledge]" if d.get("unverified") else ""
        out.append(f"  {d['drug']:<15} {d['status'].upper()}{mark}")
        for reason in d["reasons"]:
            cite = reason.get("citation") or reason.get("source") or ""
            evidence = f" [{reason['evidence']}]" if reason.get("evidence") else ""
            out.append(
                f"      - {reason['effect']}: {reason['kind']} ({reason['detail']})"
                f"{evidence} - rule {reason['rule']}"
            )
            if reason.get("statement"):
                out.append(f"        {reason['statement']}: {_short(cite)}")
    for advice in result.get("dose_advice", []):
        out.append(
            f"  dose: {advice['drug']} {advice['dose_mg']:g} mg {advice['frequency']} "
            f"({advice['detail']})"
        )
    t = result["transplant"]
    out += ["", "Allogeneic transplant: " + ("CONSIDER" if t["consider"] else "not indicated now")]
    for reason in t["reasons"]:
        out.append(
            f"  - {reason['trigger']}: {reason['detail']} - rule {reason['rule']}"
            + (f"; {reason['statement']}" if reason.get("statement") else "")
        )
    for option in result.get("options", []):
        if option is result.get("options", [])[0]:
            out += ["", "Other options"]
        mark = (
            "  [UNVERIFIED: rests only on U-tagged knowledge]" if option.get("unverified") else ""
        )
        out.append(f"  {option['option']:<24} {option['status']}{mark}")
    out += ["", "Actions: " + (", ".join(result["actions"]) or "none")]
    # Why a repeat test, and when (the interval its source gives).
    for item in result.get("action_details", []):
        if item["code"] == "confirm-bcr-abl1":
            out.append(f"  - {item['code']}: {item['detail']}")
    if result.get("unverified_actions"):
        out.append(
            "UNVERIFIED (rest only on U-tagged knowledge): "
            + ", ".join(
                f"{u['action']} ({u['option']}{'' if u['proposed'] else ', not proposed'})"
                for u in result["unverified_actions"]
            )
        )
    if result["insufficient_data"]:
        out += ["", "Insufficient data (conclusions not drawn)"]
        for item in result["insufficient_data"]:
            out.append(f"  - {item['conclusion']}: needs {item['missing']}")
    k = result["knowledge"]
    out += [
        "",
        f"Knowledge {k['version']} ({k['digest'][:19]}...), evaluation {result['evaluation_id']}",
        DISCLAIMER,
    ]
    return "\n".join(out)


def _category(
    value: str | None,
    basis: list[dict[str, Any]],
    tfr: dict[str, Any] | None = None,
    not_applicable: dict[str, Any] | None = None,
) -> str:
    if value is None and tfr:
        return "none (off therapy after stopping for treatment-free remission: no milestone)"
    if value is None and not_applicable:
        return f"none (IS milestones do not apply to the {not_applicable['transcript']} transcript)"
    if value is None:
        return "none (no milestone of this edition applies to the latest result)"
    why = ", ".join(f"{b['category']} by {b['basis']} {b['detail']}" for b in basis)
    return f"{value}  ({why})"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
