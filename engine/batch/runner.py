"""`cmlkb batch`: a cohort through the pipeline on worker processes, streaming in and out,
in input order, resumable (issue 11 items 4 and 5, issue 16 item 4).

The parent reads the cohort lazily and keeps a bounded window of records in flight
(`WINDOW_PER_WORKER` per worker); workers (cmlkb.batch.work) validate and evaluate each
record and prepare its audit store record; the parent, the one writer, takes the answers
in input order and for each record either appends its evaluation to the audit store and
then writes its result line, or writes its reject line. Memory stays flat in the size of
the cohort.

Files: `--out` gets one line per evaluated record, its contract result in the project's
canonical JSON (cmlkb.case.read.canonical_json: sorted keys, no spaces); the rejects file
one line per record that was not evaluated (`kind` "invalid" with the validation's
problems, or "error" when the evaluation failed or its worker died); the state file
(cmlkb.batch.state) the batch's identity and checkpoint, from which `--resume` goes on.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

from cmlkb.batch.cohort import CohortRecord, CohortScan, read_cohort, scan_cohort
from cmlkb.batch.pool import WorkerPool
from cmlkb.batch.state import (
    BatchState,
    default_rejects,
    differences,
    evaluation_id,
    state_path,
)
from cmlkb.batch.work import Evaluated, RecordTask, Rejected, WorkerConfig, setup
from cmlkb.errors import CmlkbError, InvalidInput
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge
from cmlkb.pipeline import selection_for
from cmlkb.provenance.store import FLUSH_EVERY, AuditStore, open_store, store_path

__all__ = [
    "BatchProgress",
    "BatchRequest",
    "BatchSummary",
    "Executor",
    "ExecutorFactory",
    "local_pool",
    "run_batch",
]

WINDOW_PER_WORKER = 4  # records in flight per worker: enough to keep each one busy
CHECKPOINT_SECONDS = 1.0
CHECKPOINT_RECORDS = 1000
# the parent flushes the audit store after this many appends: pyoxigraph keeps recent
# writes in memory (about 3 MB per evaluation) until a flush
STORE_FLUSH_RECORDS = FLUSH_EVERY
TASK_TIMEOUT = 600.0  # seconds for one record (about 0.1 s is usual, a few s on a cold worker)


class RecordFuture(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...


class Executor(Protocol):
    """Where records are evaluated: the local pool or a Dask cluster."""

    @property
    def capacity(self) -> int: ...

    def submit(self, task: RecordTask) -> RecordFuture: ...


ExecutorFactory = Callable[[WorkerConfig], AbstractContextManager[Executor]]


def local_pool(
    workers: int,
    worker_setup: Callable[[WorkerConfig], Callable[[RecordTask], Any]] = setup,
    task_timeout: float | None = TASK_TIMEOUT,
) -> ExecutorFactory:
    """Evaluate on `workers` local processes (cmlkb.batch.pool). `worker_setup` is the
    worker's start (cmlkb.batch.work.setup); tests pass one that wraps it. A record still
    running after `task_timeout` seconds has its worker stopped and is reported as an
    error, so a stuck evaluation cannot stall the batch."""

    def start(config: WorkerConfig) -> AbstractContextManager[Executor]:
        return WorkerPool(workers, worker_setup, (config,), task_timeout=task_timeout)

    return start


@dataclass
class BatchRequest:
    """What to run: the cohort, the output, the knowledge root and the options."""

    cohort: Path
    out: Path
    knowledge_root: Path
    rejects: Path | None = None
    guideline: str | None = None
    nccn: str | None = None
    classification: str | None = None
    store: bool = True
    store_location: Path | None = None
    resume: bool = False
    batch_id: str | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Counts so far (over the whole batch, earlier runs included) and this run's time."""

    total: int
    done: int
    done_before: int
    evaluated: int
    rejected: int
    failed: int
    recovered: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Records per second in this run."""
        return (self.done - self.done_before) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at this run's rate (None before the first record)."""
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None


@dataclass(frozen=True)
class BatchSummary:
    """How a batch run ended, with where everything was written."""

    batch_id: str
    progress: BatchProgress
    out: Path
    rejects: Path
    state: Path
    store: Path | None
    complete: bool
    interrupted: bool
    resumed: bool
    startup: float

    @property
    def exit_code(self) -> int:
        """1 when a record failed (an internal error), else 2 when one was rejected, else 0."""
        if self.progress.failed:
            return 1
        return 2 if self.progress.rejected else 0


@dataclass
class _Recovered:
    """A record whose evaluation the store already holds: its result is written from it."""

    result_json: str


@dataclass
class _Run:
    state: BatchState
    state_file: Path
    out: IO[bytes]
    rejects: IO[bytes]
    store: AuditStore | None
    kb: KnowledgeBase
    total: int
    on_progress: Callable[[BatchProgress], None] | None
    started: float = field(default_factory=time.monotonic)
    done_before: int = 0
    recovered: int = 0
    appended: int = 0
    last_saved: float = field(default_factory=time.monotonic)
    unsaved: int = 0

    def progress(self) -> BatchProgress:
        cp = self.state.checkpoint
        return BatchProgress(
            total=self.total,
            done=cp.next_record,
            done_before=self.done_before,
            evaluated=cp.evaluated,
            rejected=cp.rejected,
            failed=cp.failed,
            recovered=self.recovered,
            elapsed=time.monotonic() - self.started,
        )

    def write(self, record: CohortRecord, pending: RecordFuture | _Recovered) -> None:
        """Write one record's outcome, in input order. The checkpoint counts it only once
        everything for it is written, and takes its new counts in one assignment (Ctrl-C
        lands between two bytecodes: never between two of the counts); a stop in between
        leaves the record to the resume."""
        cp = self.state.checkpoint
        if isinstance(pending, _Recovered):
            line = (pending.result_json + "\n").encode("utf-8")
            self.out.write(line)
            after = replace(cp, out_bytes=cp.out_bytes + len(line), evaluated=cp.evaluated + 1)
            self.recovered += 1
        else:
            answer: Any
            try:
                answer = pending.result()
            except Exception as exc:  # its worker died, or the evaluation raised
                answer = exc
            if isinstance(answer, Evaluated):
                if self.store is not None:
                    if answer.record is None:
                        raise CmlkbError(f"record {record.index}: no audit store record")
                    self.store.append(answer.record, self.kb)
                    self.appended += 1
                    if self.appended % STORE_FLUSH_RECORDS == 0:
                        self.store.flush()
                line = (answer.result_json + "\n").encode("utf-8")
                self.out.write(line)
                after = replace(cp, out_bytes=cp.out_bytes + len(line), evaluated=cp.evaluated + 1)
            else:
                line = _reject_line(record, answer)
                self.rejects.write(line)
                after = replace(cp, rejects_bytes=cp.rejects_bytes + len(line))
                if isinstance(answer, Rejected):
                    after.rejected += 1
                else:
                    after.failed += 1
        after.next_record = record.index + 1
        self.state.checkpoint = after
        self.unsaved += 1
        if (
            self.unsaved >= CHECKPOINT_RECORDS
            or time.monotonic() - self.last_saved >= CHECKPOINT_SECONDS
        ):
            self.save()
        if self.on_progress is not None:
            self.on_progress(self.progress())

    def save(self) -> None:
        """Flush both files to disk, then record the checkpoint."""
        for handle in (self.out, self.rejects):
            handle.flush()
            os.fsync(handle.fileno())
        self.state.save(self.state_file)
        self.last_saved = time.monotonic()
        self.unsaved = 0


def _reject_line(record: CohortRecord, answer: Any) -> bytes:
    if isinstance(answer, Rejected):
        entry: dict[str, Any] = {
            "record": record.index,
            "source": record.source,
            "case": answer.case_id,
            "kind": "invalid",
            "problems": [{"path": path, "message": message} for path, message in answer.problems],
        }
    else:
        reason = (
            str(answer) if isinstance(answer, CmlkbError) else f"{type(answer).__name__}: {answer}"
        )
        entry = {
            "record": record.index,
            "source": record.source,
            "case": None,
            "kind": "error",
            "problems": [{"path": "", "message": f"not evaluated: {reason}"}],
        }
    text = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def _identity(
    request: BatchRequest, cohort: CohortScan, kb: KnowledgeBase, selection: dict[str, str]
) -> BatchState:
    rejects = request.rejects or default_rejects(request.out)
    location = store_path(request.store_location) if request.store else None
    return BatchState(
        batch_id=request.batch_id or str(uuid.uuid4()),
        input={
            "path": str(cohort.path.resolve()),
            "kind": cohort.kind,
            "records": cohort.records,
            "digest": cohort.digest,
        },
        knowledge={"version": kb.version, "digest": kb.digest, "root": str(kb.root)},
        options={
            "selection": dict(selection),
            "store": str(location.resolve()) if location is not None else None,
            "rejects": str(rejects.resolve()),
        },
    )


def _check_batch_id(batch_id: str | None) -> None:
    if batch_id is None:
        return
    try:
        uuid.UUID(batch_id)
    except ValueError:
        raise InvalidInput(f"--batch-id {batch_id!r} is not a UUID") from None


def _prepare_state(request: BatchRequest, current: BatchState, state_file: Path) -> BatchState:
    """The state to run: the saved one when resuming (refused when anything differs),
    else the current one (refused when an unfinished batch owns the output)."""
    if request.resume:
        saved = BatchState.load(state_file)
        found = differences(saved, current)
        if request.batch_id is not None and request.batch_id != saved.batch_id:
            found.append(f"--batch-id {request.batch_id} is not the batch's {saved.batch_id}")
        if found:
            raise InvalidInput(
                f"cannot resume the batch of {state_file}: " + "; ".join(found) + ". Run it "
                "with the same input, knowledge and options, or start a new batch without "
                "--resume"
            )
        return saved
    if state_file.exists():
        try:
            unfinished = not BatchState.load(state_file).complete
        except InvalidInput:
            unfinished = True
        if unfinished:
            raise InvalidInput(
                f"{state_file} records an unfinished batch writing to the same --out: "
                f"continue it with --resume, or delete {state_file} to start again"
            )
    return current


def _open_outputs(
    state: BatchState, out: Path, rejects: Path, resume: bool
) -> tuple[IO[bytes], IO[bytes]]:
    """The results and rejects files, cut back to the checkpoint when resuming."""
    handles: list[IO[bytes]] = []
    try:
        checkpoint = state.checkpoint
        for path, size in ((out, checkpoint.out_bytes), (rejects, checkpoint.rejects_bytes)):
            if resume:
                actual = path.stat().st_size if path.exists() else 0
                if actual < size:
                    raise InvalidInput(
                        f"cannot resume: {path} holds {actual} bytes, fewer than the "
                        f"{size} the batch state records (was it changed?)"
                    )
                if path.exists():
                    os.truncate(path, size)
                handles.append(path.open("ab"))
            else:
                handles.append(path.open("wb"))
    except OSError as exc:
        for opened in handles:
            opened.close()
        raise InvalidInput(f"cannot write {exc.filename}: {exc.strerror}") from exc
    except BaseException:
        for opened in handles:
            opened.close()
        raise
    return handles[0], handles[1]


def _submitted(
    records: Iterator[CohortRecord],
    executor: Executor,
    run: _Run,
    resume: bool,
) -> None:
    """Send the records to the executor, a bounded window at a time, and write each
    answer in input order."""
    batch_id = run.state.batch_id
    window = max(4, WINDOW_PER_WORKER * executor.capacity)
    pending: deque[tuple[CohortRecord, RecordFuture | _Recovered]] = deque()
    for record in records:
        identifier = evaluation_id(batch_id, record.index)
        stored = run.store.result_json(identifier) if run.store is not None else None
        if stored is not None:
            if not resume:
                raise InvalidInput(
                    f"the audit store already holds evaluation {identifier} (record "
                    f"{record.index} of batch {batch_id}): a batch id is used once per "
                    "store; continue that batch with --resume or start a new one"
                )
            pending.append((record, _Recovered(stored)))
        else:
            task = RecordTask(record.index, record.source, record.data, identifier)
            pending.append((record, executor.submit(task)))
        while len(pending) >= window:
            run.write(*pending.popleft())
    while pending:
        run.write(*pending.popleft())


def run_batch(
    request: BatchRequest,
    executor_factory: ExecutorFactory,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """Run (or resume) a batch; return its summary. Ctrl-C stops it at a consistent point
    (the summary says `interrupted`); a usage problem or a refused resume raises
    InvalidInput before anything is written."""
    begun = time.monotonic()
    _check_batch_id(request.batch_id)
    rejects = request.rejects or default_rejects(request.out)
    if rejects.resolve() == request.out.resolve():
        raise InvalidInput("--rejects must be another file than --out")
    for path in (request.out, rejects):
        if not path.parent.is_dir():
            raise InvalidInput(f"cannot write {path}: no folder {path.parent}")
    cohort = scan_cohort(request.cohort)
    kb = load_knowledge(request.knowledge_root, request.cache_dir)
    selection = selection_for(kb, request.guideline, request.nccn, request.classification)
    state_file = state_path(request.out)
    state = _prepare_state(request, _identity(request, cohort, kb, selection), state_file)
    done_before = state.checkpoint.next_record
    # the root as an absolute path: a worker on another machine or folder reads the same one
    config = WorkerConfig(
        str(Path(kb.root).resolve()),
        kb.digest,
        dict(selection),
        request.store,
        str(request.cache_dir) if request.cache_dir else None,
    )
    location = store_path(request.store_location) if request.store else None
    interrupted = False
    startup = 0.0
    with ExitStack() as stack:
        store = stack.enter_context(open_store(location)) if location is not None else None
        if not request.resume:
            state.save(state_file)  # before the outputs are emptied: a crash can resume
        out, rejected = _open_outputs(state, request.out, rejects, request.resume)
        stack.callback(out.close)
        stack.callback(rejected.close)
        run = _Run(state, state_file, out, rejected, store, kb, cohort.records, on_progress)
        run.done_before = done_before
        try:
            if not state.complete:
                with executor_factory(config) as executor:
                    startup = time.monotonic() - begun
                    run.started = time.monotonic()
                    if on_progress is not None:
                        on_progress(run.progress())
                    records = read_cohort(cohort, start=state.checkpoint.next_record)
                    _submitted(records, executor, run, request.resume)
                state.complete = True
        except KeyboardInterrupt:
            interrupted = True
        finally:
            run.save()
    return BatchSummary(
        batch_id=state.batch_id,
        progress=run.progress(),
        out=request.out,
        rejects=rejects,
        state=state_file,
        store=location,
        complete=state.complete,
        interrupted=interrupted,
        resumed=request.resume,
        startup=startup,
    )
