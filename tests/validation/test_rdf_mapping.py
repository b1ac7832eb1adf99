"""The case as RDF through the JSON-LD context, and the IRI <-> JSON path mapping."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib.namespace as ns
from rdflib import Literal, URIRef

from cmlkb.case.read import (
    format_path,
    iri_of,
    json_path_of,
    load_case_files,
    normalise,
    parse_path,
    property_keys,
    to_rdf,
)
from cmlkb.knowledge.namespaces import CML
from tests.benchkit import bench_module

VALID = Path(__file__).parents[1] / "shapes" / "case" / "valid"


@pytest.mark.parametrize(
    "case_id, path",
    [
        ("case-017", "therapies[1]"),
        ("case-017", ""),
        ("fälle 1/2?#", "mutation_analyses[0].variants[1]"),
        ("x", "patient"),
        ("ü", "therapies[12].dose_changes[3]"),
    ],
)
def test_iri_and_json_path_round_trip(case_id: str, path: str) -> None:
    iri = iri_of(case_id, path)
    assert str(iri).startswith("https://w3id.org/cmlkb/case/")
    assert " " not in str(iri) and "#" not in str(iri)
    assert json_path_of(iri) == path
    assert format_path(parse_path(path)) == path


def test_iri_shape_is_the_documented_one() -> None:
    assert (
        str(iri_of("case-017", "therapies[1]"))
        == "https://w3id.org/cmlkb/case/case-017/therapies/1"
    )
    assert json_path_of("https://w3id.org/cmlkb/case/case-017/therapies/1") == "therapies[1]"


def _walk(value, parts=()):
    if isinstance(value, dict):
        yield list(parts)
        for k, v in value.items():
            yield from _walk(v, (*parts, k))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _walk(v, (*parts, n))


def test_every_json_object_becomes_its_iri_node(kb) -> None:
    [case] = load_case_files([VALID / "full-case.json"])
    norm = normalise(case.raw, kb)
    graph = to_rdf(norm, kb)
    subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
    expected = {iri_of(norm["id"], p) for p in _walk(norm)}
    assert expected <= subjects
    assert (iri_of(norm["id"]), ns.RDF.type, CML.Case) in graph
    assert (iri_of(norm["id"], "therapies[1]"), ns.RDF.type, CML.Therapy) in graph
    assert (
        iri_of(norm["id"], "therapies[0].dose_changes[0]"),
        ns.RDF.type,
        CML.DoseChange,
    ) in graph


def test_numbers_stay_exact_decimals_and_dates_are_dates(kb) -> None:
    [case] = load_case_files([VALID / "full-case.json"])
    graph = to_rdf(normalise(case.raw, kb), kb)
    node = iri_of("shape-base", "bcr_abl1[1]")
    value = graph.value(node, CML.isPercent)
    assert value == Literal(Decimal("0.05"), datatype=ns.XSD.decimal)
    assert graph.value(node, CML.date) == Literal("2024-08-05", datatype=ns.XSD.date)


def test_extreme_numbers_keep_their_sign_and_stay_small(kb) -> None:
    raw = {
        "id": "x",
        "diagnosis": {"date": "2020-01-01", "phase": "chronic"},
        "therapies": [{"drug": "imatinib", "start": "2020-02-01"}],
        "bcr_abl1": [
            {"date": "2020-03-01", "is_percent": Decimal("-1E-999999")},
            {"date": "2020-04-01", "is_percent": Decimal("1E+999999")},
        ],
    }
    graph = to_rdf(normalise(raw, kb), kb)
    low = graph.value(iri_of("x", "bcr_abl1[0]"), CML.isPercent).toPython()
    high = graph.value(iri_of("x", "bcr_abl1[1]"), CML.isPercent).toPython()
    assert low < 0 and high > 10**30
    assert len(graph.serialize(format="nt")) < 20_000


def test_context_schema_and_ontology_agree(kb) -> None:
    """Every key of the schema has a context term, and every term is a schema property."""
    schema = json.loads((kb.root / "ontology" / "case.schema.json").read_text())
    keys = set()

    def collect(node):
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    collect(schema)
    context = json.loads((kb.root / "ontology" / "case.context.jsonld").read_text())["@context"]
    assert keys <= set(context), keys - set(context)
    declared = set(kb.graph.subjects(ns.RDF.type, None))
    for prop in property_keys(kb.root):
        assert prop in declared, f"{prop} is used by the context but not declared in cmlkb.ttl"


# --------------------------------------------------------------------------------------
# The case RDF is built without a JSON-LD processor: the same triples as rdflib's
# --------------------------------------------------------------------------------------

ROOT = Path(__file__).parents[2]
CASE_FILES = sorted(
    [p for p in (ROOT / "tests" / "shapes" / "case").glob("*/*.json") if p.name != "expected.json"]
    + list((ROOT / "examples" / "cases").glob("*.json"))
)


def _rdflib_case_graph(norm, kb):
    """The case RDF as it was made before case_rdf built it directly: rdflib's JSON-LD
    parser on jsonld_document, then each case node typed by the range of the property
    that reaches it."""
    import warnings

    from rdflib import Graph

    from cmlkb.case.read import _property_ranges, jsonld_document
    from cmlkb.knowledge.namespaces import is_case_iri

    graph = Graph()
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=json.dumps(jsonld_document(norm, kb.root)), format="json-ld")
    ranges = _property_ranges(kb)
    for _, prop, obj in list(graph):
        if prop in ranges and isinstance(obj, URIRef) and is_case_iri(obj):
            graph.add((obj, ns.RDF.type, ranges[prop]))
    return graph


def _generated_inputs(kb):
    module = bench_module("generate")
    return module.as_inputs(module.generate_cases(kb, 150, 7))


def _same_rdf(case, kb) -> None:
    from rdflib.compare import isomorphic

    from cmlkb.case.read import case_rdf

    norm = normalise(case.raw, kb)
    rdf = case_rdf(norm, kb)
    reference = _rdflib_case_graph(norm, kb)
    assert len(rdf.graph) == len(rdf.quads) == len(reference), case.source
    assert isomorphic(rdf.graph, reference), case.source
    # literals of the case's nodes exactly as written (lexical forms, not only values)
    literals = {
        (str(s), str(p), o.n3())
        for s, p, o in reference
        if isinstance(o, Literal) and isinstance(s, URIRef)
    }
    assert literals == {
        (q.subject.value, q.predicate.value, str(q.object))
        for q in rdf.quads
        if isinstance(q.object, ox.Literal) and isinstance(q.subject, ox.NamedNode)
    }, case.source
    objects = {format_path(p): iri_of(norm["id"], p) for p in _walk(norm)}
    assert rdf.iris == objects, case.source


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_rdf_is_rdflibs_jsonld_parse(path: Path, kb) -> None:
    (case,) = load_case_files([path])
    if not isinstance(case.raw, dict) or not isinstance(case.raw.get("id"), str):
        pytest.skip("no case object with an id")
    _same_rdf(case, kb)


def test_case_rdf_is_rdflibs_jsonld_parse_on_generated_cases(kb) -> None:
    for case in _generated_inputs(kb):
        _same_rdf(case, kb)


def test_python_floats_are_mapped_like_json_numbers(kb) -> None:
    """A case built in Python with floats (not parsed from JSON text) gives the decimal
    literals its JSON would: 15.0 is "15.0"^^xsd:decimal, never a binary fraction."""
    from cmlkb.case.read import case_rdf

    [case] = load_case_files([VALID / "full-case.json"])
    as_json = normalise(case.raw, kb)
    as_floats = json.loads(json.dumps(as_json, default=float))
    assert case_rdf(as_floats, kb).graph.value(
        iri_of("shape-base", "bcr_abl1[0]"), CML.isPercent
    ) == Literal("15.0", datatype=ns.XSD.decimal)
    assert set(case_rdf(as_floats, kb).quads) == set(case_rdf(as_json, kb).quads)
