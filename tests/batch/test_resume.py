"""Resumable batches (issue 16 item 4): a batch killed mid-run (a real child process,
SIGKILL) or interrupted (SIGINT, as Ctrl-C) and then resumed writes every result exactly
once and in order, byte for byte what an uninterrupted run of the same batch writes; the
audit store holds each evaluation once and its hash chain verifies. An evaluation that was
stored but whose line was not yet written when the batch stopped is taken from the store,
not evaluated again."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from cmlkb.batch.state import evaluation_id
from cmlkb.provenance.audit import verify
from cmlkb.provenance.store import open_store
from tests.batch.kit import child, cmlkb, cohort_lines, jsonl, state, write_lines

N, SEED, EVERY = 400, 31, 7  # enough records that a stop lands mid-batch
BATCH = "7d1c6a52-3f0e-4c55-9a7e-1a2b3c4d5e6f"
WAIT = 180  # seconds, on a loaded machine


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, kb):
    lines = cohort_lines(kb, N, SEED, EVERY)
    return write_lines(tmp_path_factory.mktemp("cohort") / "cohort.jsonl", lines), lines


@pytest.fixture(scope="module")
def reference(cohort, tmp_path_factory):
    """The same batch (same id) run without interruption and without a store."""
    path, _ = cohort
    out = tmp_path_factory.mktemp("reference") / "out.jsonl"
    run = cmlkb("batch", path, "--out", out, "--no-store", "--batch-id", BATCH, "--workers", "2")
    assert run.exit_code == 2, run.stdout + run.stderr
    return out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()


def _expected(lines):
    return [
        (index, json.loads(line)["id"]) for index, line in enumerate(lines) if (index + 1) % EVERY
    ]


def _stop_midway(proc, out: Path, stop) -> tuple[dict, str, list[psutil.Process]]:
    """Wait until the child has checkpointed some records, then stop it with `stop`;
    return the state it left, what it printed and its worker processes."""
    state_file = out.with_name(out.name + ".state.json")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        if state_file.exists():
            try:
                done = json.loads(state_file.read_text())["checkpoint"]["next_record"]
            except (ValueError, KeyError):
                done = 0
            if done >= 8:
                break
        time.sleep(0.1)
    assert proc.poll() is None, "the batch ended before it could be stopped"
    workers = psutil.Process(proc.pid).children()
    stop()
    printed, _ = proc.communicate(timeout=WAIT)
    stopped = state(out)
    assert not stopped["complete"]
    assert 8 <= stopped["checkpoint"]["next_record"] < N
    return stopped, printed, workers


@pytest.mark.slow
def test_killed_then_resumed(cohort, reference, tmp_path):
    path, lines = cohort
    out, store = tmp_path / "out.jsonl", tmp_path / "store"
    args = ("--out", out, "--store", store, "--batch-id", BATCH, "--workers", "2")
    proc = child("batch", path, *args, "--progress-every", "0.5")
    _, _, workers = _stop_midway(proc, out, lambda: os.kill(proc.pid, signal.SIGKILL))
    # its workers notice that their parent is gone and stop by themselves
    _, alive = psutil.wait_procs(workers, timeout=WAIT)
    assert workers and not alive

    run = cmlkb("batch", path, *args, "--resume")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "resumed at record" in run.stdout
    assert (out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()) == reference
    expected = [evaluation_id(BATCH, index) for index, _ in _expected(lines)]
    assert [r["evaluation_id"] for r in jsonl(out)] == expected
    with open_store(store, create=False) as opened:
        count, problems = verify(opened)
        assert problems == []
        assert count == len(expected)
        assert opened.evaluation_ids() == expected  # each once, in input order
    audit = cmlkb("audit", "verify", "--store", store)
    assert audit.exit_code == 0, audit.stdout + audit.stderr

    # The window between the store append and the line: rewind the checkpoint to record
    # 20 as if the batch had stopped there with everything after it stored already.
    _rewind(out, 20)
    again = cmlkb("batch", path, *args, "--resume")
    assert again.exit_code == 2, again.stdout + again.stderr
    later = [index for index, _ in _expected(lines) if index >= 20]
    assert f"{len(later)} taken from the audit store" in again.stdout
    assert (out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()) == reference
    with open_store(store, create=False) as opened:
        assert opened.evaluation_ids() == expected  # nothing evaluated or stored twice
        assert verify(opened)[1] == []


def _rewind(out: Path, record: int) -> None:
    """Set the batch state back to `record`, with the lines before it kept."""
    state_file = out.with_name(out.name + ".state.json")
    data = json.loads(state_file.read_text())
    results = out.read_bytes().splitlines(keepends=True)
    rejects = Path(f"{out}.rejects.jsonl").read_bytes().splitlines(keepends=True)
    ids = {json.loads(line)["evaluation_id"] for line in results}
    before = [
        line for line in results if json.loads(line)["evaluation_id"] in
        {evaluation_id(BATCH, i) for i in range(record)} & ids
    ]  # fmt: skip
    rejected = [line for line in rejects if json.loads(line)["record"] < record]
    data["complete"] = False
    data["checkpoint"].update(
        next_record=record,
        out_bytes=sum(map(len, before)),
        rejects_bytes=sum(map(len, rejected)),
        evaluated=len(before),
        rejected=len(rejected),
    )
    state_file.write_text(json.dumps(data))


def test_interrupted_then_resumed(cohort, reference, tmp_path):
    path, _ = cohort
    out = tmp_path / "out.jsonl"
    args = ("--out", out, "--no-store", "--batch-id", BATCH, "--workers", "2")
    proc = child("batch", path, *args, start_new_session=True)
    # Ctrl-C reaches the whole process group: the batch and its workers
    stopped, printed, _ = _stop_midway(proc, out, lambda: os.killpg(proc.pid, signal.SIGINT))
    assert proc.returncode == 130
    assert "interrupted after" in printed and "--resume" in printed
    assert out.stat().st_size >= stopped["checkpoint"]["out_bytes"]

    run = cmlkb("batch", path, *args, "--resume")
    assert run.exit_code == 2, run.stdout + run.stderr
    assert (out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()) == reference
    assert state(out)["complete"] is True
