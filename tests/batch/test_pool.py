"""The worker pool (cmlkb.batch.pool): real spawned processes; a worker that dies answers
exactly its own task with an error and is replaced; nothing hangs."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cmlkb.batch.pool import PoolBroken, TaskFailed, TaskTimedOut, WorkerCrashed, WorkerPool
from tests.batch.handlers import failing_setup, fragile_setup, toy_setup

WAIT = 60  # seconds any single answer may take on a loaded machine


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2, toy_setup, ("got ",), task_timeout=30) as p:
        yield p


def test_every_task_answered_by_its_own_handler(pool):
    futures = [pool.submit(("echo", n)) for n in range(20)]
    assert [f.result(WAIT) for f in futures] == [f"got {n}" for n in range(20)]
    assert pool.capacity == 2
    assert len(set(pool.worker_pids())) == 2


def test_a_worker_that_dies_fails_only_its_task_and_is_replaced(pool):
    before = set(pool.worker_pids())
    slow = pool.submit(("sleep", 1.0))
    dying = pool.submit(("die", None))
    after = [pool.submit(("echo", n)) for n in range(6)]
    with pytest.raises(WorkerCrashed, match="SIGKILL"):
        dying.result(WAIT)
    assert slow.result(WAIT) == "slept"
    assert [f.result(WAIT) for f in after] == [f"got {n}" for n in range(6)]
    pids = {pool.submit(("pid", None)).result(WAIT) for _ in range(8)}
    assert len(pool.worker_pids()) == 2
    assert set(pool.worker_pids()) != before  # one of them is new
    assert pids <= set(pool.worker_pids())


def test_a_worker_killed_from_outside_mid_task(pool):
    busy = pool.submit(("sleep", 20))
    deadline = time.monotonic() + WAIT
    # the task is running once it left the queue; then kill whichever worker sleeps
    while not busy.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert busy.running()
    others = [pool.submit(("pid", None)) for _ in range(4)]
    idle = {f.result(WAIT) for f in others}
    (sleeper,) = set(pool.worker_pids()) - idle
    os.kill(sleeper, signal.SIGKILL)
    with pytest.raises(WorkerCrashed, match="killed by SIGKILL"):
        busy.result(WAIT)
    assert pool.submit(("echo", "again")).result(WAIT) == "got again"


def test_a_handler_error_answers_its_task_and_the_worker_stays(pool):
    pids = set(pool.worker_pids())
    with pytest.raises(TaskFailed, match="ValueError: boom"):
        pool.submit(("raise", "boom")).result(WAIT)
    assert pool.submit(("echo", 1)).result(WAIT) == "got 1"
    assert set(pool.worker_pids()) == pids


def test_a_task_past_the_timeout_is_stopped():
    with WorkerPool(1, toy_setup, ("",), task_timeout=0.5) as short:
        with pytest.raises(TaskTimedOut, match=r"longer than 0\.5 s"):
            short.submit(("sleep", 30)).result(WAIT)
        assert short.submit(("echo", "x")).result(WAIT) == "x"


def test_a_setup_that_fails_stops_the_start_with_its_message():
    with pytest.raises(PoolBroken, match="RuntimeError: no knowledge here"):
        WorkerPool(2, failing_setup, ("no knowledge here",))


def test_closing_with_cancel_answers_every_waiting_task():
    p = WorkerPool(1, toy_setup, ("",))
    running = p.submit(("sleep", 30))
    queued = [p.submit(("echo", n)) for n in range(5)]
    while not running.running():
        time.sleep(0.05)
    started = time.monotonic()
    p.close(cancel=True)
    assert time.monotonic() - started < 15
    for future in [running, *queued]:
        with pytest.raises(PoolBroken):
            future.result(1)
    with pytest.raises(PoolBroken):
        p.submit(("echo", 1))
    assert p.worker_pids() == []


def test_closing_without_cancel_finishes_the_queue():
    p = WorkerPool(2, toy_setup, ("",))
    futures = [p.submit(("echo", n)) for n in range(10)]
    p.close()
    assert [f.result(0) for f in futures] == [str(n) for n in range(10)]


def test_a_replacement_that_dies_while_starting_breaks_the_pool(tmp_path):
    marker = tmp_path / "no-more-workers"
    with WorkerPool(1, fragile_setup, (str(marker),)) as fragile:
        assert fragile.submit(("echo", "a")).result(WAIT) == "a"
        marker.touch()
        dying = fragile.submit(("die", None))
        queued = fragile.submit(("echo", "b"))
        with pytest.raises(WorkerCrashed):
            dying.result(WAIT)
        with pytest.raises(PoolBroken, match="replacement worker stopped while starting"):
            queued.result(WAIT)
        with pytest.raises(PoolBroken):
            fragile.submit(("echo", "c"))
