"""pySHACL, the reference the case shapes executor (cmlkb.case.shapes) is held to.

`reference_report` runs pySHACL on case RDF exactly as the validation did before the
executor (inference 'none', a fresh copy of the shapes per call since pySHACL changes the
shapes graph it is given, each SPARQL text parsed once); `reference_problems` turns its
report into validation problems the way the validation did then. The tests compare these
with the executor's results and problems."""

from __future__ import annotations

from typing import Any, ClassVar

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery

from cmlkb.case.read import CaseInput, format_path, property_keys
from cmlkb.case.shapes import ShapeResult
from cmlkb.case.validation import Problem, _problem, describe
from cmlkb.knowledge.namespaces import case_id_of, case_path_parts

# (source shape, source constraint, component, focus, path, severity, message, value),
# terms in N-Triples form, shapes graph nodes as their rdflib identifiers
Row = tuple[str, str | None, str, str, str | None, str, str, str | None]


def _copy(graph: Graph) -> Graph:
    out = Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=True)
    for triple in graph:
        out.add(triple)
    return out


class _PreparedQueries(Graph):
    """A data graph that parses each SPARQL text once per process (pySHACL would parse
    it again for every focus node, ~20 ms each with rdflib's parser)."""

    _prepared: ClassVar[dict[str, Any]] = {}

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = self._prepared[query_object] = prepareQuery(query_object)
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


def reference_report(data: Graph, shapes: Graph) -> Graph:
    """pySHACL's validation report graph of `data` against `shapes`."""
    from pyshacl import validate

    graph = _PreparedQueries()
    graph += data
    _, report, _ = validate(graph, shacl_graph=_copy(shapes), inference="none", advanced=False)
    return report


def report_rows(report: Graph) -> set[Row]:
    """The results of a SHACL report graph as comparable rows."""
    rows = set()
    for result in report.subjects(SH.resultSeverity, None):

        def get(predicate: URIRef, result: Any = result) -> Any:
            return report.value(result, predicate)

        constraint = get(SH.sourceConstraint)
        path, value = get(SH.resultPath), get(SH.value)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        rows.add(
            (
                str(get(SH.sourceShape)),
                str(constraint) if constraint is not None else None,
                str(get(SH.sourceConstraintComponent)),
                get(SH.focusNode).n3(),
                path.n3() if path is not None else None,
                str(get(SH.resultSeverity)),
                " | ".join(messages),
                value.n3() if value is not None else None,
            )
        )
    return rows


def result_rows(results: list[ShapeResult]) -> set[Row]:
    """The executor's results as comparable rows."""
    return {
        (
            str(r.source_shape),
            str(r.source_constraint) if r.source_constraint is not None else None,
            r.component,
            str(r.focus),
            str(r.path) if r.path is not None else None,
            r.severity,
            r.message,
            str(r.value) if r.value is not None else None,
        )
        for r in results
    }


def reference_problems(report: Graph, case: CaseInput, root: Any) -> list[Problem]:
    """The problems the validation made from a pySHACL report before the executor (the
    code of cmlkb.case.validation._shape_problems then)."""
    keys = property_keys(root)
    out = []
    for result in report.subjects(SH.resultSeverity, None):
        focus = report.value(result, SH.focusNode)
        if not isinstance(focus, URIRef) or case_id_of(focus) != case.case_id:
            continue
        parts = case_path_parts(focus)
        prop = report.value(result, SH.resultPath)
        if isinstance(prop, URIRef) and prop in keys:
            parts.append(keys[prop])
        value = report.value(result, SH.value)
        found = describe(str(value)) if isinstance(value, Literal) else "nothing"
        if isinstance(value, Literal) and value.datatype is not None:
            found = str(value)
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        out.append(
            _problem(
                case,
                format_path(parts),
                found,
                str(message) if message else "a value that satisfies the case shapes",
                "violation" if severity == SH.Violation else "warning",
            )
        )
    return out


def problem_rows(problems: list[Problem]) -> list[tuple[str, str, str, str, str]]:
    return sorted((p.path, p.found, p.expected, p.severity, p.message) for p in problems)
