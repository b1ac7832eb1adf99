"""The knowledge shapes (ontology/shapes/knowledge.ttl) on small example graphs.

Each fixture is validated together with the schema, concepts.ttl and the shared base.ttl.
Valid fixtures must produce no result at all. Each invalid fixture names in its header the
shape that must fail (`# shape:`), the focus node (`# focus:`) and the severity; the test
compares the report graph (sh:sourceShape / sh:sourceConstraint, sh:focusNode,
sh:resultSeverity), never the report text, and requires that nothing else is a violation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from cmlkb.knowledge.namespaces import PREFIXES
from cmlkb.reasoning.check import load_shapes, shacl_report

HERE = Path(__file__).parent / "knowledge"
SHAPES_NS = "https://w3id.org/cmlkb/shapes/knowledge#"
SEVERITY = {"violation": SH.Violation, "warning": SH.Warning}
VALID = sorted((HERE / "valid").glob("*.ttl"))
INVALID = sorted((HERE / "invalid").glob("*.ttl"))


def expand(curie: str) -> URIRef:
    prefix, local = curie.split(":", 1)
    namespace = SHAPES_NS if prefix == "cmlsh" else str(PREFIXES[prefix])
    return URIRef(namespace + local)


def header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*(shape|focus|severity):\s*(\S+)", line)
        if match:
            fields[match.group(1)] = match.group(2)
    return fields


@pytest.fixture(scope="module")
def background(project_root: Path) -> Graph:
    graph = Graph()
    for path in (
        project_root / "ontology" / "cmlkb.ttl",
        project_root / "ontology" / "knowledge" / "concepts.ttl",
        HERE / "base.ttl",
    ):
        graph.parse(path, format="turtle")
    return graph


SHAPES = Path(__file__).resolve().parents[2] / "ontology" / "shapes" / "knowledge.ttl"


def validate_fixture(background: Graph, fixture: Path | None) -> Graph:
    graph = Graph()
    for triple in background:
        graph.add(triple)
    if fixture is not None:
        graph.parse(fixture, format="turtle")
    _, report = shacl_report(graph, load_shapes(SHAPES))
    return report


def results(report: Graph) -> set[tuple[URIRef, URIRef, URIRef]]:
    """(shape, focus, severity) of every result; the shape is the SPARQL/or constraint's
    own node when there is one, else the shape that produced the result."""
    found = set()
    for result in report.subjects(SH.resultSeverity, None):
        shape = report.value(result, SH.sourceConstraint) or report.value(result, SH.sourceShape)
        found.add(
            (shape, report.value(result, SH.focusNode), report.value(result, SH.resultSeverity))
        )
    return found


def test_base_fixture_is_clean(background: Graph) -> None:
    assert results(validate_fixture(background, None)) == set()


def test_there_are_fixtures() -> None:
    assert len(VALID) >= 3
    assert len(INVALID) >= 25


@pytest.mark.parametrize("fixture", VALID, ids=lambda p: p.stem)
def test_valid_fixture_has_no_result(background: Graph, fixture: Path) -> None:
    assert results(validate_fixture(background, fixture)) == set()


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_for_the_intended_reason(background: Graph, fixture: Path) -> None:
    expected = header(fixture)
    assert {"shape", "focus", "severity"} <= expected.keys(), f"{fixture.name}: header incomplete"
    intended = (
        expand(expected["shape"]),
        expand(expected["focus"]),
        SEVERITY[expected["severity"]],
    )
    found = results(validate_fixture(background, fixture))
    assert intended in found
    other_violations = {r for r in found if r[2] == SH.Violation and r != intended}
    assert other_violations == set(), f"{fixture.name} also violates {other_violations}"


def test_every_named_shape_has_an_invalid_fixture(project_root: Path) -> None:
    """A constraint nobody has seen fail is untested: each named constraint shape of
    knowledge.ttl is the intended reason of at least one invalid fixture."""
    shapes = Graph().parse(project_root / "ontology" / "shapes" / "knowledge.ttl")
    named = {s for s in shapes.subjects(SH.message, None) if isinstance(s, URIRef)}
    tested = {expand(header(f)["shape"]) for f in INVALID}
    untested = sorted(str(s).replace(SHAPES_NS, "cmlsh:") for s in named - tested)
    allowed_untested = {  # same constraint kind as a tested sibling
        "cmlsh:band-ph-lower-bound",
        "cmlsh:band-ph-upper-bound",
        "cmlsh:band-lower-inclusive",
        "cmlsh:band-upper-inclusive",
        "cmlsh:band-one-time-point",
        "cmlsh:band-ph-bounds-ordered",
        "cmlsh:sensitivity-at-most-one-variant",
        "cmlsh:sensitivity-at-most-one-transcript",
        "cmlsh:drug-has-label",
        "cmlsh:source-has-date",
        "cmlsh:source-has-access-note",
        "cmlsh:source-doi-form",
        "cmlsh:source-pmid-form",
        "cmlsh:reference-afterDrug",
        "cmlsh:reference-variant",
        "cmlsh:reference-transcript",
        "cmlsh:reference-comedication",
        "cmlsh:reference-guideline",
        "cmlsh:reference-effect",
    }
    assert set(untested) <= allowed_untested
