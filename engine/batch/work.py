"""One batch record, validated and evaluated: the function every batch worker runs, in a
process of the local pool (cmlkb.batch.pool) or on a Dask worker (cmlkb.batch.cluster).

A worker loads the knowledge once, from the root the parent passes (never from its own
environment), and refuses to work when its digest is not the parent's. For each record
it validates the case exactly as `cmlkb validate` does (one case per call), evaluates it
with the evaluation id the parent chose, and returns plain, picklable data: the result
in the project's canonical JSON and, when the batch stores, the audit store record made
ready here (`prepare_record`), which the parent appends in input order.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlkb.case.read import CaseInput, canonical_json, case_input
from cmlkb.case.validation import validate
from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge
from cmlkb.pipeline import ValidCase, evaluate_case
from cmlkb.provenance.store import PreparedRecord, prepare_record

__all__ = [
    "Answer",
    "Evaluated",
    "KnowledgeMismatch",
    "RecordTask",
    "Rejected",
    "WorkerConfig",
    "knowledge_identity",
    "process_record",
    "setup",
]


class KnowledgeMismatch(CmlkbError):
    """A worker's knowledge is not the parent's."""


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker of a batch needs: the knowledge root and the digest it must have,
    the guideline selection, and whether to prepare audit store records."""

    knowledge_root: str
    knowledge_digest: str
    selection: dict[str, str] = field(hash=False)
    store: bool
    cache_dir: str | None = None  # the disk cache of the compiled knowledge (None: none)


@dataclass(frozen=True)
class RecordTask:
    """One record to evaluate, with the evaluation id the parent gave it."""

    index: int
    source: str
    data: bytes
    evaluation_id: str


@dataclass(frozen=True)
class Evaluated:
    """A record evaluated: its result as canonical JSON text, and its audit store record
    when the batch stores."""

    index: int
    case_id: str
    result_json: str
    record: PreparedRecord | None


@dataclass(frozen=True)
class Rejected:
    """A record that is not a valid case: every violation as (JSON path, message)."""

    index: int
    source: str
    case_id: str | None
    problems: tuple[tuple[str, str], ...]


Answer = Evaluated | Rejected

# One evaluation at a time per process: durable-rules is not thread-safe (engine-notes C1
# #2), and a Dask worker may run several tasks in threads of one process.
_lock = threading.Lock()


def _knowledge(config: WorkerConfig) -> KnowledgeBase:
    cache = Path(config.cache_dir) if config.cache_dir else None
    kb = load_knowledge(Path(config.knowledge_root), cache)  # once per root and process
    if kb.digest != config.knowledge_digest:
        raise KnowledgeMismatch(
            f"the knowledge under {config.knowledge_root} is {kb.digest} on this worker "
            f"({socket.gethostname()}, process {os.getpid()}), not the batch's "
            f"{config.knowledge_digest}"
        )
    return kb


def knowledge_identity(root: str) -> dict[str, str]:
    """The knowledge a worker process loads from `root`: its resolved root, version and
    digest (loaded once and kept for the tasks that follow)."""
    kb = load_knowledge(Path(root))
    return {
        "root": str(Path(kb.root).resolve()),
        "version": kb.version,
        "digest": kb.digest,
    }


def _case_input(task: RecordTask) -> CaseInput:
    try:
        text = task.data.decode("utf-8")
    except UnicodeDecodeError:
        return CaseInput(task.source, None, None, "not valid JSON: the text is not UTF-8")
    return case_input(task.source, text)


def _evaluate(kb: KnowledgeBase, config: WorkerConfig, task: RecordTask) -> Answer:
    case = _case_input(task)
    report = validate([case], kb)
    if not report.ok:
        problems = tuple((p.path, p.message) for p in report.violations)
        return Rejected(task.index, task.source, case.case_id, problems)
    if len(report.cases) != 1:
        raise CmlkbError(f"record {task.index}: the validation returned no case")
    case_id, normalised = next(iter(report.cases.items()))
    evaluation = evaluate_case(
        ValidCase(normalised, report.rdf.get(case_id)),
        kb,
        config.selection,
        evaluation_id=task.evaluation_id,
    )
    record = prepare_record(evaluation, kb) if config.store else None
    return Evaluated(task.index, case_id, canonical_json(evaluation.result), record)


def process_record(config: WorkerConfig, task: RecordTask) -> Answer:
    """Validate and evaluate one record (the knowledge loaded on first use and checked)."""
    with _lock:
        return _evaluate(_knowledge(config), config, task)


def setup(config: WorkerConfig) -> Callable[[RecordTask], Any]:
    """A local pool worker's start: load and check the knowledge now (a mismatch stops the
    pool before any record), then answer records with `process_record`."""
    with _lock:
        _knowledge(config)
    return functools.partial(process_record, config)
