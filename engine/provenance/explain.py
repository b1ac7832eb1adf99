"""`cmlkb explain`: why a drug has its status (or, with --why-not, why it is not a
candidate), as a derivation tree down to the case data, the rules, the knowledge statements
and their published sources.

The tree is read from the evaluation's provenance graph by the SPARQL queries
queries/explain/drug-why.rq (or drug-why-not.rq) and conclusion-fields.rq, never from the
Python objects of the reasoner: from the audit store for an evaluation id, or from an
in-memory store holding the provenance of a case file evaluated on the spot (not stored).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmlkb.errors import InvalidInput
from cmlkb.provenance.graph import provenance_graph
from cmlkb.provenance.queries import run_query


def graph_into(store: Any, evaluation: Any, kb: Any) -> ox.NamedNode:
    """Load the provenance graph of `evaluation` into an AuditStore (an in-memory one for
    a case file explained without storing it) as the graph eval:<id>; return its name."""
    graph = provenance_graph(evaluation, kb)
    store.store.load(graph.ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=graph.name)
    return graph.name


def explanation(
    store: Any, graph: ox.NamedNode, drug: str, why_not: bool = False, *, root: Path
) -> dict:
    """The explanation of a drug in the evaluation stored as `graph` (JSON-ready), read by
    the explain queries under the knowledge root `root`."""
    name = "drug-why-not" if why_not else "drug-why"
    _, rows = run_query(store, name, {"evaluation": graph, "drug": ox.Literal(drug)}, root)
    _, fields = run_query(store, "conclusion-fields", {"evaluation": graph}, root)
    _, summary = run_query(store, "summary", {"evaluation": graph}, root)
    statuses = {r["drug"]: r["status"] for r in summary}
    if drug not in statuses:
        raise InvalidInput(
            f"--drug {drug!r}: not a drug of this evaluation; expected one of "
            + ", ".join(sorted(statuses))
        )
    head = summary[0]
    facts: dict[str, dict[str, Any]] = {}
    for f in fields:
        facts.setdefault(f["node"], {})[f["field"]] = f["value"]

    firings: dict[str, dict[str, Any]] = {}  # firing -> rule and premises
    by_node: dict[str, list[str]] = {}  # conclusion -> firings
    premises: dict[str, dict[str, Any]] = {}  # premise -> description
    reasons: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["reason"] not in reasons:
            reasons[r["reason"]] = {"effect": r["effect"], "decisive": bool(r["decisive"])}
        firing = firings.setdefault(
            r["firing"],
            {
                "rule": {
                    "id": r["ruleId"],
                    "version": r["ruleVersion"],
                    "title": r["ruleTitle"],
                    "edition": r["edition"],
                    "section": r["section"],
                    "source": r["ruleSource"],
                    "source_title": r["ruleSourceTitle"],
                },
                "premises": [],
            },
        )
        if r["firing"] not in by_node.setdefault(r["node"], []):
            by_node[r["node"]].append(r["firing"])
        if r["premise"] not in firing["premises"]:
            firing["premises"].append(r["premise"])
        p = premises.setdefault(r["premise"], {"type": r["premiseType"], "sources": {}})
        if r["premiseType"] == "case":
            p.update(
                json_path=r["jsonPath"],
                value=_load(r["jsonValue"]),
                context=_load(r["contextValue"]),
            )
        elif r["premiseType"] == "options":
            p.update(value=_load(r["jsonValue"]))
        elif r["premiseType"] == "knowledge":
            p.update(statement=r["premise"], evidence=r["evidence"])
            if r["source"]:
                p["sources"][r["source"]] = {
                    "source": r["source"],
                    "title": r["sourceTitle"],
                    "doi": r["doi"],
                    "pmid": r["pmid"],
                    "url": r["url"],
                }

    def conclusion(node: str, seen: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"conclusion": node, "fact": facts.get(node, {}), "derivations": []}
        for firing_id in by_node.get(node, []):
            firing = firings[firing_id]
            items = []
            for pid in firing["premises"]:
                p = premises[pid]
                if p["type"] == "conclusion":
                    items.append(
                        {
                            "type": "conclusion",
                            **(
                                conclusion(pid, seen | {node})
                                if pid not in seen
                                else {
                                    "conclusion": pid,
                                    "fact": facts.get(pid, {}),
                                    "derivations": [],
                                }
                            ),
                        }
                    )
                else:
                    item = {k: v for k, v in p.items() if k != "sources"}
                    if p["type"] == "knowledge":
                        item["sources"] = [p["sources"][k] for k in sorted(p["sources"])]
                    items.append(item)
            out["derivations"].append({"rule": firing["rule"], "premises": items})
        return out

    status = statuses[drug]
    ordered = sorted(reasons.items(), key=lambda kv: (not kv[1]["decisive"], kv[0]))
    return {
        "evaluation_id": head["evaluationId"],
        "case": head["case"],
        "knowledge": {"version": head["knowledgeVersion"], "digest": head["knowledgeDigest"]},
        "drug": drug,
        "status": status,
        "why_not": why_not,
        "reasons": [
            dict(conclusion(node, frozenset()), effect=info["effect"], decisive=info["decisive"])
            for node, info in ordered
        ],
    }


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _value_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _source_text(s: dict[str, Any]) -> str:
    ident = (
        f"doi:{s['doi']}"
        if s.get("doi")
        else f"PMID {s['pmid']}"
        if s.get("pmid")
        else s.get("url") or ""
    )
    title = s.get("title") or ""
    return f"{s['source']} {title}".strip() + (f" ({ident})" if ident else "")


def _fact_text(fact: dict[str, Any]) -> str:
    kind = fact.get("kind", "")
    shown = {k: v for k, v in fact.items() if k not in ("kind", "rank")}
    if "effect" in shown and "reason" in shown:
        return f"{shown['effect']}: {shown['reason']} ({shown.get('detail', '')})"
    main = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:5])
    return f"{kind} {main}".strip()


def _rule_text(rule: dict[str, Any]) -> str:
    where = ", ".join(x for x in (rule.get("edition"), rule.get("section")) if x)
    return f"rule {rule['id']} v{rule['version']}" + (f" ({where})" if where else "")


def render_text(exp: dict[str, Any]) -> str:
    lines = [
        f"{exp['drug']}: {exp['status'].upper()} (evaluation {exp['evaluation_id']}, "
        f"case {exp['case']}, knowledge {exp['knowledge']['version']})"
    ]
    if exp["why_not"]:
        if not exp["reasons"]:
            lines.append(f"  nothing holds {exp['drug']} back: no reason stronger than candidate")
        else:
            lines.append(
                f"  why not a candidate: {len(exp['reasons'])} reason(s) stronger than candidate"
            )

    def walk(node: dict[str, Any], indent: int, label: str) -> None:
        pad = " " * indent
        for d in node["derivations"] or [{"rule": None, "premises": []}]:
            rule = _rule_text(d["rule"]) if d["rule"] else "(no firing)"
            lines.append(f"{pad}{label} <- {rule}")
            for p in d["premises"]:
                if p["type"] == "case":
                    ctx = f" (in {_value_text(p['context'])})" if p.get("context") else ""
                    where = p["json_path"] or "(the case)"
                    lines.append(f"{pad}   case data: {where} = {_value_text(p['value'])}{ctx}")
                elif p["type"] == "options":
                    lines.append(f"{pad}   evaluation options: {_value_text(p['value'])}")
                elif p["type"] == "knowledge":
                    ev = f" [{p['evidence']}]" if p.get("evidence") else ""
                    srcs = "; ".join(_source_text(s) for s in p.get("sources", []))
                    lines.append(
                        f"{pad}   knowledge: {p['statement']}{ev}"
                        + (f" - sources: {srcs}" if srcs else "")
                    )
                else:
                    walk(p, indent + 3, "derived: " + _fact_text(p["fact"]))

    for reason in exp["reasons"]:
        if reason["decisive"] or exp["why_not"]:
            walk(reason, 2, _fact_text(reason["fact"]))
            continue
        rules = ", ".join(_rule_text(d["rule"]) for d in reason["derivations"])
        lines.append(f"  also (weaker, not decisive): {_fact_text(reason['fact'])} <- {rules}")
    return "\n".join(lines) + "\n"
