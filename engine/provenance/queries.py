"""Named SPARQL queries (queries/audit/*.rq, queries/explain/*.rq) run against the audit
store: `cmlkb query NAME [--param KEY=VALUE ...]`.

Each query file starts with a header of `#` lines: title, purpose, parameters, columns.
A parameter line reads `#   name (type, required|optional): description`; the type is
`text` (a string), `iri` (stmt:x or a full IRI) or `evaluation` (an evaluation id, which
names the graph eval:<id>). Parameters are bound by a VALUES block placed at the start of
the query's outer WHERE group, so a query is valid SPARQL on its own and its parameters are
ordinary variables (an unbound optional parameter simply ranges over the data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmlkb.errors import InvalidInput
from cmlkb.provenance.graph import evaluation_iri, expand
from cmlkb.results.result import compact

FOLDERS = ("audit", "explain")
_PARAM = re.compile(r"^#\s+(\w+)\s+\((\w+),\s*(required|optional)\):\s*(.*)$")


@dataclass
class Parameter:
    name: str
    type: str
    required: bool
    description: str


@dataclass
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str = ""
    parameters: list[Parameter] = field(default_factory=list)


def available(root: Path) -> dict[str, Path]:
    """Query name -> file under the knowledge root `root`, audit queries first (a name is
    unique across the folders)."""
    out: dict[str, Path] = {}
    for folder in FOLDERS:
        for f in sorted((root / "queries" / folder).glob("*.rq")):
            out.setdefault(f.stem, f)
    return out


@cache
def load_query(name: str, root: Path) -> NamedQuery:
    """The named query of the query folders under `root` (read once per name and root)."""
    files = available(root)
    if name not in files:
        raise InvalidInput(f"no query named {name!r}; known queries: {', '.join(sorted(files))}")
    text = files[name].read_text(encoding="utf-8")
    query = NamedQuery(name, files[name], text)
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# title:"):
            query.title = line.split(":", 1)[1].strip()
        m = _PARAM.match(line)
        if m:
            query.parameters.append(
                Parameter(m.group(1), m.group(2), m.group(3) == "required", m.group(4))
            )
    return query


def _term(param: Parameter, value: str) -> Any:

    if param.type == "evaluation":
        return ox.NamedNode(str(evaluation_iri(value)))
    if param.type == "iri":
        return ox.NamedNode(str(expand(value)))
    return ox.Literal(value)


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def bind(text: str, terms: dict[str, Any]) -> str:
    """The query with `VALUES (?a ?b) { (t1 t2) }` at the start of its outer WHERE group."""
    if not terms:
        return text
    m = _WHERE.search(text)
    if m is None:
        raise InvalidInput("a parameterised query needs a WHERE clause")
    names = " ".join(f"?{k}" for k in terms)
    values = " ".join(str(t) for t in terms.values())
    return f"{text[: m.end()]} VALUES ({names}) {{ ({values}) }}{text[m.end() :]}"


def python_value(term: Any) -> Any:
    """A query result term as plain Python: IRIs compacted (stmt:x), numbers as numbers,
    booleans as booleans, other literals as text; None when unbound."""

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if dt.endswith("#integer"):
            return int(term.value)
        if dt.endswith("#boolean"):
            return term.value == "true"
        return term.value
    return str(term)


def run_query(
    store: Any, name: str, params: dict[str, Any], root: Path
) -> tuple[list[str], list[dict]]:
    """Run the named query of the knowledge root `root` on an AuditStore; params are
    strings (converted by the header's types) or pyoxigraph terms. Returns the column
    names and the rows."""
    query = load_query(name, root)
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise InvalidInput(
            f"query {name}: unknown parameter {unknown[0]!r}; it takes "
            + (", ".join(declared) or "no parameters")
        )
    missing = [p.name for p in query.parameters if p.required and p.name not in params]
    if missing:
        raise InvalidInput(
            f"query {name}: missing --param {missing[0]}=VALUE ({declared[missing[0]].description})"
        )
    terms = {k: v if not isinstance(v, str) else _term(declared[k], v) for k, v in params.items()}
    solutions = store.query(bind(query.text, terms))
    columns = [v.value for v in solutions.variables]
    rows = [{c: python_value(sol[c]) for c in columns} for sol in solutions]
    return columns, rows


def parse_params(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def format_table(columns: list[str], rows: list[dict]) -> str:
    if not rows:
        return "(no rows)\n"
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"
