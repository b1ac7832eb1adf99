"""A pool of worker processes, each answering one task at a time: durable-rules is not
thread-safe (engine-notes C1 #2), so inference scales out by processes. `cmlkb batch`
uses it, and so can any front door that runs evaluations for many callers (the HTTP
service): nothing in it knows what a task is.

- Each worker is a spawned process that runs `setup(*args)` once (for cmlkb: load the
  knowledge and check its digest) and then answers tasks with the handler `setup`
  returned. A worker whose setup fails stops the pool's start with the worker's message.
- `submit(payload)` returns a `concurrent.futures.Future`. The pool knows which task each
  worker holds, so when a worker dies (killed, crashed, out of memory) exactly that task's
  future gets `WorkerCrashed`, a replacement worker is started and the other tasks go on.
  A task running longer than `task_timeout` has its worker killed and gets
  `TaskTimedOut`. An exception raised by the handler answers its task with `TaskFailed`
  (the worker stays). No future is left waiting on a process that is gone.
- Workers ignore SIGINT (Ctrl-C is the parent's to handle: it closes the pool) and exit by
  themselves when the parent goes away (their pipe closes).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from types import TracebackType
from typing import Any

from cmlkb.errors import CmlkbError

__all__ = ["PoolBroken", "TaskFailed", "TaskTimedOut", "WorkerCrashed", "WorkerPool"]

_READY = "ready"
_FAILED = "failed"
# how long a worker may take to stop after it is asked to, before it is killed
_STOP_GRACE = 5.0


class WorkerCrashed(CmlkbError):
    """The worker process answering a task stopped before it answered."""


class TaskTimedOut(WorkerCrashed):
    """A task ran past the pool's task timeout; its worker was killed."""


class TaskFailed(CmlkbError):
    """The handler raised an exception for this task (the message names its type)."""


class PoolBroken(CmlkbError):
    """The pool cannot run tasks any more (a replacement worker could not start, or the
    pool was closed): the message says why."""


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _worker_main(conn: Connection, setup: Callable[..., Any], args: Sequence[Any]) -> None:
    """The body of a worker process: set up once, then answer tasks until told to stop or
    until the parent's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        handler = setup(*args)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send((_FAILED, _describe(exc)))
        return
    conn.send((_READY, os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, payload = message
        try:
            reply: tuple[int, bool, Any] = (task_id, True, handler(payload))
            data = ForkingPickler.dumps(reply)
        except Exception as exc:  # the handler's error, or an answer that cannot be sent
            data = ForkingPickler.dumps((task_id, False, _describe(exc)))
        try:
            conn.send_bytes(data)
        except OSError:
            return


@dataclass
class _Task:
    task_id: int
    future: Future[Any]
    payload: Any
    deadline: float | None = None


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: _Task | None = None
    timed_out: bool = False
    pid: int | None = field(default=None)


def _exit_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerPool:
    """`size` worker processes running `setup(*args)` once each, then one task at a time.

    Use as a context manager (or call `close`). `submit` may be called from any thread;
    one background thread of the pool talks to the workers."""

    def __init__(
        self,
        size: int,
        setup: Callable[..., Callable[[Any], Any]],
        args: Sequence[Any] = (),
        *,
        task_timeout: float | None = None,
        start_timeout: float = 300.0,
        name: str = "cmlkb-worker",
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self._context = multiprocessing.get_context("spawn")
        self._setup = setup
        self._args = tuple(args)
        self._task_timeout = task_timeout
        self._name = name
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._queue: deque[_Task] = deque()
        self._closing = False
        self._cancel = False
        self._broken: str | None = None
        self._wake_read, self._wake_write = os.pipe()
        self._wake_closed = False
        os.set_blocking(self._wake_read, False)
        self._workers: list[_Worker] = []
        try:
            self._workers = [self._start_worker() for _ in range(size)]
            self._await_ready(start_timeout)
        except BaseException:
            self._stop_workers(kill=True)
            self._close_wake()
            raise
        self._thread = threading.Thread(target=self._run, name=f"{name}-pool", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public

    @property
    def capacity(self) -> int:
        """How many tasks run at once."""
        return self.size

    def submit(self, payload: Any) -> Future[Any]:
        """Queue a task; its future gets the handler's answer or one of this module's
        errors."""
        future: Future[Any] = Future()
        with self._lock:
            if self._broken is not None:
                raise PoolBroken(self._broken)
            if self._closing:
                raise PoolBroken("the worker pool is closed")
            self._queue.append(_Task(next(self._ids), future, payload))
        self._wake()
        return future

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for monitoring, and for tests that kill
        one)."""
        return [w.process.pid for w in list(self._workers) if w.process.pid is not None]

    def close(self, cancel: bool = False) -> None:
        """Stop the pool. Without `cancel` the queued and running tasks are answered
        first; with it they get PoolBroken at once and the workers are stopped."""
        with self._lock:
            self._closing = True
            self._cancel = self._cancel or cancel
        self._wake()
        self._thread.join()
        self._close_wake()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancel=exc_type is not None)

    # ------------------------------------------------------------------ workers

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main,
            args=(child_end, self._setup, self._args),
            name=self._name,
            daemon=True,
        )
        process.start()
        child_end.close()  # the parent keeps only its end: EOF when the worker dies
        return _Worker(process, parent_end)

    def _await_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not wait([worker.conn, worker.process.sentinel], remaining):
                raise PoolBroken(f"a worker did not start within {timeout:.0f} s")
            self._started(worker)

    def _started(self, worker: _Worker) -> None:
        """Read a new worker's first message: ready, or why its setup failed."""
        try:
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(_STOP_GRACE)
            raise PoolBroken(
                f"a worker stopped while starting ({_exit_reason(worker.process)})"
            ) from None
        if kind == _FAILED:
            raise PoolBroken(f"a worker could not start: {value}")
        worker.ready = True
        worker.pid = value

    def _stop_workers(self, kill: bool) -> None:
        for worker in self._workers:
            if kill:
                worker.process.kill()
            else:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(_STOP_GRACE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []

    # ------------------------------------------------------------------ the pool thread

    def _wake(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            if not self._wake_closed:  # never write to a closed (maybe reused) descriptor
                os.write(self._wake_write, b"x")

    def _close_wake(self) -> None:
        with self._lock:
            if self._wake_closed:
                return
            self._wake_closed = True
            for fd in (self._wake_read, self._wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _run(self) -> None:
        try:
            self._loop()
            cancel = self._cancel
        except BaseException as exc:  # a bug here must not leave any future waiting
            self._break(f"internal error in the worker pool: {_describe(exc)}")
            cancel = True
        self._fail_all(PoolBroken("the worker pool was closed before this task ran"))
        self._stop_workers(kill=cancel)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._cancel:
                    return
                if self._closing and not self._queue and all(w.task is None for w in self._workers):
                    return
            self._assign()
            waitables: list[Any] = [self._wake_read]
            for worker in self._workers:
                waitables += [worker.conn, worker.process.sentinel]
            for item in wait(waitables, self._next_timeout()):
                if item == self._wake_read:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 4096)
            for worker in list(self._workers):
                self._service(worker)
            self._check_timeouts()

    def _assign(self) -> None:
        for worker in self._workers:
            if not worker.ready or worker.task is not None:
                continue
            while True:
                with self._lock:
                    if not self._queue:
                        return
                    task = self._queue.popleft()
                if task.future.cancelled():
                    continue
                try:
                    data = ForkingPickler.dumps((task.task_id, task.payload))
                except Exception as exc:
                    _settle(task.future, error=TaskFailed(f"the task cannot be sent: {exc}"))
                    continue
                try:
                    worker.conn.send_bytes(data)
                except OSError:  # the worker died before it got the task: run it elsewhere
                    with self._lock:
                        self._queue.appendleft(task)
                    return
                # a task cancelled just now still occupies its worker; its answer is dropped
                task.future.set_running_or_notify_cancel()
                if self._task_timeout is not None:
                    task.deadline = time.monotonic() + self._task_timeout
                worker.task = task
                break

    def _service(self, worker: _Worker) -> None:
        """Read what a worker sent, and notice when it has died."""
        while True:
            try:
                if not worker.conn.poll():
                    break
                message = worker.conn.recv()
            except (EOFError, OSError):
                break
            if not worker.ready:
                kind, value = message
                if kind == _FAILED:
                    self._break(f"a replacement worker could not start: {value}")
                    return
                worker.ready, worker.pid = True, value
                continue
            task_id, ok, value = message
            task = worker.task
            worker.task = None
            if task is None or task.task_id != task_id:
                continue  # cannot happen: one task per worker at a time
            if ok:
                _settle(task.future, result=value)
            else:
                _settle(task.future, error=TaskFailed(value))
        if not worker.process.is_alive():
            self._lost(worker)

    def _lost(self, worker: _Worker) -> None:
        """A worker has died: answer its task with the reason and start another."""
        worker.process.join(_STOP_GRACE)
        worker.conn.close()
        self._workers.remove(worker)
        task = worker.task
        if task is not None:
            reason = _exit_reason(worker.process)
            error: WorkerCrashed
            if worker.timed_out:
                error = TaskTimedOut(
                    f"the task ran longer than {self._task_timeout} s; its worker was "
                    f"stopped ({reason})"
                )
            else:
                error = WorkerCrashed(f"the worker process stopped ({reason}) before it answered")
            _settle(task.future, error=error)
        if not worker.ready:  # died before it was ready: starting another would loop
            self._break(
                f"a replacement worker stopped while starting ({_exit_reason(worker.process)})"
            )
            return
        with self._lock:
            replace = not self._cancel and self._broken is None
        if replace:
            try:
                self._workers.append(self._start_worker())
            except OSError as exc:
                self._break(f"a replacement worker could not be started: {exc}")

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            task = worker.task
            expired = task is not None and task.deadline is not None and now >= task.deadline
            if expired and not worker.timed_out:
                worker.timed_out = True
                worker.process.kill()

    def _next_timeout(self) -> float | None:
        deadlines = [
            w.task.deadline for w in self._workers if w.task is not None and w.task.deadline
        ]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _break(self, reason: str) -> None:
        """The pool cannot go on: queued tasks get PoolBroken; running ones finish."""
        with self._lock:
            if self._broken is None:
                self._broken = reason
            queued = list(self._queue)
            self._queue.clear()
        for task in queued:
            _settle(task.future, error=PoolBroken(reason))

    def _fail_all(self, error: Exception) -> None:
        with self._lock:
            queued = list(self._queue)
            self._queue.clear()
        running = [w.task for w in self._workers if w.task is not None]
        for worker in self._workers:
            worker.task = None
        for task in [*queued, *running]:
            _settle(task.future, error=error)


def _settle(future: Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    """Answer a future unless it is already done or was cancelled."""
    if future.done():
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # cancelled meanwhile by the caller
        pass
