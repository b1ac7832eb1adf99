"""Build once (issue 10 item 4): the case RDF the validation builds is the one provenance
reads its case IRIs from; the provenance graph of an evaluation is built once and shared by
the store and the export; one canonical JSON form, with stores written before it still
replaying and verifying."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

import cmlkb.case.read as read
import cmlkb.case.validation as validation
import cmlkb.provenance.graph as provgraph
from cmlkb.case.read import canonical_json, input_digest, iri_of, parse_json
from cmlkb.errors import CmlkbError
from cmlkb.interfaces.audit import evaluate_again
from cmlkb.interfaces.cli import main
from cmlkb.knowledge.base import load_knowledge
from cmlkb.knowledge.namespaces import CML
from cmlkb.pipeline import (
    ValidCase,
    evaluate_case,
    render,
    selection_for,
    store_evaluations,
    validated,
)
from cmlkb.provenance.audit import replay, verify
from cmlkb.provenance.store import INPUT_JSON, open_store

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases"
EXAMPLES = sorted(CASES.glob("*.json"))
ONE = CASES / "01-optimal-responder.json"
T315I = CASES / "04-t315i-after-dasatinib-failure-cardiovascular.json"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_evaluate_turtle_with_store_builds_each_graph_once(monkeypatch, tmp_path, capsys):
    """`cmlkb evaluate --format turtle --store`: one case RDF per case (for SHACL), one
    provenance graph per evaluation (for the store and the export), no case IRI minted
    again by provenance."""
    case_rdf_calls = _counting(monkeypatch, validation, "case_rdf")
    to_rdf_calls = _counting(monkeypatch, read, "to_rdf")
    graph_calls = _counting(monkeypatch, provgraph, "evaluation_graph")
    minted = _counting(monkeypatch, provgraph, "iri_of")
    store = tmp_path / "store"
    argv = ["evaluate", str(ONE), str(T315I), "--format", "turtle", "--store", str(store)]
    assert main(argv) == 0
    assert len(case_rdf_calls) == 2
    assert to_rdf_calls == []
    assert len(graph_calls) == 2
    assert minted == []
    exported = ox.Store()  # both sides in pyoxigraph's canonical literal forms
    exported.load(capsys.readouterr().out.encode(), format=ox.RdfFormat.TURTLE)
    exported_triples = {(q.subject, q.predicate, q.object) for q in exported}
    with open_store(store) as audit:
        assert len(audit.evaluation_ids()) == 2
        stored = {(q.subject, q.predicate, q.object) for q in audit.store}
    # what was stored is what was exported
    assert exported_triples and exported_triples <= stored


def test_render_does_not_change_the_cached_graphs(kb):
    selection = selection_for(kb)
    evaluations = [evaluate_case(v, kb, selection) for v in validated([ONE, T315I], kb)]
    sizes = [len(provgraph.provenance_graph(e, kb)) for e in evaluations]
    merged = ox.Store()
    merged.load(render(evaluations, kb, "turtle"), format=ox.RdfFormat.TURTLE)
    assert len(merged) >= max(sizes)
    assert [len(provgraph.provenance_graph(e, kb)) for e in evaluations] == sizes
    assert provgraph.provenance_graph(evaluations[0], kb) is evaluations[0].provenance


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_validation_case_iris_are_the_minted_ones(kb, path):
    """The IRIs kept from the validation's RDF are the ones iri_of mints, every object of
    the case has one, and the provenance graph is the same with or without them."""
    (valid,) = validated([path], kb)
    assert isinstance(valid, ValidCase) and valid.rdf is not None
    case_id = str(valid.case["id"])
    for json_path, iri in valid.rdf.iris.items():
        assert iri == iri_of(case_id, json_path)
        assert (iri, None, None) in valid.rdf.graph or (None, None, iri) in valid.rdf.graph
    assert valid.rdf.iris[""] == iri_of(case_id, "")
    selection = selection_for(kb)
    with_rdf = evaluate_case(valid, kb, selection, evaluation_id="e1")
    without = evaluate_case(valid.case, kb, selection, evaluation_id="e1")
    assert with_rdf.case_rdf is valid.rdf and without.case_rdf is None
    without.started_at = with_rdf.started_at
    assert set(provgraph.evaluation_graph(with_rdf, kb).triples()) == set(
        provgraph.evaluation_graph(without, kb).triples()
    )


# ------------------------------------------------------------------ one canonical JSON


def _old_input_digest(case):
    """input_digest as it was before one canonical JSON form (digest form 1)."""
    text = json.dumps(case, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_one_canonical_json_for_storage_and_digest():
    case = {"id": "é-1", "b": [Decimal("0.10"), 3, True, None], "a": {"z": "x", "y": 1}}
    text = canonical_json(case)
    assert text == '{"a":{"y":1,"z":"x"},"b":[0.10,3,true,null],"id":"é-1"}'
    assert parse_json(text) == case
    assert input_digest(case) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert input_digest(case, 1) == _old_input_digest(case)
    assert input_digest(case, 1) != input_digest(case)  # Decimal and non-ASCII differ
    assert provgraph.canonical_json is canonical_json  # provenance uses the same function


def test_new_records_say_their_digest_form(kb, tmp_path):
    store = tmp_path / "store"
    assert main(["evaluate", str(ONE), "--format", "json", "--store", str(store)]) == 0
    with open_store(store) as audit:
        (ident,) = audit.evaluation_ids()
        graph = audit.find(ident)
        version = audit.optional_literal(graph, ox.NamedNode(f"{CML}inputDigestVersion"))
        assert version == str(read.INPUT_DIGEST_VERSION)
        case = audit.stored_input(graph)
        assert audit.literal(graph, ox.NamedNode(f"{CML}inputDigest")) == (input_digest(case))


def test_store_written_before_the_change_replays_and_verifies(kb, tmp_path):
    """A record as written before one canonical JSON: the input digest in the old form and
    no cml:inputDigestVersion. It still replays (identical) and the chain verifies; a
    stored input that no longer matches its old-form digest is still caught."""
    selection = selection_for(kb)
    path = tmp_path / "old-store"
    with open_store(path) as audit:
        for valid in validated([ONE, T315I], kb):
            evaluation = evaluate_case(valid, kb, selection)
            evaluation.input_digest = _old_input_digest(evaluation.case)
            assert evaluation.input_digest != input_digest(evaluation.case)
            graph = provgraph.evaluation_graph(evaluation, kb)
            version = ox.NamedNode(str(CML.inputDigestVersion))
            old = [t for t in graph.triples() if t.predicate != version]
            assert len(old) == len(graph) - 1
            text = "".join(f"{t} .\n" for t in old)
            # the graph the old code wrote
            evaluation.provenance = dataclasses.replace(graph, ntriples=text, size=len(old))
            audit.add(evaluation, kb)
    with open_store(path) as audit:
        ids = audit.evaluation_ids()
        assert len(ids) == 2
        for ident in ids:
            graph = audit.find(ident)
            assert audit.optional_literal(graph, ox.NamedNode(f"{CML}inputDigestVersion")) is None
            report = replay(audit, ident, evaluate_again)
            assert report.identical, report.as_json()
        count, problems = verify(audit)
        assert count == 2 and problems == []
    assert main(["replay", ids[0], "--store", str(path)]) == 0
    assert main(["audit", "verify", "--store", str(path)]) == 0
    with open_store(path) as audit:  # the old-form digest still guards the stored input
        graph = audit.find(ids[0])
        (quad,) = list(audit.store.quads_for_pattern(graph, INPUT_JSON, None, graph))
        case = audit.stored_input(graph)
        case["id"] = case["id"] + "-edited"
        audit.store.remove(quad)
        audit.store.add(ox.Quad(graph, INPUT_JSON, ox.Literal(canonical_json(case)), graph))
        with pytest.raises(CmlkbError, match="does not match its input digest"):
            replay(audit, ids[0], evaluate_again)


def _old_canonical_json(value):
    """provenance's canonical_json before it moved to cmlkb.case.read (the form of the
    cml:inputJson and cml:resultJson of existing stores)."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return (
            "{"
            + ",".join(
                f"{json.dumps(str(k), ensure_ascii=False)}:{_old_canonical_json(v)}"
                for k, v in items
            )
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(_old_canonical_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def test_canonical_json_unchanged_from_the_stored_form(kb):
    selection = selection_for(kb)
    for valid in validated(EXAMPLES, kb):
        assert canonical_json(valid.case) == _old_canonical_json(valid.case)
        result = evaluate_case(valid, kb, selection).result
        assert canonical_json(result) == _old_canonical_json(result)
    odd = {
        "a": [1.5, float("inf"), True, False, None, 10**30, 'é\u2028\x00"\\', (1, 2)],
        "b": [Decimal("1E+3"), Decimal("-0.00"), Path("x"), {"z": {}}, []],
        "é": -0.0,
    }
    assert canonical_json(odd) == _old_canonical_json(odd)


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_stored_graph_kept_only_for_a_graph_export(kb, tmp_path, fmt):
    selection = selection_for(kb)
    evaluations = [evaluate_case(v, kb, selection) for v in validated([ONE], kb)]
    with open_store(tmp_path / "store") as audit:
        store_evaluations(evaluations, kb, audit, fmt)
        assert len(audit.evaluation_ids()) == 1
    kept = evaluations[0].provenance
    assert (kept is not None) == (fmt == "turtle")
