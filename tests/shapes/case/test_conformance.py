"""The case shapes executor (cmlkb.case.shapes) gives pySHACL's report.

For every example case, every valid, invalid and warning fixture, and a generated set
(seeded mutations of generated cases that push values across the shapes' bounds, give
values of the wrong type, remove required values, shuffle dates, duplicate dates, open a
second therapy; and mutations of their RDF that JSON cannot express: a second value, a
literal of another datatype, a missing triple, a node of another class), the executor's
results equal pySHACL's, compared as sets of (source shape, source constraint, component,
focus node, result path, severity, message, value), and the validation problems made from
them equal the ones the validation made from pySHACL's report before the executor. The
generated set makes every constraint of every shape of case.ttl report at least once."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from cmlkb.case.read import (
    CaseInput,
    case_rdf,
    context,
    load_case_files,
    normalise,
    rdflib_term,
)
from cmlkb.case.shapes import SHAPES_FILE, CaseShapes, compile_shapes, read_shapes
from cmlkb.case.validation import _shape_problems
from cmlkb.knowledge.base import KnowledgeBase
from tests.benchkit import bench_module
from tests.shapes.case.reference import (
    problem_rows,
    reference_problems,
    reference_report,
    report_rows,
    result_rows,
)

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
FIXTURES = sorted(
    [p for p in HERE.glob("*/*.json") if p.name != "expected.json"]
    + list((ROOT / "examples" / "cases").glob("*.json"))
)
GENERATED = 16  # generated cases; each also gives MUTANTS mutated copies
MUTANTS = 4
SEED = 20261202
_CONTEXT = context(ROOT)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_DATE = ox.NamedNode(f"{_XSD}date")
_RETYPED = [
    (ox.NamedNode(f"{_XSD}{datatype}"), lexical)
    for datatype, lexical in (
        ("string", "12"),
        ("string", "x"),
        ("integer", "12"),
        ("decimal", "12.5"),
    )
]


@pytest.fixture(scope="module")
def shapes(kb: KnowledgeBase) -> tuple[Graph, CaseShapes]:
    """The shapes graph of the shipped knowledge and the executor compiled from that same
    graph (so that blank-node shapes have the same identity on both sides)."""
    graph = read_shapes(kb.root / SHAPES_FILE)
    return graph, compile_shapes(graph)


def _graph(quads: list[ox.Quad]) -> Graph:
    graph = Graph()
    for quad in quads:
        graph.add(tuple(rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


def compare(
    case: CaseInput, quads: list[ox.Quad], shapes: tuple[Graph, CaseShapes], root: Path
) -> tuple[set[Any], list[str]]:
    """pySHACL's rows for the case and the differences from the executor's, as text."""
    report = reference_report(_graph(quads), shapes[0])
    results = shapes[1].validate(quads)
    expected, got = report_rows(report), result_rows(results)
    differences = [f"{case.source}: only pySHACL: {row}" for row in expected - got]
    differences += [f"{case.source}: only the executor: {row}" for row in got - expected]
    old = problem_rows(reference_problems(report, case, root))
    new = problem_rows(_shape_problems(results, case, root))
    if old != new:
        differences.append(f"{case.source}: problems differ:\n  pySHACL {old}\n  now     {new}")
    return expected, differences


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_conforms(path: Path, kb: KnowledgeBase, shapes) -> None:
    (case,) = load_case_files([path])
    if not isinstance(case.raw, dict) or not isinstance(case.raw.get("id"), str):
        pytest.skip("no case object with an id: the shapes never see it")
    rdf = case_rdf(normalise(case.raw, kb), kb)
    _, differences = compare(case, rdf.quads, shapes, kb.root)
    assert differences == []


# --------------------------------------------------------------------------------------
# The generated set
# --------------------------------------------------------------------------------------


def _slots(value: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[Any, Any, tuple[Any, ...]]]:
    """(container, key, path) of every value inside a JSON value."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield value, key, (*parts, key)
        if isinstance(item, dict | list):
            yield from _slots(item, (*parts, key))


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-"


def _shifted(day: str, rng: random.Random) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=rng.randint(-500, 900))).isoformat()


def _bounds(shapes_graph: Graph) -> list[Decimal]:
    """Values at, just inside and just outside every numeric bound of the shapes."""
    values = {Decimal("-0.0"), Decimal("1E+41"), Decimal("-1E+41"), Decimal("1E-41")}
    for predicate in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
        for bound in shapes_graph.objects(None, predicate):
            b = Decimal(str(bound))
            values.update({b, b - Decimal("0.001"), b + Decimal("0.001"), b - 1, b + 1})
    return sorted(values)


Mutation = Callable[[dict[str, Any], random.Random, list[Decimal]], bool]


def _set_date(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    slots = [(c, k) for c, k, _ in _slots(case) if _is_date(c[k])]
    if not slots:
        return False
    container, key = rng.choice(slots)
    container[key] = _shifted(container[key], rng)
    return True


def _set_number(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    slots = [
        (c, k)
        for c, k, _ in _slots(case)
        if isinstance(c[k], int | Decimal) and not isinstance(c[k], bool)
    ]
    if not slots:
        return False
    container, key = rng.choice(slots)
    container[key] = rng.choice(bounds)
    return True


def _wrong_type(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    """Another JSON type: any type for a key the context gives no datatype, text that is a
    number for a number (a literal must stay well-formed: see test_ill_formed_literals)."""
    slots = [
        (c, k, next(p for p in reversed(path) if isinstance(p, str)))
        for c, k, path in _slots(case)
        if not isinstance(c[k], dict | list) and k != "id"
    ]
    if not slots:
        return False
    container, key, name = rng.choice(slots)
    datatype = _CONTEXT.get(name, {}).get("@type") if isinstance(_CONTEXT.get(name), dict) else None
    if datatype == "xsd:date":
        return False
    if datatype in ("xsd:decimal", "xsd:integer"):
        container[key] = rng.choice(["12", Decimal(5), "0"])
    else:
        container[key] = rng.choice(["text", "12", True, False, Decimal(5), "2024-02-30", None])
    return True


def _remove(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    slots = [(c, k) for c, k, _ in _slots(case) if isinstance(c, dict) and k != "id"]
    if not slots:
        return False
    container, key = rng.choice(slots)
    del container[key]
    return True


def _duplicate_date(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    lists = [
        v
        for v in case.values()
        if isinstance(v, list) and sum(isinstance(e, dict) and "date" in e for e in v) >= 2
    ]
    if not lists:
        return False
    entries = [e for e in rng.choice(lists) if isinstance(e, dict) and "date" in e]
    first, second = rng.sample(entries, 2)
    second["date"] = first["date"]
    return True


def _open_therapy(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    therapies = case.get("therapies")
    if not isinstance(therapies, list) or not therapies:
        return False
    if rng.random() < 0.5:
        extra = copy.deepcopy(therapies[-1])
        extra.pop("end", None)
        if isinstance(extra.get("start"), str) and _is_date(extra["start"]):
            extra["start"] = _shifted(extra["start"], rng)
        therapies.append(extra)
    else:
        for therapy in therapies:
            if isinstance(therapy, dict):
                therapy.pop("end", None)
    return True


def _undetectable(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    results = [r for r in case.get("bcr_abl1") or [] if isinstance(r, dict)]
    if not results:
        return False
    result = rng.choice(results)
    result.pop("is_percent", None)
    if rng.random() < 0.6:
        result["undetectable"] = True
        result.pop("control_copies", None)
    return True


def _assessed_on(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    dates = [c[k] for c, k, _ in _slots(case) if _is_date(c[k])]
    if not dates:
        return False
    case["assessed_on"] = _shifted(rng.choice(dates), rng)
    return True


def _bogus_code(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    slots = [
        (c, k)
        for c, k, _ in _slots(case)
        if k in ("phase", "frequency", "control_gene", "method", "status", "drug", "protein")
    ]
    if not slots:
        return False
    container, key = rng.choice(slots)
    container[key] = "bogus"
    return True


def _end_before_start(case: dict[str, Any], rng: random.Random, bounds: list[Decimal]) -> bool:
    spans = [
        c[k]
        for c, k, _ in _slots(case)
        if isinstance(c[k], dict) and _is_date(c[k].get("start")) and _is_date(c[k].get("end"))
    ]
    if not spans:
        return False
    span = rng.choice(spans)
    from datetime import date, timedelta

    span["end"] = (
        date.fromisoformat(span["start"]) - timedelta(days=rng.randint(1, 90))
    ).isoformat()
    return True


MUTATIONS: list[Mutation] = [
    _end_before_start,
    _set_date,
    _set_date,
    _set_number,
    _set_number,
    _wrong_type,
    _remove,
    _duplicate_date,
    _open_therapy,
    _undetectable,
    _assessed_on,
    _bogus_code,
]


def _rdf_mutation(quads: list[ox.Quad], rng: random.Random, classes: list[str]) -> list[ox.Quad]:
    """One change JSON cannot make: a second value for a property, a (well-formed) literal
    of another datatype, a missing triple, or another class for a node."""
    quads = list(quads)
    rdf_type = ox.NamedNode(str(RDF.type))
    subjects = [q.subject for q in quads if isinstance(q.subject, ox.NamedNode)]
    kind = rng.choice(["second", "retype", "drop", "class"])
    candidates = [q for q in quads if q.predicate != rdf_type]
    quad = rng.choice(candidates)
    if kind == "second":
        others = [q.object for q in candidates if q.predicate == quad.predicate and q != quad]
        obj = rng.choice(others) if others else rng.choice(subjects)
        quads.append(ox.Quad(quad.subject, quad.predicate, obj))
    elif kind == "retype" and isinstance(quad.object, ox.Literal) and quad.object.datatype != _DATE:
        # a number or text of another datatype; dates stay dates (see test_mistyped_dates)
        datatype, lexical = rng.choice(_RETYPED)
        quads.remove(quad)
        quads.append(ox.Quad(quad.subject, quad.predicate, ox.Literal(lexical, datatype=datatype)))
    elif kind == "drop":
        quads.remove(quad)
    else:
        quads.append(ox.Quad(rng.choice(subjects), rdf_type, ox.NamedNode(rng.choice(classes))))
    return quads


def _literal(datatype: ox.NamedNode, lexical: str) -> ox.Literal:
    return ox.Literal(lexical, datatype=datatype)


def _shape_mutants(
    graph: Graph, bases: list[tuple[CaseInput, list[ox.Quad]]], rng: random.Random
) -> Iterator[tuple[CaseInput, list[ox.Quad]]]:
    """For every constraint of every property shape, a case that breaks it: no value
    (sh:minCount), a second value (sh:maxCount), a literal of another datatype
    (sh:datatype; a date is replaced by text, and the case's other dates are removed so
    that no SPARQL constraint compares them: see test_mistyped_dates), a number just
    outside the bound (sh:minInclusive ...), a code outside the list (sh:in)."""
    rdf_type = ox.NamedNode(str(RDF.type))
    for shape in sorted(graph.subjects(SH.property, None), key=str):
        targets = {ox.NamedNode(str(c)) for c in graph.objects(shape, SH.targetClass)}
        for prop in graph.objects(shape, SH.property):
            path = ox.NamedNode(str(graph.value(prop, SH.path)))
            datatype = graph.value(prop, SH.datatype)
            candidates = [
                (case, quads, q.subject)
                for case, quads in bases
                for q in quads
                if q.predicate == rdf_type
                and q.object in targets
                and any(v.subject == q.subject and v.predicate == path for v in quads)
            ]
            for parameter in sorted(set(graph.predicates(prop, None)), key=str):
                case, quads, focus = rng.choice(candidates)
                values = [q for q in quads if q.subject == focus and q.predicate == path]
                kept = [q for q in quads if q not in values]
                old = values[0].object
                if parameter == SH.minCount:
                    changed = kept
                elif parameter == SH.maxCount:
                    second = (
                        ox.Literal("other")
                        if isinstance(old, ox.Literal)
                        else ox.NamedNode(f"{old.value}-2")
                    )
                    if isinstance(old, ox.Literal) and old.datatype == _DATE:
                        second = ox.Literal("2001-02-03", datatype=_DATE)
                    changed = [*quads, ox.Quad(focus, path, second)]
                elif parameter == SH.datatype:
                    if str(datatype).endswith("#date"):
                        kept = [
                            q
                            for q in kept
                            if not (isinstance(q.object, ox.Literal) and q.object.datatype == _DATE)
                        ]
                        changed = [*kept, ox.Quad(focus, path, ox.Literal(old.value))]
                    else:
                        changed = [
                            *kept,
                            ox.Quad(focus, path, _literal(*rng.choice(_RETYPED))),
                        ]
                elif parameter in (
                    SH.minInclusive,
                    SH.minExclusive,
                    SH.maxInclusive,
                    SH.maxExclusive,
                ):
                    bound = Decimal(str(graph.value(prop, parameter)))
                    step = Decimal(1) if str(datatype).endswith("#integer") else Decimal("0.001")
                    outside = (
                        bound - step
                        if parameter in (SH.minInclusive, SH.minExclusive)
                        else bound + step
                    )
                    if parameter in (SH.minExclusive, SH.maxExclusive) and rng.random() < 0.5:
                        outside = bound
                    changed = [
                        *kept,
                        ox.Quad(focus, path, ox.Literal(str(outside), datatype=old.datatype)),
                    ]
                elif parameter == SH["in"]:
                    changed = [*kept, ox.Quad(focus, path, ox.Literal("bogus"))]
                else:
                    continue
                label = (
                    f"{case.source} breaking {graph.qname(parameter)} of {graph.qname(path.value)}"
                )
                yield CaseInput(label, case.raw, case.case_id, None), changed


def _generated(kb: KnowledgeBase) -> Iterator[tuple[CaseInput, list[ox.Quad]]]:
    generate = bench_module("generate")
    rng = random.Random(SEED)
    bases = generate.as_inputs(generate.generate_cases(kb, GENERATED, SEED))
    bases += load_case_files([HERE / "valid" / "full-case.json"]) * 4
    shapes_graph = read_shapes(kb.root / SHAPES_FILE)
    bounds = _bounds(shapes_graph)
    classes = sorted({str(c) for c in shapes_graph.objects(None, SH.targetClass)})
    originals = [(base, case_rdf(normalise(base.raw, kb), kb).quads) for base in bases]
    yield from _shape_mutants(shapes_graph, originals, rng)
    for n, base in enumerate(bases):
        yield base, case_rdf(normalise(base.raw, kb), kb).quads
        for m in range(MUTANTS):
            raw = copy.deepcopy(base.raw)
            raw["id"] = f"{base.case_id}~m{m}"
            applied = [f for f in rng.sample(MUTATIONS, rng.randint(1, 3)) if f(raw, rng, bounds)]
            case = CaseInput(
                f"{raw['id']} ({', '.join(f.__name__ for f in applied)})", raw, raw["id"], None
            )
            quads = case_rdf(normalise(raw, kb), kb).quads
            if m == MUTANTS - 1 or n % 3 == 0:
                quads = _rdf_mutation(quads, rng, classes)
                case = CaseInput(case.source + " + RDF change", raw, raw["id"], None)
            yield case, quads


def _expected_constraints(graph: Graph) -> set[tuple[str, str]]:
    """(shape or SPARQL constraint node, component) of every constraint in the shapes."""
    components = {
        SH.minCount: SH.MinCountConstraintComponent,
        SH.maxCount: SH.MaxCountConstraintComponent,
        SH.datatype: SH.DatatypeConstraintComponent,
        SH.minInclusive: SH.MinInclusiveConstraintComponent,
        SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
        SH.minExclusive: SH.MinExclusiveConstraintComponent,
        SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
        SH["in"]: SH.InConstraintComponent,
        SH["class"]: SH.ClassConstraintComponent,
    }
    out = set()
    for prop in graph.objects(None, SH.property):
        for parameter, component in components.items():
            if (prop, parameter, None) in graph:
                out.add((str(prop), str(component)))
    for constraint in graph.objects(None, SH.sparql):
        out.add((str(constraint), str(SH.SPARQLConstraintComponent)))
    return out


def test_generated_set_conforms_and_reaches_every_constraint(kb: KnowledgeBase, shapes) -> None:
    seen: set[tuple[str, str]] = set()
    differences: list[str] = []
    count = 0
    for case, quads in _generated(kb):
        count += 1
        rows, found = compare(case, quads, shapes, kb.root)
        differences += found
        for row in rows:
            seen.add((row[1] or row[0], row[2]))
    assert differences == [], "\n".join(differences[:20])
    missing = sorted(_name(shapes[0], *m) for m in _expected_constraints(shapes[0]) - seen)
    assert missing == [], f"no result in {count} generated cases for {missing}"


def _name(graph: Graph, node: str, component: str) -> str:
    """A constraint by its shape, path or message, and component, for a failure message."""
    for owner, link in ((o, p) for p in (SH.property, SH.sparql) for o in graph.subjects(p, None)):
        for child in graph.objects(owner, link):
            if str(child) == node:
                label = graph.value(child, SH.path) or str(graph.value(child, SH.message))[:40]
                return f"{graph.qname(owner)} {label} {component.split('#')[-1]}"
    return f"{node} {component}"
