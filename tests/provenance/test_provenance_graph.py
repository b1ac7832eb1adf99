"""Provenance graphs (PROV-O) of the example cases pass the completeness shapes, and the
shapes really catch an incomplete graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import PROV

from cmlkb.knowledge.base import load_knowledge
from cmlkb.knowledge.namespaces import CML
from cmlkb.pipeline import evaluate_case, selection_for, validated_cases
from cmlkb.provenance.graph import ProvenanceGraph, evaluation_graph, to_rdflib, validate_provenance

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _graph(kb, path: Path) -> ProvenanceGraph:
    case = validated_cases([path], kb)[0]
    return evaluation_graph(evaluate_case(case, kb, selection_for(kb)), kb)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_graph_conforms(kb, path):
    ok, text = validate_provenance(_graph(kb, path), kb.root)
    assert ok, text


def test_shapes_catch_a_dangling_premise_and_a_missing_json_path(kb):
    g = to_rdflib(_graph(kb, EXAMPLES[3]))
    firing = next(g.subjects(PROV.qualifiedAssociation, None))
    g.add((firing, PROV.used, URIRef("https://example.org/nowhere")))
    fact = next(g.subjects(CML.jsonPath, None))
    g.remove((fact, CML.jsonPath, None))
    ok, text = validate_provenance(g, kb.root)
    assert not ok
    assert "no dangling derivation" in text and "JSON path" in text


def test_t315i_case_fact_carries_path_and_value(kb):
    g = to_rdflib(_graph(kb, EXAMPLES[3]))
    paths = {str(o) for o in g.objects(None, CML.jsonPath)}
    assert "mutation_analyses[0].variants[0]" in paths
    values = {str(o) for o in g.objects(None, CML.jsonValue)}
    assert '{"protein":"T315I","vaf_percent":29.0}' in values
