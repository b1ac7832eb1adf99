"""`cmlkb explain` names the right premises, rule and sources (from the SPARQL queries over
the provenance graph)."""

from __future__ import annotations

import json
from pathlib import Path

from cmlkb.interfaces.cli import main
from cmlkb.knowledge.base import load_knowledge
from cmlkb.pipeline import evaluate_case, selection_for, validated_cases
from cmlkb.provenance.explain import explanation, graph_into, render_text
from cmlkb.provenance.store import memory_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"
T315I = EXAMPLES / "04-t315i-after-dasatinib-failure-cardiovascular.json"


def _explain(path: Path, drug: str, why_not: bool = False) -> dict:
    kb = load_knowledge()
    ev = evaluate_case(validated_cases([path], kb)[0], kb, selection_for(kb))
    store = memory_store()
    return explanation(store, graph_into(store, ev, kb), drug, why_not, root=kb.root)


def _premises(node: dict) -> list[dict]:
    out = []
    for d in node["derivations"]:
        for p in d["premises"]:
            out.append(p)
            if p["type"] == "conclusion":
                out += _premises(p)
    return out


def test_t315i_dasatinib_names_result_rule_statement_and_source():
    exp = _explain(T315I, "dasatinib")
    assert exp["status"] == "excluded"
    mutation = next(r for r in exp["reasons"] if r["fact"].get("reason") == "mutation")
    rule = mutation["derivations"][0]["rule"]
    assert (rule["id"], rule["version"]) == ("drug-reason-mutation", "1")
    case = [p for p in _premises(mutation) if p["type"] == "case"]
    assert case[0]["json_path"] == "mutation_analyses[0].variants[0]"
    assert case[0]["value"]["protein"] == "T315I" and case[0]["value"]["vaf_percent"] == 29.0
    assert case[0]["context"] == {"date": "2022-10-21", "method": "NGS"}
    stmt = [p for p in _premises(mutation) if p["type"] == "knowledge"]
    assert stmt[0]["statement"] == "stmt:sensitivity-T315I-dasatinib"
    assert stmt[0]["evidence"] == "V"
    assert any(s["source"] == "src:nccn-v2-2027" for s in stmt[0]["sources"])
    text = render_text(exp)
    assert "dasatinib: EXCLUDED" in text and "rule drug-reason-mutation v1" in text
    assert "2022-10-21" in text and "NGS" in text and "vaf_percent 29.0" in text


def test_f317l_dasatinib_mutation_reason():
    exp = _explain(EXAMPLES / "03-imatinib-failure-f317l.json", "dasatinib")
    stmts = {
        p["statement"] for r in exp["reasons"] for p in _premises(r) if p["type"] == "knowledge"
    }
    assert "stmt:sensitivity-F317L-dasatinib" in stmts


def test_why_not_lists_only_reasons_stronger_than_candidate():
    exp = _explain(T315I, "ponatinib", why_not=True)
    effects = {r["effect"] for r in exp["reasons"]}
    assert effects and effects <= {"caution", "avoid", "excluded"}
    assert "avoid" in effects


def test_every_reason_of_every_example_reaches_data_or_a_sourced_statement():
    for path in sorted(EXAMPLES.glob("*.json")):
        exp = _explain(path, "imatinib")
        for reason in exp["reasons"]:
            prem = _premises(reason)
            assert any(p["type"] == "case" or p.get("sources") for p in prem), path.name


def test_cli_json_and_text(capsys):
    """(How fast explain is, is measured by `make bench`, not asserted here.)"""
    assert main(["explain", str(T315I), "--drug", "dasatinib", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["drug"] == "dasatinib" and data["status"] == "excluded"
    assert main(["explain", str(T315I), "--drug", "dasatinib"]) == 0
    assert "dasatinib: EXCLUDED" in capsys.readouterr().out
    assert main(["explain", str(T315I), "--drug", "nodrug"]) == 2
