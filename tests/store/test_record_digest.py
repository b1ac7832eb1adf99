"""The record digest after issue 11 (the provenance graph built as pyoxigraph terms, no
rdflib round trip): records written before still verify and the chain continues after
them; a record gets exactly the digest the earlier code gave the same triples; a record
prepared in another process (pickled) gets the digest of one added in place; the
canonical lines are those of a pyoxigraph store for every kind of literal."""

from __future__ import annotations

import dataclasses
import gzip
import pickle
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmlkb.case.read import canonical_json
from cmlkb.knowledge.namespaces import evaluation_iri
from cmlkb.pipeline import evaluate_case, selection_for, validated
from cmlkb.provenance.audit import verify
from cmlkb.provenance.graph import provenance_graph, to_rdflib
from cmlkb.provenance.store import (
    GENESIS,
    INPUT_JSON,
    PREVIOUS,
    RESULT_JSON,
    SEQUENCE,
    XSD_INTEGER,
    _canonical,
    memory_store,
    open_store,
    prepare_record,
    record_digest,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.json"))
# Two records (examples 06 and 01) as the store code before issue 11 wrote them (main at
# 808c044: rdflib graph -> N-Triples -> pyoxigraph), its records and index as N-Quads,
# without the knowledge graphs.
OLD_RECORDS = Path(__file__).parent / "data" / "old-records.nq.gz"
NT = ox.RdfFormat.N_TRIPLES


def _digest_as_before(evaluation, kb, sequence: int = 1, previous: str = GENESIS) -> str:
    """The record digest as the code before issue 11 computed it from the same graph: the
    rdflib graph serialised to N-Triples, parsed by pyoxigraph, the input, result and chain
    triples added, canonicalised by a scratch store with Store.extend."""
    g = ox.NamedNode(str(evaluation_iri(evaluation.evaluation_id)))
    data = to_rdflib(provenance_graph(evaluation, kb)).serialize(format="nt", encoding="utf-8")
    triples = [ox.Triple(t.subject, t.predicate, t.object) for t in ox.parse(data, format=NT)]
    triples += [
        ox.Triple(g, INPUT_JSON, ox.Literal(canonical_json(evaluation.case))),
        ox.Triple(g, RESULT_JSON, ox.Literal(canonical_json(evaluation.result))),
        ox.Triple(g, SEQUENCE, ox.Literal(str(sequence), datatype=XSD_INTEGER)),
        ox.Triple(g, PREVIOUS, ox.Literal(previous)),
    ]
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    lines = [f"{ox.Triple(q.subject, q.predicate, q.object)} ." for q in scratch]
    return record_digest(lines, previous)


@pytest.fixture(scope="module")
def evaluations(kb):
    selection = selection_for(kb)
    return [evaluate_case(v, kb, selection) for v in validated(EXAMPLES, kb)]


def test_every_example_gets_the_digest_the_earlier_code_gave(kb, evaluations):
    for evaluation in evaluations:
        store = memory_store()
        assert store.add(evaluation, kb) == _digest_as_before(evaluation, kb)


def test_a_record_prepared_elsewhere_gets_the_same_digest(kb, evaluations):
    """prepare_record is plain data (a worker process pickles it); appending it gives the
    digest and the stored triples of `add`."""
    here, there = memory_store(), memory_store()
    for evaluation in evaluations[:4]:
        record = pickle.loads(pickle.dumps(prepare_record(evaluation, kb)))
        assert there.append(record, kb) == here.add(evaluation, kb)
    assert here.head() == there.head()
    assert {str(q) for q in here.store} == {str(q) for q in there.store}
    assert verify(there) == (4, [])


def test_records_written_before_still_verify_and_the_chain_continues(kb, evaluations, tmp_path):
    with open_store(tmp_path / "store") as store:
        store.store.load(gzip.decompress(OLD_RECORDS.read_bytes()), format=ox.RdfFormat.N_QUADS)
        count, problems = verify(store)
        assert (count, problems) == (2, [])
        sequence, previous = store.head()
        assert sequence == 2
        store.add(evaluations[0], kb)
        assert verify(store) == (3, [])
        record = store.records()[-1]
        assert (record.sequence, record.previous) == (3, previous)
        # an edit of an old record is still caught
        old = store.records()[0]
        quad = next(iter(store.store.quads_for_pattern(None, INPUT_JSON, None, old.graph)))
        store.store.remove(quad)
        _, problems = verify(store)
        assert [p.kind for p in problems] == ["edited"]


ODD = (
    '<http://e/s> <http://e/p> "plain" .\n'
    '<http://e/s> <http://e/p> "quote \\" and \\\\ and \\n and \\t and é \\u0001" .\n'
    '<http://e/s> <http://e/p> "looks typed \\"^^<x> and tagged \\"@en and _:b" .\n'
    '<http://e/s> <http://e/p> "29.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    '<http://e/s> <http://e/p> "29"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    '<http://e/s> <http://e/p> "-0.00"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    '<http://e/s> <http://e/p> "007"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    '<http://e/s> <http://e/p> "2026-01-05T10:00:00+00:00"'
    "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
    '<http://e/s> <http://e/p> "2026-01-05"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
    '<http://e/s> <http://e/p> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
    '<http://e/s> <http://e/p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
    '<http://e/s> <http://e/p> "x" .\n'
    '<http://e/s> <http://e/p> "Label"@EN-gb .\n'
    '<http://e/s> <http://e/p> "not a number"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    "<http://e/s> <http://e/p> _:b1 .\n"
    "<http://e/s> <http://e/p> <http://e/o> .\n"
    "<http://e/s> <http://e/p> <http://e/o> .\n"
)


def test_canonical_lines_are_those_of_a_store(kb, evaluations):
    """_canonical (only the lines with a typed or tagged literal or a blank node go through
    a scratch store) gives the lines a store gives for the whole text: odd literals, and
    every example's record."""
    texts = [ODD] + [prepare_record(e, kb).ntriples for e in evaluations]
    for text in texts:
        store = ox.Store()
        store.extend(ox.parse(text, format=NT))  # blank node labels kept
        assert sorted(_canonical(text)) == sorted(f"{q.triple} ." for q in store)
    assert "<http://e/s> <http://e/p> _:b1 ." in _canonical(ODD)
    assert '<http://e/s> <http://e/p> "29"^^<http://www.w3.org/2001/XMLSchema#decimal> .' in (
        _canonical(ODD)
    )


def test_a_record_with_blank_nodes_verifies(kb, evaluations):
    """A blank node in a record (none today; a knowledge copy could bring one) keeps its
    label from the digest to the stored triples, so the chain verifies."""
    record = prepare_record(evaluations[0], kb)
    node = ox.NamedNode(str(evaluation_iri(record.evaluation_id)))
    extra = f'{node} <http://example.org/p> _:b1 .\n_:b1 <http://example.org/q> "x" .\n'
    store = memory_store()
    digest = store.append(dataclasses.replace(record, ntriples=record.ntriples + extra), kb)
    assert verify(store) == (1, [])
    stored = [q for q in store.store if isinstance(q.object, ox.BlankNode)]
    assert len(stored) == 1 and store.index()[node.value][1] == digest
