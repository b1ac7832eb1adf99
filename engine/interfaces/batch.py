"""`cmlkb batch COHORT --out FILE [...]`: the options, the progress display and the
summary. The work is cmlkb.batch (runner, worker pool, Dask).

Progress goes to stderr: a bar with rate and ETA when stderr is a terminal, else a plain
line every `--progress-every` seconds. Only counts and the batch id are shown, never
patient data. The summary goes to stdout. Exit codes: 0 every record evaluated, 2 some
rejected (the rest evaluated and stored) or a usage error or a refused resume, 1 an
internal error (a record whose evaluation failed), 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cmlkb.batch.cluster import dask_cluster
from cmlkb.batch.runner import (
    BatchProgress,
    BatchRequest,
    BatchSummary,
    ExecutorFactory,
    local_pool,
    run_batch,
)
from cmlkb.errors import InvalidInput


def duration(seconds: float | None) -> str:
    """12.3 -> '12s', 195 -> '3m15s', 7300 -> '2h01m'; None -> '?'."""
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _counts(p: BatchProgress) -> str:
    return f"{p.evaluated} evaluated, {p.rejected} rejected, {p.failed} failed"


def progress_line(p: BatchProgress) -> str:
    """One plain progress line: done/total, rate, ETA and the counts."""
    share = f" ({100 * p.done / p.total:.0f}%)" if p.total else ""
    return (
        f"batch: {p.done}/{p.total} records{share}, {p.rate:.1f} records/s, "
        f"ETA {duration(p.eta)}; {_counts(p)}"
    )


class PlainProgress:
    """A progress line on stderr every `every` seconds (not a terminal: logs, CI)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.last = 0.0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, p: BatchProgress) -> None:
        now = time.monotonic()
        if now - self.last >= self.every or p.done == p.total:
            self.last = now
            print(progress_line(p), file=sys.stderr, flush=True)


class BarProgress:
    """A rich progress bar on stderr (a terminal): bar, done/total, rate, ETA and the
    records rejected or failed, narrow enough for 80 columns."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("batch"),
            BarColumn(bar_width=16),
            MofNCompleteColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[counts]}"),
            console=Console(stderr=True),
        )
        self.task: Any = None

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def update(self, p: BatchProgress) -> None:
        fields: dict[str, Any] = {
            "rate": f"{p.rate:.1f}",
            "eta": duration(p.eta),
            "counts": f"{p.rejected} rejected, {p.failed} failed",
        }
        if self.task is None:
            self.task = self.progress.add_task("batch", total=p.total, completed=p.done, **fields)
        else:
            self.progress.update(self.task, completed=p.done, **fields)


def summary_lines(s: BatchSummary) -> list[str]:
    p = s.progress
    elapsed = p.elapsed
    lines = [
        f"batch {s.batch_id}: {p.total} records: {_counts(p)}; this run {p.done - p.done_before} "
        f"records in {duration(elapsed)} ({p.rate:.1f} records/s, start-up {duration(s.startup)})"
    ]
    if s.resumed:
        lines.append(
            f"resumed at record {p.done_before}: {p.done_before} were written before, "
            f"{p.recovered} taken from the audit store (stored before the stop, not evaluated "
            "again)"
        )
    lines.append(f"results: {s.out}")
    lines.append(f"rejects: {s.rejects} ({p.rejected + p.failed} records)")
    if s.store is not None:
        lines.append(f"audit store: {s.store} ({p.evaluated} evaluations of this batch)")
    else:
        lines.append("audit store: not used (--no-store)")
    kept = "evaluated and stored" if s.store is not None else "evaluated"
    if s.interrupted:
        lines.append(
            f"interrupted after {p.done} of {p.total} records; what is written is consistent "
            f"(state {s.state}): run the same command with --resume to continue"
        )
    elif p.failed:
        lines.append(
            f"{p.failed} record(s) could not be evaluated (an internal error, see the rejects "
            f"file); the rest were {kept}"
        )
    elif p.rejected:
        lines.append(
            f"{p.rejected} record(s) were rejected as invalid (see the rejects file); the rest "
            f"were {kept}"
        )
    return lines


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _executor(args: argparse.Namespace) -> ExecutorFactory:
    if args.scheduler is not None or args.dask_local is not None:
        if args.workers is not None:
            raise InvalidInput("--workers is for the local pool; a Dask cluster has its own")
        if args.dask_local is not None and args.dask_local < 1:
            raise InvalidInput("--dask-local needs at least 1 worker")
        return functools.partial(
            dask_cluster, scheduler=args.scheduler, local_workers=args.dask_local
        )
    workers = args.workers if args.workers is not None else cpu_count()
    if workers < 1:
        raise InvalidInput("--workers needs at least 1")
    return local_pool(workers)


def run(args: argparse.Namespace) -> int:
    if args.progress_every <= 0:
        raise InvalidInput("--progress-every needs a positive number of seconds")
    factory = _executor(args)
    request = BatchRequest(
        cohort=Path(args.cohort),
        out=Path(args.out),
        knowledge_root=args.knowledge_root,
        rejects=Path(args.rejects) if args.rejects else None,
        guideline=args.guideline,
        nccn=args.nccn,
        classification=args.classification,
        store=not args.no_store,
        store_location=Path(args.store) if args.store else None,
        resume=args.resume,
        batch_id=args.batch_id,
        cache_dir=args.cache_dir,
    )
    display = BarProgress() if sys.stderr.isatty() else PlainProgress(args.progress_every)
    with display:
        summary = run_batch(request, factory, display.update)
    sys.stdout.write("\n".join(summary_lines(summary)) + "\n")
    return 130 if summary.interrupted else summary.exit_code
