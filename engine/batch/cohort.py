"""Reading a cohort for `cmlkb batch`, lazily: a .jsonl file (one case per line), a .json
file (one case), or a folder of .json and .jsonl files taken in name order.

Each non-blank line of a .jsonl file (or each .json file) is one record, numbered from 0
in input order across the whole cohort; its `source` names the file and, for .jsonl, the
line number (`cohort.jsonl:17`), as `cmlkb validate` names it. A line is what lies
between two newline bytes, so line numbers are the ones an editor shows. Records are
bytes: a line that is not UTF-8 or not JSON is still a record, which the worker rejects
with its line number. `scan` reads the cohort once up front for its record count (the
progress total) and its digest (a resumed batch must read the same input).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlkb.errors import InvalidInput

__all__ = ["CohortRecord", "CohortScan", "cohort_files", "read_cohort", "scan_cohort"]

SUFFIXES = (".json", ".jsonl")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CohortRecord:
    """One record of a cohort: its place (`index`, from 0), where it comes from, its bytes."""

    index: int
    source: str
    data: bytes


@dataclass(frozen=True)
class CohortScan:
    """What `scan_cohort` found: the kind of input, its files, how many records they hold,
    and a digest of their names and bytes."""

    path: Path
    kind: str
    files: tuple[Path, ...]
    records: int
    digest: str


def cohort_files(path: Path) -> tuple[str, tuple[Path, ...]]:
    """The kind of cohort ('jsonl', 'json' or 'folder') and its files in reading order."""
    if path.is_dir():
        files = sorted(
            (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
            key=lambda p: p.name,
        )
        return "folder", tuple(files)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES:
            raise InvalidInput(
                f"{path}: a cohort is a .jsonl file (one case per line), a .json file or a "
                "folder of them"
            )
        return suffix[1:], (path,)
    raise InvalidInput(f"{path}: no such file or folder")


def _lines(path: Path, digest: Any = None) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line end) of each non-blank line of a .jsonl file;
    every byte read also goes into `digest` when given."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if digest is not None:
                digest.update(raw)
            line = raw.rstrip(b"\n").rstrip(b"\r")
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if line.strip():
                yield number, line


def _file_records(path: Path, digest: Any = None) -> Iterator[tuple[str, bytes]]:
    """(source, bytes) of each record of one cohort file."""
    try:
        if path.suffix.lower() == ".jsonl":
            for number, line in _lines(path, digest):
                yield f"{path.name}:{number}", line
            return
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror}") from exc
    if digest is not None:
        digest.update(data)
    yield path.name, data[len(_BOM) :] if data.startswith(_BOM) else data


def scan_cohort(path: Path) -> CohortScan:
    """Count the records of a cohort and digest its file names and bytes, in one pass."""
    kind, files = cohort_files(path)
    digest = hashlib.sha256()
    count = 0
    for file in files:
        digest.update(file.name.encode() + b"\0")
        count += sum(1 for _ in _file_records(file, digest))
        digest.update(b"\0")
    return CohortScan(path, kind, files, count, "sha256:" + digest.hexdigest())


def read_cohort(scan: CohortScan, start: int = 0) -> Iterator[CohortRecord]:
    """The records of a scanned cohort from record `start` on, read lazily."""
    index = 0
    for file in scan.files:
        for source, data in _file_records(file):
            if index >= start:
                yield CohortRecord(index, source, data)
            index += 1
