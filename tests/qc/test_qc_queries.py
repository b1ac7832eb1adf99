"""The QC queries of queries/qc on small example graphs.

`fixtures/clean.ttl` (with the schema) must make every query return no row. Every query
has a fixture of its own name, loaded on top of the clean graph, whose `# focus:` header
lines list exactly the entities the query must report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from cmlkb.errors import CmlkbError
from cmlkb.knowledge.namespaces import bind_prefixes
from cmlkb.reasoning.check import QcQuery, parse_qc_query, qc_findings, qc_queries, run_qc_query

FIXTURES = Path(__file__).parent / "fixtures"
QUERIES = qc_queries(Path(__file__).resolve().parents[2] / "queries" / "qc")


def load(project_root: Path, *fixtures: Path) -> Graph:
    graph = bind_prefixes(Graph())
    graph.parse(project_root / "ontology" / "cmlkb.ttl", format="turtle")
    for fixture in fixtures:
        graph.parse(fixture, format="turtle")
    return graph


def expected_focus(fixture: Path) -> set[str]:
    text = fixture.read_text(encoding="utf-8")
    return set(re.findall(r"^#\s*focus:\s*(\S+)", text, flags=re.MULTILINE))


def test_the_required_checks_exist() -> None:
    names = {q.name for q in QUERIES}
    assert {
        "drug-without-dose",
        "variant-without-hgvs-protein",
        "source-without-locator",
        "unverified-exclusion",
        "undeclared-source",
        "duplicate-notation",
        "undeclared-reference",
        "milestone-band-gap",
        "milestone-band-overlap",
        "guideline-without-milestones",
        "sensitivity-drug-not-tki",
    } <= names


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_header_and_result_shape(query: QcQuery) -> None:
    assert query.title and query.why
    assert query.severity in ("violation", "warning")
    select = re.search(r"SELECT\s+(DISTINCT\s+)?([^{]*?)\s+WHERE", query.text)
    assert select, f"{query.path.name}: no SELECT ... WHERE"
    columns = select.group(2).split()
    assert columns[:2] == ["?focus", "?message"]
    assert set(columns) <= {"?focus", "?message", "?detail"}


def test_clean_graph_has_no_finding(project_root: Path) -> None:
    graph = load(project_root, FIXTURES / "clean.ttl")
    assert qc_findings(graph, QUERIES) == []


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_query_catches_its_fixture(project_root: Path, query: QcQuery) -> None:
    fixture = FIXTURES / f"{query.name}.ttl"
    assert fixture.is_file(), f"add tests/qc/fixtures/{query.name}.ttl for this query"
    graph = load(project_root, FIXTURES / "clean.ttl", fixture)
    findings = run_qc_query(graph, query)
    assert {f.focus for f in findings} == expected_focus(fixture)
    assert all(f.check == f"qc:{query.name}" and f.severity == query.severity for f in findings)
    assert all(f.message and "http" not in f.focus for f in findings)


def test_messages_name_the_fix(project_root: Path) -> None:
    graph = load(project_root, FIXTURES / "clean.ttl", FIXTURES / "undeclared-reference.ttl")
    [finding] = run_qc_query(graph, next(q for q in QUERIES if q.name == "undeclared-reference"))
    assert "drug:dasatnib" in finding.message and "fix the IRI" in finding.message


def test_header_is_required(tmp_path: Path) -> None:
    broken = tmp_path / "no-header.rq"
    broken.write_text("SELECT ?focus ?message WHERE { ?focus ?p ?message }\n")
    with pytest.raises(CmlkbError, match="title"):
        parse_qc_query(broken)
