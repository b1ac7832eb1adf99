"""The one door to the SPARQL: every query cmlkb runs is a file under queries/, read here.

No other module holds SPARQL text (tests/knowledge/test_query_files.py scans for it). Folders:

  app/      knowledge -> rule facts (rules/facts.yaml names them; in the knowledge digest)
  explain/  `cmlkb explain` and the citations beside each reason (`cmlkb query` lists them)
  audit/    named queries over the audit store (`cmlkb query` lists them)
  qc/       quality checks of `cmlkb check` (must return no row)
  engine/   the engine's own lookups (value-set ranks, defaults, labels, the store's head)

A query is named by its folder and file stem, `engine/status-ranks`, and read from a root
(a folder holding queries/): the knowledge copy for the files that belong to a knowledge
version (app/, explain/statements), else this installation (`installation_root()`).
Each file is read and parsed once (cached by path, size and modification time).

Header grammar: the file opens with `#` lines, up to the first line that is not one.
A key line is `# key: value` (one space after `#`); a line `#` + two or more spaces
continues the value of the key above it (so does the same key given again). Keys:

  # title:      what the rows are (required)
  # why:        who runs it and what for (required; `purpose:` is read as `why:` in
  #             copies written before the grammar was one)
  # severity:   violation | warning (qc/ only)
  # parameters:
  #   name (type, required|optional): description
  # columns:    ?a ?b ... (the projected variables)

Parameter types: `text` (a string literal), `iri` (a full IRI), `evaluation` (the named graph
of one evaluation, eval:<id>) and `bool`. Parameters are bound by a VALUES block placed at
the start of the query's outer WHERE group: the query stays valid SPARQL on its own, its
parameters are ordinary variables, and an optional parameter left unbound ranges over the
data (test it with `!BOUND(?name) || ...`). Values are pyoxigraph terms written out by
pyoxigraph (or Python bool/int/str converted by the declared type); a list of values binds
one row each (several listed parameters: every combination). Nothing is formatted into the
query text by hand.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmlkb.errors import CmlkbError

KEYS = ("title", "why", "severity", "parameters", "columns")
REQUIRED_KEYS = ("title", "why")
TYPES = ("text", "iri", "evaluation", "bool")
_ALIASES = {"purpose": "why"}

_KEY_LINE = re.compile(r"^# (\w+):\s*(.*?)\s*$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*?)\s*$")
_PARAMETER = re.compile(r"^#\s+(\w+)\s+\((\w+),\s*(required|optional)\):\s*(.*?)\s*$")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Query:
    """One query file: its name (folder/stem), text and header."""

    name: str
    path: Path
    text: str
    title: str
    why: str
    severity: str = ""
    columns: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()

    @property
    def stem(self) -> str:
        return self.path.stem

    @cached_property
    def where_offset(self) -> int:
        """Offset just after the `{` of the outer WHERE group (WHERE in comments skipped)."""
        for m in _WHERE.finditer(self.text):
            line = self.text[self.text.rfind("\n", 0, m.start()) + 1 : m.start()]
            if "#" not in line:
                return m.end()
        raise CmlkbError(f"query {self.name}: a parameterised query needs a WHERE clause")

    def parameter_gaps(self, params: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """The names given that the header does not declare (sorted), and the required
        parameters not given (in header order)."""
        declared = {p.name for p in self.parameters}
        unknown = sorted(set(params) - declared)
        missing = [p.name for p in self.parameters if p.required and p.name not in params]
        return unknown, missing

    def bind(self, params: Mapping[str, Any] | None = None) -> str:
        """The query text with its parameters bound (see the module doc)."""
        params = dict(params or {})
        declared = {p.name: p for p in self.parameters}
        unknown, missing = self.parameter_gaps(params)
        if unknown:
            raise CmlkbError(
                f"query {self.name}: unknown parameter {unknown[0]!r}; it takes "
                + (", ".join(declared) or "no parameters")
            )
        if missing:
            raise CmlkbError(f"query {self.name}: parameter {missing[0]!r} is required")
        if not params:
            return self.text
        columns = [[_term(self, declared[k], v) for v in _values(v)] for k, v in params.items()]
        rows = " ".join(
            "(" + " ".join(str(t) for t in row) + ")" for row in itertools.product(*columns)
        )
        where = self.where_offset
        names = " ".join(f"?{k}" for k in params)
        return f"{self.text[:where]} VALUES ({names}) {{ {rows} }}{self.text[where:]}"


def _values(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return [value]


def _term(query: Query, param: Parameter, value: Any) -> Any:
    """A parameter value as a pyoxigraph term (terms pass through)."""
    if isinstance(value, ox.NamedNode | ox.Literal | ox.BlankNode):
        return value
    if param.type == "bool" and isinstance(value, bool):
        return ox.Literal(value)
    if param.type == "text" and isinstance(value, str):
        return ox.Literal(value)
    if param.type == "iri" and isinstance(value, str):
        return ox.NamedNode(str(value))  # raises ValueError on a malformed IRI
    raise CmlkbError(
        f"query {query.name}: parameter {param.name!r} ({param.type}) cannot take {value!r}"
    )


def parse(text: str, name: str, path: Path) -> Query:
    """A query file's text and header; CmlkbError naming the file on a malformed header."""
    header: dict[str, str] = {}
    parameters: list[Parameter] = []
    key = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        where = f"{path}:{number}"
        m = _KEY_LINE.match(line)
        if m:
            key = _ALIASES.get(m.group(1), m.group(1))
            if key not in KEYS:
                raise CmlkbError(
                    f"{where}: unknown header key {m.group(1)!r}; the keys are " + ", ".join(KEYS)
                )
            header[key] = f"{header.get(key, '')} {m.group(2)}".strip()  # a repeat continues
            continue
        p = _PARAMETER.match(line) if key == "parameters" else None
        if p:
            if p.group(2) not in TYPES:
                raise CmlkbError(
                    f"{where}: parameter {p.group(1)} has type {p.group(2)!r}; the types are "
                    + ", ".join(TYPES)
                )
            parameters.append(
                Parameter(p.group(1), p.group(2), p.group(3) == "required", p.group(4))
            )
            continue
        c = _CONTINUATION.match(line)
        if c and key and key != "parameters":
            header[key] = f"{header[key]} {c.group(1)}".strip()
        elif line.strip("# "):
            raise CmlkbError(
                f"{where}: not a header line (`# key: value`, a continuation indented two "
                "spaces, or a parameter `#   name (type, required|optional): description`)"
            )
    missing = [k for k in REQUIRED_KEYS if not header.get(k)]
    if missing:
        raise CmlkbError(
            f"{path}: the query header lacks # {', # '.join(k + ':' for k in missing)}"
        )
    return Query(
        name=name,
        path=path,
        text=text,
        title=header["title"],
        why=header["why"],
        severity=header.get("severity", "").lower(),
        columns=tuple(header.get("columns", "").split()),
        parameters=tuple(parameters),
    )


@cache
def _read(path: Path, name: str, _mtime: int, _size: int) -> Query:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CmlkbError(f"{path}: cannot read the query: {exc}") from exc
    return parse(text, name, path)


def read(path: Path, name: str | None = None) -> Query:
    """The query in `path` (named folder/stem unless `name`), parsed once per file version."""
    try:
        st = path.stat()
    except OSError as exc:
        raise CmlkbError(f"no query {name or path.stem!r}: {path} not found") from exc
    return _read(path, name or f"{path.parent.name}/{path.stem}", st.st_mtime_ns, st.st_size)


@cache
def installation_root() -> Path:
    """The folder holding this installation's queries/ (beside the package folder)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "queries" / "engine").is_dir():
            return folder
    raise CmlkbError(f"no queries/engine folder above {Path(__file__).resolve().parent}")


def load(name: str, root: Path | None = None) -> Query:
    """The query `name` (folder/stem) of `root`/queries, this installation's by default."""
    base = (root if root is not None else installation_root()) / "queries"
    return read(base / f"{name}.rq", name)


def folder(name: str, root: Path | None = None) -> list[Query]:
    """Every query of one folder of `root`/queries (this installation's by default), by name."""
    base = (root if root is not None else installation_root()) / "queries" / name
    return [read(p, f"{name}/{p.stem}") for p in sorted(base.glob("*.rq"))]


def in_directory(directory: Path) -> list[Query]:
    """Every query file of a directory, by name (for folders given as a path)."""
    return [read(p) for p in sorted(directory.glob("*.rq"))]


def solutions(
    store: ox.Store, query: Query | str, params: Mapping[str, Any] | None = None
) -> ox.QuerySolutions:
    """Run a SELECT query (a Query, or a name of this installation) on a pyoxigraph store."""
    if isinstance(query, str):
        query = load(query)
    try:
        result = store.query(query.bind(params))
    except SyntaxError as exc:
        raise CmlkbError(f"{query.path}: not valid SPARQL: {exc}") from exc
    if not isinstance(result, ox.QuerySolutions):
        raise CmlkbError(f"{query.path}: the engine runs SELECT queries only")
    return result


def variables(result: ox.QuerySolutions) -> list[str]:
    return [v.value for v in result.variables]


def all_queries(root: Path | None = None) -> Iterable[Query]:
    """Every query file under `root`/queries (this installation's by default)."""
    base = (root if root is not None else installation_root()) / "queries"
    for path in sorted(base.rglob("*.rq")):
        yield read(path, path.relative_to(base).with_suffix("").as_posix())
