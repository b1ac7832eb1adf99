"""A worker process that dies mid-batch: its record is reported in the rejects file as an
error, a new worker takes its place, every other record is evaluated in order, and the
batch ends (exit code 1: an internal error), never hangs."""

from __future__ import annotations

import json
from pathlib import Path

from cmlkb.batch.runner import BatchRequest, local_pool, run_batch
from cmlkb.interfaces.batch import summary_lines
from tests.batch.handlers import crashing_setup
from tests.batch.kit import ROOT, cohort_lines, jsonl, write_lines


def test_a_dead_worker_fails_its_record_only(tmp_path, kb):
    lines = cohort_lines(kb, 8, 21)
    crash = json.loads(lines[3])
    crash["id"] = "crash-me-3"
    lines[3] = json.dumps(crash)
    cohort = write_lines(tmp_path / "cohort.jsonl", lines)
    out = tmp_path / "out.jsonl"
    request = BatchRequest(cohort=cohort, out=out, knowledge_root=ROOT, store=False)
    summary = run_batch(request, local_pool(2, worker_setup=crashing_setup, task_timeout=120))
    assert summary.complete and not summary.interrupted
    assert summary.exit_code == 1
    assert (summary.progress.evaluated, summary.progress.failed) == (7, 1)
    ids = [json.loads(line)["id"] for line in lines]
    assert [r["case"] for r in jsonl(out)] == ids[:3] + ids[4:]
    (reject,) = jsonl(Path(f"{out}.rejects.jsonl"))
    assert (reject["record"], reject["source"], reject["kind"]) == (3, "cohort.jsonl:4", "error")
    assert "worker process stopped (killed by SIGKILL)" in reject["problems"][0]["message"]
    assert "could not be evaluated" in summary_lines(summary)[-1]
