"""The case shapes (ontology/shapes/case.ttl) executed on a case's triples, fast.

W3C SHACL (https://www.w3.org/TR/shacl/) for the features the case shapes use, and no
other: node shapes with sh:targetClass; property shapes with an IRI sh:path and the core
constraints sh:minCount, sh:maxCount, sh:datatype, sh:minInclusive, sh:maxInclusive,
sh:minExclusive, sh:maxExclusive, sh:in and sh:class; sh:message, sh:severity and
sh:deactivated; and SHACL-SPARQL constraints (sh:sparql, with their prefixes declared by
sh:prefixes) on a node shape, whose messages may name their variables ({?var}).

The shapes file stays the one source of the case constraints: it is read once per
knowledge root and process (rdflib, at load time) and each shape compiled to a plain
Python check (core constraints) or kept as its SPARQL text (SPARQL constraints). For each
case the core constraints run in Python over an index of the case's triples, and each
SPARQL constraint runs on a pyoxigraph store of them. SHACL runs a SPARQL constraint once
per focus node with $this pre-bound (SHACL 5.3.1; pyoxigraph's SEP-0007 substitutions);
a query whose form guarantees the same solutions when $this is left free (see
`_once_per_case`) runs once per case instead, its solutions going to their ?this, which
saves the ~50 us pyoxigraph spends parsing and planning each query and keeps big cases
linear. Every SPARQL constraint of case.ttl has that form.

A shape that uses anything else (sh:pattern, sh:or, a path expression, a SPARQL
constraint on a property shape, ...) fails compilation with `ShapesNotSupported`, which
names each shape and feature: `cmlkb validate` stops with it and `cmlkb check` reports it
as a violation, so a knowledge engineer learns at once. The results are the ones pySHACL
gives for the same shapes and data (source shape, focus node, path, severity, message,
value): tests/shapes/case/test_conformance.py runs pySHACL as the reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH, XSD
from rdflib.term import Node

from cmlkb.case.read import oxigraph_term
from cmlkb.errors import CmlkbError

SHAPES_FILE = Path("ontology") / "shapes" / "case.ttl"

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS_OF = ox.NamedNode(str(RDFS.subClassOf))
_THIS = ox.Variable("this")

# What the executor implements, per kind of node of the shapes graph. Non-validating
# SHACL properties (names, descriptions, order, groups) are allowed and ignored.
_NON_VALIDATING = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue}
_NODE_SHAPE = {
    SH.targetClass,
    SH.property,
    SH.sparql,
    SH.severity,
    SH.message,
    SH.deactivated,
} | _NON_VALIDATING
_PROPERTY_SHAPE = {
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH["in"],
    SH["class"],
    SH.severity,
    SH.message,
    SH.deactivated,
} | _NON_VALIDATING
_SPARQL_CONSTRAINT = {SH.select, SH.prefixes, SH.message, SH.deactivated}
_SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape}
_SINGLE = (
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH["in"],
    SH.severity,
    SH.deactivated,
)
# Predicates that make their subject (or object) a shape, for finding every shape.
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
_SHAPE_VALUED = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_SHAPE_LISTS = (SH["or"], SH["and"], SH.xone)

# The comparison constraints: component, parameter, and when a value passes (by the sign
# of value - bound).
_RANGE = (
    (SH.MinInclusiveConstraintComponent, SH.minInclusive, lambda d: d >= 0),
    (SH.MaxInclusiveConstraintComponent, SH.maxInclusive, lambda d: d <= 0),
    (SH.MinExclusiveConstraintComponent, SH.minExclusive, lambda d: d > 0),
    (SH.MaxExclusiveConstraintComponent, SH.maxExclusive, lambda d: d < 0),
)

# Lexical spaces of the datatypes sh:datatype may name (XML Schema 1.1 part 2): a literal
# with one of these datatypes matches only when well-formed (SHACL 4.1.2).
_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_LEXICAL = {
    str(XSD.string): None,
    str(XSD.integer): re.compile(r"[+-]?[0-9]+"),
    str(XSD.decimal): re.compile(_DECIMAL),
    str(XSD.double): re.compile(rf"(?:{_DECIMAL}(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)"),
    str(XSD.float): re.compile(rf"(?:{_DECIMAL}(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)"),
    str(XSD.boolean): re.compile(r"true|false|1|0"),
    str(XSD.date): re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?"),
}
_NUMERIC = {str(XSD.integer), str(XSD.decimal), str(XSD.double), str(XSD.float)}
_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
# The parts of a query that hold no structure: strings, IRIs and comments.
_QUERY_NOISE = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|<[^<>\s\"{}|^`]*>|#[^\n]*",
    re.DOTALL,
)


def _query_code(text: str) -> str:
    """A query with each string and IRI replaced by the word TERM and each comment by a
    space, so that keywords, braces and variables can be found by pattern."""
    return _QUERY_NOISE.sub(lambda m: " " if m.group(0)[0] == "#" else " TERM ", text)


# SHACL 5.3.1 and Appendix A: what a SPARQL constraint's query must not contain.
_FORBIDDEN = (
    (re.compile(r"\bMINUS\b", re.IGNORECASE), "MINUS"),
    (re.compile(r"\bVALUES\b", re.IGNORECASE), "VALUES"),
    (re.compile(r"\bSERVICE\b", re.IGNORECASE), "SERVICE"),
    (re.compile(r"[?$](?:shapesGraph|currentShape)\b"), "$shapesGraph or $currentShape"),
    (re.compile(r"[?$]PATH\b"), "$PATH (a node shape has no path)"),
    (re.compile(r"\bAS\s*[?$]this\b", re.IGNORECASE), "AS $this (re-binds the focus node)"),
)


class ShapesNotSupported(CmlkbError):
    """The case shapes use SHACL the executor does not implement (or misuse it). Each
    problem names the shape and the feature; `problems` lists them one by one."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {shape}: {what}" for shape, what in problems)
        super().__init__(
            f"{path}: the case shapes use SHACL that cmlkb's case validation does not "
            f"implement (cmlkb.case.shapes; rewrite the shape or extend the executor):\n{lines}"
        )


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result: which shape (and, for a SPARQL constraint, which
    sh:sparql node of the shapes graph) and constraint component, the focus node, the
    result path, the severity (sh:Violation, sh:Warning or sh:Info IRI), the message and
    the value (pyoxigraph terms; a literal keeps the lexical form it has in the case)."""

    source_shape: Node
    source_constraint: Node | None
    component: str
    focus: Any
    path: ox.NamedNode | None
    severity: str
    message: str
    value: Any = None


# --------------------------------------------------------------------------------------
# Literal values
# --------------------------------------------------------------------------------------


def well_formed(literal: ox.Literal) -> bool:
    """The literal is in the lexical space of its datatype (for the datatypes above; any
    other datatype counts as well-formed)."""
    return _well_formed(literal.datatype.value, literal.value)


@lru_cache(maxsize=4096)
def _well_formed(datatype: str, lexical: str) -> bool:
    pattern = _LEXICAL.get(datatype)
    if pattern is None:
        return True
    match = pattern.fullmatch(lexical)
    if match is None:
        return False
    if datatype == str(XSD.date):
        year, month, day = (int(g) for g in match.groups()[:3])
        try:
            date(year, month, day)
        except ValueError:
            return False
    return True


def _ordered(term: Any) -> tuple[str, Any] | None:
    """A literal's value for the SPARQL order comparison (numbers with numbers, dates with
    dates, text with text), None when it cannot be compared (not a literal, ill-formed, a
    date with a time zone, NaN)."""
    if not isinstance(term, ox.Literal) or term.language:
        return None
    datatype = term.datatype.value
    if not well_formed(term):
        return None
    if datatype in _NUMERIC:
        try:
            number = Decimal(term.value.replace("INF", "Infinity"))
        except InvalidOperation:
            return None
        return None if number.is_nan() else ("number", number)
    if datatype == str(XSD.date):
        match = _LEXICAL[datatype].fullmatch(term.value)  # type: ignore[union-attr]
        year, month, day, zone = match.groups()  # type: ignore[union-attr]
        if zone or int(year) < 1:
            return None  # a time zone orders dates only partially; SPARQL may not compare
        return ("date", date(int(year), int(month), int(day)))
    if datatype == str(XSD.string):
        return ("text", term.value)
    return None


def _sign(value: tuple[str, Any], bound: tuple[str, Any]) -> int | None:
    if value[0] != bound[0]:
        return None
    return (value[1] > bound[1]) - (value[1] < bound[1])


# --------------------------------------------------------------------------------------
# Compiled shapes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PropertyShape:
    node: Node
    path: ox.NamedNode
    severity: str
    message: str
    min_count: int | None = None
    max_count: int | None = None
    datatype: ox.NamedNode | None = None
    ranges: tuple[tuple[str, tuple[str, Any], Any], ...] = ()
    allowed: frozenset[Any] | None = None
    classes: tuple[ox.NamedNode, ...] = ()

    def failures(self, values: list[Any], data: _CaseData) -> Iterator[tuple[str, Any]]:
        """(constraint component, value node or None) for every failure on one focus."""
        if self.min_count is not None and len(values) < self.min_count:
            yield str(SH.MinCountConstraintComponent), None
        if self.max_count is not None and len(values) > self.max_count:
            yield str(SH.MaxCountConstraintComponent), None
        for value in values:
            if self.datatype is not None and not (
                isinstance(value, ox.Literal)
                and value.datatype == self.datatype
                and well_formed(value)
            ):
                yield str(SH.DatatypeConstraintComponent), value
            if self.ranges:
                ordered = _ordered(value)
                for component, bound, passes in self.ranges:
                    sign = _sign(ordered, bound) if ordered is not None else None
                    if sign is None or not passes(sign):
                        yield component, value
            if self.allowed is not None and value not in self.allowed:
                yield str(SH.InConstraintComponent), value
            for cls in self.classes:
                if isinstance(value, ox.Literal) or cls not in data.classes_of(value):
                    yield str(SH.ClassConstraintComponent), value


@dataclass(frozen=True)
class _SparqlConstraint:
    """A SPARQL constraint: its text as written in the shapes with PREFIX declarations for
    the sh:prefixes it uses, and whether it may run once per case for all focus nodes
    (`once`, see `_once_per_case`) instead of once per focus node."""

    shape: Node
    node: Node
    severity: str
    message: str
    query: str
    once: bool


@dataclass(frozen=True)
class _NodeShape:
    node: Node
    classes: tuple[ox.NamedNode, ...]
    properties: tuple[_PropertyShape, ...]
    sparql: tuple[_SparqlConstraint, ...]


@dataclass
class _CaseData:
    """One case's triples, indexed for the core constraints, and (built on first use) a
    pyoxigraph store of them for the SPARQL constraints."""

    quads: list[ox.Quad]
    objects: dict[tuple[Any, Any], list[Any]] = field(default_factory=dict)
    types: dict[Any, list[Any]] = field(default_factory=dict)
    superclasses: dict[Any, list[Any]] = field(default_factory=dict)
    _store: ox.Store | None = None
    _originals: dict[tuple[str, Any], ox.Literal] | None = None

    def __post_init__(self) -> None:
        objects = self.objects
        self.quads = list(dict.fromkeys(self.quads))  # a graph is a set of triples
        for quad in self.quads:
            key = (quad.subject, quad.predicate)
            found = objects.get(key)
            if found is None:
                objects[key] = [quad.object]
            else:
                found.append(quad.object)
            if quad.predicate == _RDF_TYPE:
                self.types.setdefault(quad.object, []).append(quad.subject)
            elif quad.predicate == _SUBCLASS_OF:
                self.superclasses.setdefault(quad.subject, []).append(quad.object)

    def subclasses(self, cls: Any) -> list[Any]:
        """`cls` and every class declared (in the data) a subclass of it, transitively."""
        found = [cls]
        for current in found:
            for sub, supers in self.superclasses.items():
                if current in supers and sub not in found:
                    found.append(sub)
        return found

    def instances(self, classes: Iterable[Any]) -> list[Any]:
        """The SHACL instances of any of `classes` (rdf:type/rdfs:subClassOf*), in the
        order of the triples."""
        found: dict[Any, None] = {}
        for cls in classes:
            for sub in self.subclasses(cls) if self.superclasses else [cls]:
                for node in self.types.get(sub, ()):
                    found[node] = None
        return list(found)

    def classes_of(self, node: Any) -> set[Any]:
        found = set(self.objects.get((node, _RDF_TYPE), ()))
        todo = list(found)
        while todo:
            for sup in self.superclasses.get(todo.pop(), ()):
                if sup not in found:
                    found.add(sup)
                    todo.append(sup)
        return found

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            self._store = ox.Store()
            self._store.extend(self.quads)
        return self._store

    def original(self, term: Any) -> Any:
        """A literal from a query as the case wrote it: the store keeps numbers in their
        canonical form (0.050 comes back as 0.05), the results keep the case's form."""
        if not isinstance(term, ox.Literal) or term.datatype.value not in _NUMERIC:
            return term
        if self._originals is None:
            self._originals = {}
            for quad in self.quads:
                obj = quad.object
                if isinstance(obj, ox.Literal) and obj.datatype.value in _NUMERIC:
                    ordered = _ordered(obj)
                    if ordered is not None:
                        self._originals.setdefault((obj.datatype.value, ordered[1]), obj)
        ordered = _ordered(term)
        if ordered is None:
            return term
        return self._originals.get((term.datatype.value, ordered[1]), term)


@dataclass(frozen=True)
class CaseShapes:
    """The compiled case shapes of one knowledge root."""

    path: Path
    shapes: tuple[_NodeShape, ...]

    def validate(self, quads: list[ox.Quad]) -> list[ShapeResult]:
        """Every validation result of the shapes on the triples `quads` (one case)."""
        data = _CaseData(quads)
        results: list[ShapeResult] = []
        for shape in self.shapes:
            focus_nodes = data.instances(shape.classes)
            if not focus_nodes:
                continue
            for prop in shape.properties:
                for focus in focus_nodes:
                    values = data.objects.get((focus, prop.path))
                    if values is None:
                        if not prop.min_count:
                            continue  # nothing to check: no value, none required
                        values = []
                    for component, value in prop.failures(values, data):
                        results.append(
                            ShapeResult(
                                prop.node,
                                None,
                                component,
                                focus,
                                prop.path,
                                prop.severity,
                                prop.message,
                                value,
                            )
                        )
            for constraint in shape.sparql:
                if constraint.once:
                    results.extend(_run_sparql(constraint, set(focus_nodes), None, data))
                else:
                    for focus in focus_nodes:
                        results.extend(_run_sparql(constraint, {focus}, focus, data))
        return results


def _run_sparql(
    constraint: _SparqlConstraint, focus_nodes: set[Any], focus: Any, data: _CaseData
) -> list[ShapeResult]:
    """The results of one SPARQL constraint: one per distinct solution (this, path, value
    and the other variables) for each focus node, as SHACL 5.3.2 and pySHACL make them.
    With `focus` the query runs with $this pre-bound to it; without, it runs once and its
    solutions are kept for the $this in `focus_nodes`."""
    if focus is None:
        solutions = data.store.query(constraint.query)
    else:
        solutions = data.store.query(constraint.query, substitutions={_THIS: focus})
    assert isinstance(solutions, ox.QuerySolutions)  # a SELECT: checked by compilation
    names = [v.value for v in solutions.variables]
    seen: set[tuple[Any, ...]] = set()
    out = []
    for solution in solutions:
        if solution["this"] not in focus_nodes:
            continue
        row = {name: data.original(solution[name]) for name in names}
        key = tuple(row.values())
        if key in seen:
            continue
        seen.add(key)
        this = row.get("this")
        value = row.get("value")
        bound = {k: v for k, v in row.items() if v is not None}
        bound["value"] = value if value is not None else this
        out.append(
            ShapeResult(
                constraint.shape,
                constraint.node,
                str(SH.SPARQLConstraintComponent),
                this,
                row.get("path"),
                constraint.severity,
                _fill(constraint.message, bound),
                value if value is not None else this,
            )
        )
    return out


def _fill(template: str, bound: dict[str, Any]) -> str:
    """A SPARQL constraint's message with {?var} / {$var} replaced by the variable's value
    (its lexical form or IRI); unbound variables are left as written."""

    def value(match: re.Match[str]) -> str:
        term = bound.get(match.group(1))
        return match.group(0) if term is None else str(term.value)

    return _TEMPLATE.sub(value, template)


# --------------------------------------------------------------------------------------
# Once per case or once per focus node
# --------------------------------------------------------------------------------------

# Tokens of a query with its strings, IRIs and comments blanked (_QUERY_NOISE): braces,
# parentheses, variables, words (keywords, prefixed names) and any other character.
_TOKEN = re.compile(r"[{}()]|[?$][A-Za-z_0-9]+|[A-Za-z_][A-Za-z_0-9:.\-]*[A-Za-z_0-9]|\S")
_THIS_TOKENS = {"?this", "$this"}
_GROUP_KEYWORDS = {"FILTER", "OPTIONAL", "BIND", "UNION", "GRAPH", "MINUS", "VALUES", "SERVICE"}
_NOT_IN_OPTIONAL = {"BIND", "OPTIONAL", "UNION", "GRAPH", "MINUS", "VALUES", "SERVICE", "SELECT"}


def _balanced(tokens: list[str], i: int) -> int:
    """The index after the bracket group opening at tokens[i] ('(' or '{'), or -1 when it
    is not closed or holds a sub-SELECT."""
    depth = 0
    for j in range(i, len(tokens)):
        token = tokens[j]
        if token.upper() == "SELECT":
            return -1
        if token in "({":
            depth += 1
        elif token in ")}":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _filter_end(tokens: list[str], i: int) -> int:
    """The index after the constraint of a FILTER whose keyword is at tokens[i], or -1."""
    i += 1
    if i < len(tokens) and tokens[i].upper() == "NOT":
        i += 1
    if i < len(tokens) and tokens[i].upper() == "EXISTS":
        i += 1
    elif i < len(tokens) and tokens[i] not in "({":
        i += 1  # a function call: FILTER regex(...)
    return _balanced(tokens, i) if i < len(tokens) and tokens[i] in "({" else -1


def _once_per_case(code: str) -> bool:
    """True when the SELECT (strings, IRIs and comments blanked) gives, run once with $this
    free, exactly the solutions that running it with $this pre-bound to each focus node
    gives for that node (the ones whose ?this is the node). Sure when:

    - it is `SELECT [DISTINCT|REDUCED] ?vars WHERE { group }` and nothing follows the
      group (no GROUP BY, ORDER BY, LIMIT, OFFSET);
    - the first element of the group that is not a FILTER is a triples block naming
      $this, so every solution binds $this before anything else is evaluated;
    - the group's other elements are triples blocks, FILTERs (whose EXISTS patterns see
      the solution's $this), BINDs, and OPTIONALs holding only triples and FILTERs (a
      left join whose condition sees $this): no nested group, UNION, GRAPH or sub-SELECT,
      in which $this could be evaluated before it is bound.

    Any other query runs once per focus node, which is SHACL's definition."""
    tokens = _TOKEN.findall(code)
    upper = [t.upper() for t in tokens]
    if not upper or upper[0] != "SELECT":
        return False
    i = 1
    if i < len(upper) and upper[i] in ("DISTINCT", "REDUCED"):
        i += 1
    while i < len(tokens) and tokens[i][0] in "?$":
        i += 1
    if i < len(upper) and upper[i] == "WHERE":
        i += 1
    if i >= len(tokens) or tokens[i] != "{" or _balanced(tokens, i) != len(tokens):
        return False
    i += 1
    end = len(tokens) - 1
    this_bound = False
    while i < end:
        token = upper[i]
        if token == ".":
            i += 1
        elif token == "FILTER":
            i = _filter_end(tokens, i)
        elif token == "BIND" and this_bound:
            i = _balanced(tokens, i + 1) if tokens[i + 1] == "(" else -1
        elif token == "OPTIONAL" and this_bound:
            if tokens[i + 1] != "{":
                return False
            close = _balanced(tokens, i + 1)
            j = i + 2
            while 0 <= j < close - 1:
                if upper[j] in _NOT_IN_OPTIONAL or tokens[j] == "{":
                    return False
                j = _filter_end(tokens, j) if upper[j] == "FILTER" else j + 1
            i = close if j == close - 1 else -1
        elif token in _GROUP_KEYWORDS or token in ("{", "SELECT"):
            return False
        else:  # a triples block, up to the next element of the group
            start = i
            while i < end and upper[i] not in _GROUP_KEYWORDS and tokens[i] not in "{}":
                i += 1
            this_bound = this_bound or any(t in _THIS_TOKENS for t in tokens[start:i])
            if not this_bound:
                return False
        if i < 0:
            return False
    return this_bound


# --------------------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, graph: Graph, path: Path) -> None:
        self.graph = graph
        self.path = path
        self.problems: list[tuple[str, str]] = []

    def name(self, node: Node) -> str:
        if isinstance(node, URIRef):
            try:
                return self.graph.namespace_manager.normalizeUri(node)
            except Exception:  # rdflib raises on IRIs it cannot split
                return f"<{node}>"
        owner = next(self.graph.subjects(SH.property, node), None) or next(
            self.graph.subjects(SH.sparql, node), None
        )
        path = self.graph.value(node, SH.path)
        where = f" of {self.name(owner)}" if owner is not None else ""
        what = f"property shape ({self.name(path)})" if path is not None else "blank node"
        return f"the {what}{where}"

    def problem(self, node: Node, what: str) -> None:
        self.problems.append((self.name(node), what))

    def one(self, node: Node, predicate: URIRef) -> Node | None:
        values = list(self.graph.objects(node, predicate))
        if len(values) > 1:
            self.problem(node, f"{len(values)} values of {self.name(predicate)} (one expected)")
        return values[0] if values else None

    def unsupported(self, node: Node, allowed: set[URIRef], kind: str) -> None:
        for predicate in sorted(set(self.graph.predicates(node, None)), key=str):
            if predicate == RDF.type:
                for cls in self.graph.objects(node, RDF.type):
                    if cls in (RDFS.Class, OWL.Class):
                        self.problem(node, "an implicit class target (a shape that is a class)")
            elif str(predicate).startswith(str(SH)) and predicate not in allowed:
                self.problem(node, f"{self.name(predicate)} on a {kind}")

    def shapes(self) -> list[Node]:
        g = self.graph
        found: set[Node] = set()
        for cls in _SHAPE_TYPES:
            found.update(g.subjects(RDF.type, cls))
        for predicate in _TARGETS:
            found.update(g.subjects(predicate, None))
        for predicate in _SHAPE_VALUED:
            found.update(g.objects(None, predicate))
        for predicate in _SHAPE_LISTS:
            for head in g.objects(None, predicate):
                found.update(Collection(g, head))
        found.update(g.subjects(SH.path, None))
        return sorted(found, key=lambda n: (not isinstance(n, URIRef), str(n)))

    def deactivated(self, node: Node) -> bool:
        flag = self.one(node, SH.deactivated)
        if flag is None:
            return False
        if not (isinstance(flag, Literal) and isinstance(flag.toPython(), bool)):
            self.problem(node, "sh:deactivated that is not true or false")
            return False
        return bool(flag.toPython())

    def severity(self, node: Node) -> str:
        severity = self.one(node, SH.severity)
        if severity is None:
            return str(SH.Violation)
        if not isinstance(severity, URIRef):
            self.problem(node, "an sh:severity that is not an IRI")
        return str(severity)

    def message(self, node: Node, owner: Node | None = None) -> str:
        messages = list(self.graph.objects(node, SH.message))
        if owner is not None:
            messages += list(self.graph.objects(owner, SH.message))
        if len(messages) != 1 or not isinstance(messages[0], Literal):
            self.problem(
                node,
                "no sh:message (the validation prints it as what is expected)"
                if not messages
                else f"{len(messages)} sh:message values (one text expected)",
            )
            return ""
        return str(messages[0])

    def compile(self) -> tuple[_NodeShape, ...]:
        g = self.graph
        property_shapes = set(g.objects(None, SH.property))
        out = []
        for node in self.shapes():
            if node in property_shapes:
                continue  # compiled with its node shape
            if (node, SH.path, None) in g:
                self.problem(node, "a property shape that is not the sh:property of a node shape")
                continue
            self.unsupported(node, _NODE_SHAPE, "node shape")
            if self.deactivated(node):
                continue
            classes = []
            for cls in g.objects(node, SH.targetClass):
                if isinstance(cls, URIRef):
                    classes.append(ox.NamedNode(str(cls)))
                else:
                    self.problem(node, "an sh:targetClass that is not an IRI")
            severity = self.severity(node)
            properties = [self.property_shape(p) for p in g.objects(node, SH.property)]
            sparql = [self.sparql(node, c, severity) for c in g.objects(node, SH.sparql)]
            out.append(
                _NodeShape(
                    node,
                    tuple(classes),
                    tuple(p for p in properties if p is not None),
                    tuple(c for c in sparql if c is not None),
                )
            )
        return tuple(out)

    def property_shape(self, node: Node) -> _PropertyShape | None:
        g = self.graph
        self.unsupported(node, _PROPERTY_SHAPE, "property shape")
        for predicate in _SINGLE:
            self.one(node, predicate)
        for predicate in _TARGETS:
            if (node, predicate, None) in g:
                self.problem(node, f"{self.name(predicate)} on a property shape")
        path = g.value(node, SH.path)
        if not isinstance(path, URIRef):
            self.problem(node, "a path expression or no sh:path (only an IRI path is implemented)")
            return None
        if self.deactivated(node):
            return None
        counts = {}
        for predicate in (SH.minCount, SH.maxCount):
            value = g.value(node, predicate)
            if value is not None:
                if not (isinstance(value, Literal) and isinstance(value.toPython(), int)):
                    self.problem(node, f"{self.name(predicate)} that is not an integer")
                else:
                    counts[predicate] = int(value.toPython())
        datatype = g.value(node, SH.datatype)
        if datatype is not None and str(datatype) not in _LEXICAL:
            self.problem(node, f"sh:datatype {self.name(datatype)} (not one of the implemented)")
        ranges = []
        for component, predicate, passes in _RANGE:
            bound = g.value(node, predicate)
            if bound is None:
                continue
            ordered = _ordered(oxigraph_term(bound)) if isinstance(bound, Literal) else None
            if ordered is None or ordered[0] == "text":
                self.problem(
                    node, f"{self.name(predicate)} with a bound that is not a number or date"
                )
                continue
            ranges.append((str(component), ordered, passes))
        allowed = None
        members = g.value(node, SH["in"])
        if members is not None:
            allowed = frozenset(oxigraph_term(m) for m in Collection(g, members))
        classes = []
        for cls in g.objects(node, SH["class"]):
            if isinstance(cls, URIRef):
                classes.append(ox.NamedNode(str(cls)))
            else:
                self.problem(node, "an sh:class that is not an IRI")
        return _PropertyShape(
            node,
            ox.NamedNode(str(path)),
            self.severity(node),
            self.message(node),
            counts.get(SH.minCount),
            counts.get(SH.maxCount),
            ox.NamedNode(str(datatype)) if isinstance(datatype, URIRef) else None,
            tuple(ranges),
            allowed,
            tuple(classes),
        )

    def sparql(self, shape: Node, node: Node, severity: str) -> _SparqlConstraint | None:
        g = self.graph
        self.unsupported(node, _SPARQL_CONSTRAINT | {RDF.type}, "SPARQL constraint")
        if self.deactivated(node):
            return None
        select = self.one(node, SH.select)
        message = self.message(node, shape)
        if not (isinstance(select, Literal) and isinstance(select.toPython(), str)):
            self.problem(
                node, "no sh:select text (sh:ask and other validators are not implemented)"
            )
            return None
        prefixes = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
        for holder in g.objects(node, SH.prefixes):
            for declaration in g.objects(holder, SH.declare):
                prefix = g.value(declaration, SH.prefix)
                namespace = g.value(declaration, SH.namespace)
                if not isinstance(prefix, Literal) or not isinstance(namespace, Literal):
                    self.problem(holder, "an sh:declare without sh:prefix and sh:namespace")
                    continue
                prefixes[str(prefix)] = str(namespace)
        text = str(select)
        code = _query_code(text)
        for pattern, what in _FORBIDDEN:
            if pattern.search(code):
                self.problem(node, f"{what} in the SPARQL query (SHACL forbids it there)")
                return None
        try:
            solutions = ox.Store().query(text, prefixes=prefixes)
        except SyntaxError as exc:
            self.problem(node, f"a SPARQL query that does not parse: {exc}")
            return None
        if not isinstance(solutions, ox.QuerySolutions):
            self.problem(node, "a SPARQL query that is not a SELECT")
            return None
        names = {v.value for v in solutions.variables}
        if "this" not in names:
            self.problem(node, "a SELECT that does not project $this (the focus node)")
        if "failure" in names:
            self.problem(node, "a ?failure variable (validation failures are not implemented)")
        declared = "".join(
            f"PREFIX {prefix}: <{namespace}>\n"
            for prefix, namespace in prefixes.items()
            if re.search(rf"(?<![\w.-]){re.escape(prefix)}:", code)
        )
        return _SparqlConstraint(
            shape, node, severity, message, declared + text, _once_per_case(code)
        )


def compile_shapes(graph: Graph, path: Path = SHAPES_FILE) -> CaseShapes:
    """The shapes graph `graph` compiled, or ShapesNotSupported naming every shape that
    uses what the executor does not implement."""
    compiler = _Compiler(graph, path)
    shapes = compiler.compile()
    if compiler.problems:
        raise ShapesNotSupported(path, sorted(set(compiler.problems)))
    return CaseShapes(path, shapes)


def read_shapes(path: Path) -> Graph:
    """The shapes file at `path` as an rdflib graph."""
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several kinds on bad Turtle
        raise CmlkbError(f"{path}: the case shapes are not valid Turtle: {exc}") from exc


@cache
def case_shapes(root: Path) -> CaseShapes:
    """The case shapes of the knowledge root `root`, read and compiled once per process."""
    path = root / SHAPES_FILE
    return compile_shapes(read_shapes(path), path)
