"""`cmlkb batch`: a small generated cohort with invalid records, through the real command
and worker processes. Results in input order and identical to the pipeline's, rejects
with their line numbers and messages, every evaluation stored once under the batch's
evaluation ids, usage errors and refused resumes (exit 2)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from cmlkb.batch.state import evaluation_id
from cmlkb.case.read import canonical_json, load_case_files
from cmlkb.case.validation import validate
from cmlkb.pipeline import ValidCase, evaluate_case, selection_for
from cmlkb.provenance.audit import verify
from cmlkb.provenance.store import open_store
from tests.batch.kit import cmlkb, cohort_lines, jsonl, state, write_lines

N, SEED, EVERY = 24, 11, 5  # records 4, 9, 14, 19 invalid (not JSON, drug, therapy, date)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, kb):
    """The generated lines, with a blank line after line 2 and a line that is not UTF-8."""
    lines = cohort_lines(kb, N, SEED, EVERY)
    folder = tmp_path_factory.mktemp("cohort")
    path = write_lines(folder / "cohort.jsonl", [*lines[:2], "   ", *lines[2:]])
    with path.open("ab") as handle:
        handle.write(b'{"id": "caf\xe9"}\n')
    return path, lines


@pytest.fixture(scope="module")
def stored(cohort, tmp_path_factory):
    path, _ = cohort
    where = tmp_path_factory.mktemp("stored")
    out = where / "results.jsonl"
    run = cmlkb("batch", path, "--out", out, "--store", where / "store", "--workers", "2")
    return run, out, where


def _valid_ids(lines):
    ids = []
    for n, line in enumerate(lines):
        if (n + 1) % EVERY:
            ids.append((n, json.loads(line)["id"]))
    return ids


def test_results_in_input_order_with_the_batch_evaluation_ids(cohort, stored):
    _, lines = cohort
    run, out, _ = stored
    assert run.exit_code == 2, run.stdout + run.stderr
    results = jsonl(out)
    batch_id = state(out)["batch_id"]
    # record index = place among the non-blank lines (the blank line is not a record)
    expected = [(index, case_id) for index, case_id in _valid_ids(lines)]
    assert [r["case"] for r in results] == [case_id for _, case_id in expected]
    assert [r["evaluation_id"] for r in results] == [
        evaluation_id(batch_id, index) for index, _ in expected
    ]
    # each line is the canonical JSON of the contract result
    for line, result in zip(out.read_text(encoding="utf-8").splitlines(), results, strict=True):
        assert line == canonical_json(result)


def test_a_result_is_the_pipelines_result(cohort, stored, kb, tmp_path):
    _, lines = cohort
    _, out, _ = stored
    batch_id = state(out)["batch_id"]
    selection = selection_for(kb)
    written = out.read_text(encoding="utf-8").splitlines()
    for k, (index, case_id) in enumerate(_valid_ids(lines)[:3]):
        single = write_lines(tmp_path / f"{k}.json", [lines[index]])
        inputs = load_case_files([single])
        report = validate(inputs, kb)
        case = ValidCase(report.cases[case_id], report.rdf[case_id])
        evaluation = evaluate_case(case, kb, selection, evaluation_id(batch_id, index))
        assert written[k] == canonical_json(evaluation.result)


def test_rejects_name_the_record_its_line_and_every_problem(stored):
    run, out, _ = stored
    rejects = jsonl(out.with_name("results.jsonl.rejects.jsonl"))
    assert [(r["record"], r["source"], r["kind"]) for r in rejects] == [
        (4, "cohort.jsonl:6", "invalid"),  # line 3 is blank: record 4 is on line 6
        (9, "cohort.jsonl:11", "invalid"),
        (14, "cohort.jsonl:16", "invalid"),
        (19, "cohort.jsonl:21", "invalid"),
        (24, "cohort.jsonl:26", "invalid"),
    ]
    not_json, drug, therapy, date, not_utf8 = rejects
    assert not_json["case"] is None and "not valid JSON" in not_json["problems"][0]["message"]
    assert drug["problems"][0]["path"] == "therapies[0].drug"
    assert "imatinibb" in drug["problems"][0]["message"]
    assert therapy["problems"][0]["path"] == "therapies"
    assert date["problems"][0]["path"] == "diagnosis.date"
    assert "not UTF-8" in not_utf8["problems"][0]["message"]
    assert "5 rejected" in run.stdout and "20 evaluated" in run.stdout
    assert "the rest were evaluated and stored" in run.stdout


def test_every_evaluation_stored_once_and_the_chain_verifies(cohort, stored):
    _, lines = cohort
    _, out, where = stored
    batch_id = state(out)["batch_id"]
    with open_store(where / "store", create=False) as store:
        count, problems = verify(store)
        ids = store.evaluation_ids()
        assert problems == []
        assert count == len(_valid_ids(lines)) == 20
        assert sorted(ids) == sorted(
            evaluation_id(batch_id, index) for index, _ in _valid_ids(lines)
        )
        # in input order in the hash chain
        assert ids == [evaluation_id(batch_id, index) for index, _ in _valid_ids(lines)]
    done = state(out)
    assert done["complete"] is True
    assert done["checkpoint"]["next_record"] == 25
    assert done["checkpoint"]["out_bytes"] == out.stat().st_size


def test_progress_lines_carry_counts_never_case_data(cohort, stored):
    _, lines = cohort
    run, _, _ = stored
    progress = [line for line in run.stderr.splitlines() if line.startswith("batch: ")]
    assert progress and progress[-1].startswith("batch: 25/25 records (100%)")
    ids = [json.loads(line)["id"] for n, line in enumerate(lines) if (n + 1) % EVERY]
    assert not any(case_id in run.stderr or case_id in run.stdout for case_id in ids)


def test_resume_of_a_complete_batch_changes_nothing(stored, cohort):
    path, _ = cohort
    _, out, where = stored
    before = out.read_bytes()
    again = cmlkb(
        "batch", path, "--out", out, "--store", where / "store", "--workers", "1", "--resume"
    )
    assert again.exit_code == 2, again.stdout + again.stderr
    assert out.read_bytes() == before
    assert "this run 0 records" in again.stdout


def test_a_folder_cohort_in_name_order(tmp_path, kb):
    lines = cohort_lines(kb, 4, 5)
    folder = tmp_path / "cohort"
    folder.mkdir()
    write_lines(folder / "b.jsonl", lines[1:3])
    write_lines(folder / "a.json", [lines[0]])
    write_lines(folder / "c.json", [lines[3]])
    (folder / "notes.txt").write_text("not a case")
    out = tmp_path / "out.jsonl"
    run = cmlkb("batch", folder, "--out", out, "--no-store", "--workers", "1")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [r["case"] for r in jsonl(out)] == [json.loads(line)["id"] for line in lines]
    assert out.with_name("out.jsonl.rejects.jsonl").read_text() == ""
    assert "audit store: not used" in run.stdout


@pytest.fixture
def finished(stored, tmp_path):
    """A copy of the stored batch's files (results, rejects, state) to resume."""
    where = stored[2]
    for name in ("results.jsonl", "results.jsonl.rejects.jsonl", "results.jsonl.state.json"):
        shutil.copy(where / name, tmp_path / name)
    return tmp_path / "results.jsonl"


def _unfinish(out: Path, **changes) -> None:
    path = out.with_name(out.name + ".state.json")
    data = json.loads(path.read_text())
    data["complete"] = False
    for key, value in changes.items():
        section, _, name = key.partition("__")
        data[section][name] = value
    path.write_text(json.dumps(data))


def test_refusals_exit_2_before_anything_is_written(cohort, finished, tmp_path):
    path, _ = cohort
    out = finished
    before = out.read_bytes()
    usage = [
        (["batch", tmp_path / "missing.jsonl", "--out", out], "no such file"),
        (["batch", path, "--out", out, "--workers", "0"], "--workers needs at least 1"),
        (["batch", path, "--out", out, "--workers", "2", "--dask-local", "2"], "--workers"),
        (["batch", path, "--out", tmp_path / "nowhere" / "o.jsonl"], "no folder"),
        (["batch", path, "--out", out, "--batch-id", "not-a-uuid"], "not a UUID"),
        (["batch", path, "--out", tmp_path / "fresh.jsonl", "--resume"], "nothing to resume"),
    ]
    _unfinish(out)
    usage.append((["batch", path, "--out", out, "--no-store"], "unfinished batch"))
    usage.append(
        (
            ["batch", path, "--out", out, "--no-store", "--resume", "--guideline", "eln-2013"],
            "the option selection was classification=eln, guideline=eln-2020",
        )
    )
    usage.append((["batch", path, "--out", out, "--no-store", "--resume"], "the option store was"))
    other = tmp_path / "other.jsonl"
    other.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:5]))
    usage.append((["batch", other, "--out", out, "--resume"], "the input changed"))
    _unfinish(out, knowledge__digest="sha256:" + "0" * 64)
    usage.append((["batch", path, "--out", out, "--resume"], "the knowledge changed"))
    for args, message in usage:
        run = cmlkb(*args)
        assert run.exit_code == 2, (args, run.stdout, run.stderr)
        assert message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr
    assert out.read_bytes() == before


def test_a_batch_id_is_used_once_per_store(cohort, stored, tmp_path):
    path, _ = cohort
    _, out, where = stored
    batch_id = state(out)["batch_id"]
    run = cmlkb(
        "batch", path, "--out", tmp_path / "again.jsonl", "--store", where / "store",
        "--workers", "1", "--batch-id", batch_id,
    )  # fmt: skip
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "already holds evaluation" in run.stderr
    assert str(uuid.UUID(batch_id)) in run.stderr
