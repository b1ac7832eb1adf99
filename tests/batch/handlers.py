"""Worker set-ups for the tests of cmlkb.batch: importable by the spawned worker processes
(tests is a package on the parent's sys.path, which spawn hands to its children)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from cmlkb.batch.work import RecordTask, WorkerConfig, setup


def toy_setup(prefix: str) -> Callable[[tuple[str, Any]], Any]:
    """A worker answering ("echo", x) with prefix + x, ("pid", _) with its process id,
    ("sleep", s) after s seconds, ("raise", m) with ValueError(m) and ("die", _) by
    killing itself."""

    def handle(payload: tuple[str, Any]) -> Any:
        kind, value = payload
        if kind == "echo":
            return f"{prefix}{value}"
        if kind == "pid":
            return os.getpid()
        if kind == "sleep":
            time.sleep(value)
            return "slept"
        if kind == "raise":
            raise ValueError(value)
        if kind == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError(kind)

    return handle


def failing_setup(message: str) -> Callable[[Any], Any]:
    raise RuntimeError(message)


def crashing_setup(config: WorkerConfig) -> Callable[[RecordTask], Any]:
    """The real batch worker, except that a record whose text holds `crash-me` kills its
    worker process (a segfault or an out-of-memory kill, as far as the pool can tell)."""
    handle = setup(config)

    def crash_or_handle(task: RecordTask) -> Any:
        if b"crash-me" in task.data:
            os.kill(os.getpid(), signal.SIGKILL)
        return handle(task)

    return crash_or_handle


def fragile_setup(marker: str) -> Callable[[tuple[str, Any]], Any]:
    """toy_setup, but a worker started once `marker` exists dies while starting."""
    if os.path.exists(marker):
        os.kill(os.getpid(), signal.SIGKILL)
    return toy_setup("")
