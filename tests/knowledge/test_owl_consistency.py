"""OWL consistency with HermiT (cmlkb.knowledge.owl) on tiny graphs, and the no-Java fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef, namespace

from cmlkb.knowledge import owl
from cmlkb.knowledge.namespaces import CML, DRUG
from cmlkb.reasoning.check import owl_findings


@pytest.fixture(scope="module")
def schema(project_root: Path) -> Graph:
    return Graph().parse(project_root / "ontology" / "cmlkb.ttl", format="turtle")


def with_triples(schema: Graph, *triples: tuple) -> Graph:
    graph = Graph()
    for triple in schema:
        graph.add(triple)
    for triple in triples:
        graph.add(triple)
    return graph


@pytest.mark.java
def test_schema_with_a_well_typed_dose_is_consistent(schema: Graph) -> None:
    stmt = URIRef("https://w3id.org/cmlkb/statement/dose")
    graph = with_triples(
        schema,
        (stmt, namespace.RDF.type, CML.DoseStatement),
        (stmt, CML.doseMg, Literal("400.0", datatype=namespace.XSD.decimal)),
    )
    result = owl.check_consistency(graph)
    assert result.consistent, result.detail


@pytest.mark.java
def test_a_string_where_a_decimal_is_required_is_inconsistent(schema: Graph) -> None:
    stmt = URIRef("https://w3id.org/cmlkb/statement/dose")
    graph = with_triples(schema, (stmt, CML.doseMg, Literal("400 mg")))
    result = owl.check_consistency(graph)
    assert not result.consistent
    findings = owl_findings(graph)
    assert [f.severity for f in findings if f.check == "owl"].count("violation") == 1


def test_datatypes_outside_owl2_are_left_out_and_reported() -> None:
    graph = Graph()
    graph.add(
        (CML.startDate, URIRef("http://www.w3.org/2000/01/rdf-schema#range"), namespace.XSD.date)
    )
    graph.add((DRUG.x, CML.doseMg, Literal("1.0", datatype=namespace.XSD.decimal)))
    graph.add(
        (
            DRUG.x,
            URIRef("http://purl.org/dc/terms/date"),
            Literal("2020", datatype=namespace.XSD.gYear),
        )
    )
    kept, notes = owl.hermit_compatible(graph)
    assert len(kept) == 1
    assert any("xsd:gYear" in n for n in notes) and any("startDate" in n for n in notes)


def test_without_java_the_check_is_a_warning_not_a_silent_pass(
    monkeypatch: pytest.MonkeyPatch, schema: Graph
) -> None:
    monkeypatch.setattr(owl, "java_executable", lambda: None)
    [finding] = owl_findings(schema)
    assert finding.severity == "warning" and finding.check == "owl"
    assert "NOT checked" in finding.message and "Java" in finding.message
