"""Each case shape and schema rule with valid and invalid examples: every invalid example
(one defect each) must fail FOR ITS REASON: a violation at the recorded JSON path whose
message contains the recorded words, and no violation anywhere else. Warnings are reported
but do not make a case invalid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib.namespace as ns
from rdflib import Graph, Literal, URIRef

from cmlkb.case.read import iri_of, load_case_files
from cmlkb.case.validation import _shacl, validate
from cmlkb.interfaces.cli import main
from cmlkb.knowledge.namespaces import CML
from cmlkb.knowledge.paths import default_root

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "invalid" / "expected.json").read_text())
WARNINGS = json.loads((HERE / "warning" / "expected.json").read_text())
VALID = sorted((HERE / "valid").glob("*.json"))
EXAMPLES = sorted((HERE.parents[2] / "examples" / "cases").glob("*.json"))


def test_enough_distinct_invalid_examples() -> None:
    files = {p.name for p in (HERE / "invalid").glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED), "every invalid example needs an entry in expected.json"
    assert len(files) >= 25
    assert len({e["defect"] for e in EXPECTED.values()}) == len(EXPECTED)


@pytest.mark.parametrize("path", VALID + EXAMPLES, ids=lambda p: p.name)
def test_valid_cases_have_no_problem(path: Path, kb) -> None:
    report = validate(load_case_files([path]), kb)
    assert report.problems == [], [p.message for p in report.problems]
    assert report.ok and len(report.cases) == 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_case_fails_for_its_reason(name: str, kb) -> None:
    want = EXPECTED[name]
    report = validate(load_case_files([HERE / "invalid" / name]), kb)
    assert not report.ok
    assert report.cases == {}
    paths = {p.path for p in report.violations}
    assert paths == {want["path"]}, [p.message for p in report.violations]
    messages = [p.message for p in report.violations]
    assert any(want["contains"] in m for m in messages), messages


@pytest.mark.parametrize("name", sorted(EXPECTED)[:: max(1, len(EXPECTED) // 8)])
def test_invalid_case_exits_2_without_traceback(name: str, cli_kb, capsys) -> None:
    code = main(["validate", str(HERE / "invalid" / name)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    want = EXPECTED[name]
    line = next(x for x in out.splitlines() if f"({name}): " in x)
    assert (want["path"] or "the case") in line and "found" in line and "expected" in line


@pytest.mark.parametrize("name", sorted(WARNINGS))
def test_warning_is_reported_but_does_not_block(name: str, kb) -> None:
    want = WARNINGS[name]
    report = validate(load_case_files([HERE / "warning" / name]), kb)
    assert report.ok, [p.message for p in report.violations]
    assert [p.path for p in report.warnings] == [want["path"]]
    assert want["contains"] in report.warnings[0].message
    assert len(report.cases) == 1


# The shapes also stand alone, for an integrator who writes case RDF directly: checks the
# schema makes first in `cmlkb validate` are repeated as shapes.


def _standalone(graph: Graph) -> set[tuple[str, str]]:
    results = _shacl(graph, default_root())
    return {
        (str(results.value(r, ns.SH.focusNode)), str(results.value(r, ns.SH.resultPath)))
        for r in results.subjects(ns.RDF.type, ns.SH.ValidationResult)
    }


def test_shapes_alone_require_diagnosis_date_and_phase() -> None:
    g = Graph()
    case, diagnosis = iri_of("rdf-only"), iri_of("rdf-only", "diagnosis")
    therapy = iri_of("rdf-only", "therapies[0]")
    g.add((case, ns.RDF.type, CML.Case))
    g.add((case, CML.caseId, Literal("rdf-only")))
    g.add((case, CML.diagnosis, diagnosis))
    g.add((diagnosis, ns.RDF.type, CML.Diagnosis))
    g.add((diagnosis, CML.phaseCode, Literal("chronic-ish")))
    g.add((case, CML.therapy, therapy))
    g.add((therapy, ns.RDF.type, CML.Therapy))
    g.add((therapy, CML.drugCode, Literal("imatinib")))
    g.add((therapy, CML.startDate, Literal("2024-01-01", datatype=ns.XSD.date)))
    found = _standalone(g)
    assert (str(diagnosis), str(CML.date)) in found
    assert (str(diagnosis), str(CML.phaseCode)) in found
    assert (str(case), str(CML.adherence)) in found  # the warning


def test_shapes_alone_require_a_therapy() -> None:
    g = Graph()
    case = URIRef(iri_of("rdf-only"))
    g.add((case, ns.RDF.type, CML.Case))
    g.add((case, CML.caseId, Literal("rdf-only")))
    assert (str(case), str(CML.therapy)) in _standalone(g)
