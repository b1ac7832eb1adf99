"""The same batch on Dask (issue 11 item 5): a local multi-process cluster on 127.0.0.1
(`--dask-local 2`) and a cluster started as separate processes (`dask scheduler`,
`dask worker`, `--scheduler tcp://127.0.0.1:PORT`) write byte for byte what the local
worker pool writes for the same batch; workers whose knowledge is not the parent's are
refused before any record."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmlkb.batch.cluster import check_workers
from cmlkb.batch.work import WorkerConfig
from cmlkb.errors import CmlkbError
from cmlkb.provenance.audit import verify
from cmlkb.provenance.store import open_store
from tests.batch.kit import cmlkb, cohort_lines, write_lines

distributed = pytest.importorskip("distributed")

BATCH = "0f8e2d4c-6b1a-4e3f-8d7c-5a4b3c2d1e0f"
DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, kb):
    lines = cohort_lines(kb, 18, 41, 6)
    return write_lines(tmp_path_factory.mktemp("cohort") / "cohort.jsonl", lines)


@pytest.fixture(scope="module")
def local(cohort, tmp_path_factory):
    """The batch on the local worker pool: results and rejects, as bytes."""
    out = tmp_path_factory.mktemp("local") / "out.jsonl"
    run = cmlkb("batch", cohort, "--out", out, "--no-store", "--batch-id", BATCH, "--workers", "2")
    assert run.exit_code == 2, run.stdout + run.stderr
    return out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()


def test_dask_local_writes_what_the_local_pool_writes(cohort, local, tmp_path):
    out, store = tmp_path / "out.jsonl", tmp_path / "store"
    run = cmlkb(
        "batch", cohort, "--out", out, "--store", store, "--batch-id", BATCH, "--dask-local", "2"
    )
    assert run.exit_code == 2, run.stdout + run.stderr
    assert (out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()) == local
    assert "Traceback" not in run.stderr
    with open_store(store, create=False) as opened:  # records prepared on Dask workers
        count, problems = verify(opened)
        assert problems == [] and count == len(out.read_bytes().splitlines())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A Dask scheduler and one worker (one thread), each a separate process on 127.0.0.1,
    stopped by their process ids at the end."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    env.pop("CMLKB_HOME", None)
    started = []
    try:
        started.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=(logs / "scheduler.log").open("w"),
                env=env,
            )
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (logs / "scheduler.log").read_text()
                time.sleep(0.2)
        started.append(
            subprocess.Popen(
                [
                    DASK,
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(logs / "worker.log").open("w"),
                env=env,
            )
        )
        yield address, logs
    finally:
        for proc in reversed(started):
            _stop(proc)


def test_a_separate_cluster_writes_what_the_local_pool_writes(cohort, local, scheduler, tmp_path):
    address, logs = scheduler
    out = tmp_path / "out.jsonl"
    run = cmlkb(
        "batch", cohort, "--out", out, "--no-store", "--batch-id", BATCH, "--scheduler", address
    )
    assert run.exit_code == 2, run.stdout + run.stderr + (logs / "worker.log").read_text()
    assert (out.read_bytes(), Path(f"{out}.rejects.jsonl").read_bytes()) == local
    assert "Traceback" not in (logs / "worker.log").read_text()


def test_workers_with_other_knowledge_are_refused(scheduler, kb):
    address, _ = scheduler
    with distributed.Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(1, timeout=60)
        good = WorkerConfig(str(kb.root), kb.digest, {}, False)
        (identity,) = check_workers(client, good).values()
        assert identity["digest"] == kb.digest
        other = WorkerConfig(str(kb.root), "sha256:" + "0" * 64, {}, False)
        with pytest.raises(CmlkbError, match="refusing to run.*has knowledge " + kb.digest):
            check_workers(client, other)
        elsewhere = WorkerConfig("/nonexistent/cmlkb", kb.digest, {}, False)
        with pytest.raises(CmlkbError, match="cannot load the knowledge at /nonexistent"):
            check_workers(client, elsewhere)
