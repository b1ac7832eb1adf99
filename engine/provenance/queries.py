"""Named SPARQL queries (queries/audit/*.rq, queries/explain/*.rq) run against the audit
store: `cmlkb query NAME [--param KEY=VALUE ...]`.

The files are read by cmlkb.knowledge.query_files, which defines the header grammar (title, why,
parameters, columns) and how parameters are bound. On the command line a parameter is
KEY=VALUE; the value is read by the parameter's type: `text` (a string), `iri` (stmt:x or
a full IRI), `evaluation` (an evaluation id, which names the graph eval:<id>) or `bool`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmlkb.errors import InvalidInput
from cmlkb.knowledge import query_files
from cmlkb.knowledge.namespaces import compact, evaluation_iri, expand
from cmlkb.knowledge.query_files import Parameter, Query

FOLDERS = ("audit", "explain")


def available(root: Path) -> dict[str, Query]:
    """Query name -> query of the folders under the knowledge root `root`, audit queries
    first (a name is unique across the folders)."""
    out: dict[str, Query] = {}
    for folder in FOLDERS:
        for query in query_files.folder(folder, root):
            out.setdefault(query.stem, query)
    return out


def load_query(name: str, root: Path) -> Query:
    """The named query of the query folders under `root`."""
    queries = available(root)
    if name not in queries:
        raise InvalidInput(f"no query named {name!r}; known queries: {', '.join(sorted(queries))}")
    return queries[name]


def _term(param: Parameter, value: str) -> Any:

    if param.type == "evaluation":
        return ox.NamedNode(str(evaluation_iri(value)))
    if param.type == "iri":
        return ox.NamedNode(str(expand(value)))
    if param.type == "bool":
        if value.lower() not in ("true", "false"):
            raise InvalidInput(f"--param {param.name}={value}: expected true or false")
        return ox.Literal(value.lower() == "true")
    return ox.Literal(value)


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
    # the loader's check, worded for the command line's --param (a usage error, exit 2)
    unknown, missing = query.parameter_gaps(params)
    if unknown:
        raise InvalidInput(
            f"query {name}: unknown parameter {unknown[0]!r}; it takes "
            + (", ".join(declared) or "no parameters")
        )
    if missing:
        raise InvalidInput(
            f"query {name}: missing --param {missing[0]}=VALUE ({declared[missing[0]].description})"
        )
    terms = {k: v if not isinstance(v, str) else _term(declared[k], v) for k, v in params.items()}
    solutions = store.query(query, terms)
    columns = query_files.variables(solutions)
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
