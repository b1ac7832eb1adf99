"""The provenance graph as pyoxigraph terms (issue 11 item 2): evaluating, storing,
explaining and exporting never build the rdflib view of the knowledge; the graph's node
IRIs are the ones cmlkb.knowledge.namespaces mints; the Turtle and JSON-LD exports hold
exactly the graph's triples, with the project's prefixes; rdflib meets the graph only at
the pySHACL edge."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

import cmlkb.knowledge.base as base
import cmlkb.provenance.graph as provgraph
from cmlkb.knowledge.base import load_knowledge_from
from cmlkb.knowledge.namespaces import CML, PREFIXES, evaluation_iri, provenance_iris
from cmlkb.pipeline import evaluate_case, render, selection_for, store_evaluations, validated
from cmlkb.provenance.explain import explanation, graph_into
from cmlkb.provenance.graph import EXPORT_PREFIXES, export, provenance_graph, to_rdflib
from cmlkb.provenance.store import memory_store, open_store

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases"
ONE = CASES / "01-optimal-responder.json"
T315I = CASES / "04-t315i-after-dasatinib-failure-cardiovascular.json"
COMPOUND = CASES / "05-compound-t315i-transplant.json"
NT = ox.RdfFormat.N_TRIPLES


def _canonical(triples) -> set[str]:
    """Triples as pyoxigraph's store keeps them (typed literals in canonical form)."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return {str(q.triple) for q in store}


def test_evaluate_store_explain_render_never_build_the_rdflib_knowledge(monkeypatch, tmp_path):
    """From a freshly loaded knowledge base (its per-digest provenance copies forgotten):
    validation, evaluation, the memory and on-disk stores, explain and every output format
    but rdflib's own never parse the knowledge with rdflib."""

    def refuse(files):
        raise AssertionError("the rdflib view of the knowledge was built")

    monkeypatch.setattr(base, "parse_turtle_files", refuse)
    monkeypatch.setattr(provgraph, "_copies", {})
    kb = load_knowledge_from(ROOT)
    selection = selection_for(kb)
    evaluations = [evaluate_case(v, kb, selection) for v in validated([ONE, T315I], kb)]
    store_evaluations(evaluations, kb, memory_store(), "json")
    with open_store(tmp_path / "store") as disk:
        store_evaluations(evaluations, kb, disk, "turtle")
        assert len(disk.evaluation_ids()) == 2
    for fmt in ("json", "turtle", "jsonld", "text", "patient"):
        assert render(evaluations, kb, fmt)
    store = memory_store()
    graph = graph_into(store, evaluations[1], kb)
    assert explanation(store, graph, "dasatinib", root=kb.root)["status"] == "excluded"
    assert kb._graph is None
    with pytest.raises(AssertionError, match="rdflib view"):
        kb.graph  # noqa: B018 - the guard above is live


def test_the_graph_nodes_are_the_minted_iris(kb):
    (valid,) = validated([T315I], kb)
    evaluation = evaluate_case(valid, kb, selection_for(kb), evaluation_id="minted 1")
    graph = provenance_graph(evaluation, kb)
    iris = provenance_iris("minted 1")
    assert graph.name == ox.NamedNode(str(evaluation_iri("minted 1")))
    assert iris.evaluation == graph.name.value
    subjects = {t.subject.value for t in graph.triples()}
    derived = [r for r in evaluation.inference.records.values() if r.origin == "derived"]
    assert derived
    for record in derived:
        assert iris.conclusion(record.fid) in subjects
        for n, _ in enumerate(record.derivations):
            assert iris.firing(record.fid, n) in subjects
            assert iris.association(record.fid, n) in subjects
    for entry in evaluation.result["drugs"]:
        assert iris.status(entry["drug"]) in subjects
    assert iris.status("a b/c") == f"{graph.name.value}/status/a%20b%2Fc"
    options = {
        t.subject.value
        for t in graph.triples()
        if t.object == ox.NamedNode(str(CML.EvaluationOptions))
    }
    assert options <= {iris.options}


def test_each_triple_once_and_the_graph_is_reused(kb):
    (valid,) = validated([COMPOUND], kb)
    evaluation = evaluate_case(valid, kb, selection_for(kb))
    graph = provenance_graph(evaluation, kb)
    lines = graph.ntriples.splitlines()
    assert len(lines) == len(set(lines)) == len(graph) == len(graph.triples()) > 1000
    assert provenance_graph(evaluation, kb) is graph
    again = provgraph.evaluation_graph(evaluation, kb)
    assert again == graph and again is not graph  # built anew: the same text


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_exports_hold_exactly_the_graph(kb, fmt):
    """Both exports parse (pyoxigraph and rdflib) to exactly the triples of the evaluations'
    graphs; Turtle declares the project prefixes and those of the W3C vocabularies; JSON-LD
    gives each node once, its types as @type."""
    selection = selection_for(kb)
    evaluations = [evaluate_case(v, kb, selection) for v in validated([ONE, T315I], kb)]
    graphs = [provenance_graph(e, kb) for e in evaluations]
    expected = _canonical(t for g in graphs for t in g.triples())
    text = render(evaluations, kb, fmt)
    assert text == export(graphs, fmt)  # the same on every call
    ox_format = ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.JSON_LD
    assert _canonical(q.triple for q in ox.parse(text, format=ox_format)) == expected
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        rdflib_graph = Graph().parse(data=text, format="turtle" if fmt == "turtle" else "json-ld")
    assert len(rdflib_graph) == len(expected)
    if fmt == "turtle":
        assert set(EXPORT_PREFIXES) == {*PREFIXES, "fact", "prov", "dcterms", "skos", "rdfs", "xsd"}
        for prefix, namespace in EXPORT_PREFIXES.items():
            assert f"@prefix {prefix}: <{namespace}> ." in text
    else:
        nodes = json.loads(text)
        ids = [n["@id"] for n in nodes]
        assert len(ids) == len(set(ids))
        ev = next(n for n in nodes if n["@id"] == graphs[0].name.value)
        assert str(CML.Evaluation) in ev["@type"]


def test_the_rdflib_edge_gives_the_same_triples(kb):
    (valid,) = validated([T315I], kb)
    graph = provenance_graph(evaluate_case(valid, kb, selection_for(kb)), kb)
    data = to_rdflib(graph)
    assert len(data) == len(graph)
    back = ox.parse(data.serialize(format="nt", encoding="utf-8"), format=NT)
    assert _canonical(q.triple for q in back) == _canonical(graph.triples())
    assert str(dict(data.namespaces())["stmt"]) == str(PREFIXES["stmt"])
