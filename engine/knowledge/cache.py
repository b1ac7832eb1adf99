"""A disk cache of what is costly to compute from the knowledge and depends on nothing
else: the knowledge facts (SPARQL results), the parsed, linted, stratified rules and the
citation table of the results.

Each value is kept in one JSON file per knowledge digest and engine code:
`<cache>/<engine>/<digest>/<name>.json`, where `<engine>` is a digest of the engine's own
code (every module of the package and its engine queries), so an edited engine never
reads what an older one wrote. A file names the digests it was made for and is used only
when both match; a file that cannot be read or decoded is ignored and written again.
Files are written whole (a temporary file renamed into place), so a reader never sees
half a file. The cache holds derived data only: with it or without it, the answers are
the same. Where the cache lives is the caller's choice (`KnowledgeBase.cache_dir`: the
command line's, None for the library and tests unless they give one); None means no disk
cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cmlkb.knowledge.query_files import installation_root

T = TypeVar("T")

FORMAT = 1  # the layout of the files; a change makes every older file stale


class _Knowledge(Protocol):
    digest: str
    cache_dir: Path | None


@cache
def engine_digest() -> str:
    """sha256 over this installation's engine code: every module of the package and the
    engine's own queries (queries/engine), by relative path and bytes."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py"))
    queries = installation_root() / "queries" / "engine"
    h = hashlib.sha256(f"cmlkb cache {FORMAT}".encode())
    for base, paths in ((package, files), (queries, sorted(queries.glob("*.rq")))):
        for path in paths:
            h.update(path.relative_to(base).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _path(kb: _Knowledge, name: str) -> Path:
    assert kb.cache_dir is not None
    digest = kb.digest.split(":", 1)[-1]
    return kb.cache_dir / engine_digest()[:16] / digest[:32] / f"{name}.json"


def cached(
    kb: _Knowledge,
    name: str,
    compute: Callable[[], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
    inputs: Sequence[str] = (),
) -> T:
    """The value `name` of the knowledge `kb`: read from the disk cache when a file for
    this digest and engine code is there and decodes, else computed (and written, when
    the cache can be written; a cache that cannot is simply not used). `inputs`: what
    else the value depends on outside the digest (the text of a query file of the
    knowledge root that the digest does not cover), checked like the digests."""
    if kb.cache_dir is None:
        return compute()
    path = _path(kb, name)
    key = {
        "digest": kb.digest,
        "engine": engine_digest(),
        "inputs": hashlib.sha256("\0".join(inputs).encode()).hexdigest(),
    }
    with contextlib.suppress(Exception):  # absent, unreadable or stale: computed afresh
        stored = json.loads(path.read_bytes())
        if all(stored[k] == v for k, v in key.items()):
            return decode(stored["value"])
    value = compute()
    _write(path, {**key, "value": encode(value)})
    return value


def _write(path: Path, content: dict[str, Any]) -> None:
    """Write `content` to `path` whole: a temporary file beside it, renamed into place."""
    temporary = None
    try:
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
        temporary = None
    except (OSError, TypeError, ValueError):
        pass  # a read-only or full disk, or a value JSON cannot hold: no cache this time
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
