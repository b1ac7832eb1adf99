"""Replay gives identical results; the hash chain detects edited, removed and reordered
records; the auditor's one command lists ponatinib excluded or avoided."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmlkb.interfaces.audit import evaluate_again as pipeline_evaluate
from cmlkb.interfaces.cli import main
from cmlkb.provenance.audit import replay, verify
from cmlkb.provenance.store import RECORD_DIGEST, SEQUENCE, open_store

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "store"
    assert main(["evaluate", *map(str, EXAMPLES), "--store", str(path), "--format", "json"]) == 0
    return path


def _copy(stored: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(stored, target)
    return target


def test_replay_every_example_identical(stored):
    with open_store(stored) as store:
        ids = store.evaluation_ids()
        assert len(ids) == len(EXAMPLES)
        for ident in ids:
            report = replay(store, ident, pipeline_evaluate)
            assert report.identical, report.as_json()


def test_replay_cli_and_verify_pass(stored, capsys):
    with open_store(stored) as store:
        ident = store.evaluation_ids()[0]
    assert main(["replay", ident, "--store", str(stored)]) == 0
    assert main(["audit", "verify", "--store", str(stored)]) == 0
    assert "hash chain intact" in capsys.readouterr().out


def test_auditor_lists_ponatinib_excluded_or_avoided(stored, capsys):
    assert (
        main(
            [
                "query",
                "excluded-drug",
                "--param",
                "drug=ponatinib",
                "--store",
                str(stored),
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows and {r["status"] for r in rows} <= {"excluded", "avoid"}
    assert all(r["ruleId"] and r["reasonKind"] for r in rows)
    assert main(["query", "excluded-drug", "--store", str(stored)]) == 2  # drug required


def test_edited_record_is_detected(stored, tmp_path):
    path = _copy(stored, tmp_path)
    with open_store(path) as store:
        record = store.records()[2]
        g = record.graph
        quad = next(
            iter(
                store.store.quads_for_pattern(
                    None, ox.NamedNode("https://w3id.org/cmlkb/fact#status"), None, g
                )
            )
        )
        store.store.remove(quad)
        store.store.add(ox.Quad(quad.subject, quad.predicate, ox.Literal("preferred"), g))
        _, problems = verify(store)
    assert [(p.kind, p.evaluation_id) for p in problems] == [("edited", record.evaluation_id)]
    assert main(["audit", "verify", "--store", str(path)]) == 1


def test_removed_record_is_detected(stored, tmp_path):
    path = _copy(stored, tmp_path)
    with open_store(path) as store:
        record = store.records()[1]
        store.store.remove_graph(record.graph)
        _, problems = verify(store)
    kinds = {p.kind for p in problems}
    assert "removed" in kinds
    assert any(record.evaluation_id in p.message for p in problems)


def test_reordered_records_are_detected(stored, tmp_path):
    path = _copy(stored, tmp_path)
    with open_store(path) as store:
        a, b = store.records()[1], store.records()[2]
        for rec, seq in ((a, b.sequence), (b, a.sequence)):
            for graph in (rec.graph, ox.DefaultGraph()):
                old = next(iter(store.store.quads_for_pattern(rec.graph, SEQUENCE, None, graph)))
                store.store.remove(old)
                store.store.add(
                    ox.Quad(
                        rec.graph,
                        SEQUENCE,
                        ox.Literal(
                            str(seq),
                            datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"),
                        ),
                        graph,
                    )
                )
        _, problems = verify(store)
    assert "reordered" in {p.kind for p in problems}
    assert {a.evaluation_id, b.evaluation_id} <= {p.evaluation_id for p in problems}
    assert RECORD_DIGEST  # the digest is what makes the reordering visible


def test_explain_from_store_by_id(stored, capsys):
    with open_store(stored) as store:
        ids = store.evaluation_ids()
    assert main(["explain", ids[3], "--drug", "dasatinib", "--store", str(stored)]) == 0
    out = capsys.readouterr().out
    assert "dasatinib: EXCLUDED" in out and "stmt:sensitivity-T315I-dasatinib" in out
