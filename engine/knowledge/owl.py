"""OWL 2 consistency of the knowledge base with the HermiT reasoner (through owlready2).

This is the one module that imports owlready2. Each call loads the schema and knowledge
into a fresh, isolated owlready2 World from a temporary N-Triples file and runs HermiT in
a new JVM (about a second): it is for `cmlkb check`, never for evaluating a case.

HermiT, not Pellet: the Pellet jars shipped with owlready2 0.50/0.51 need Java 25 and fail
on Java 17 (engine notes C6). HermiT accepts only the OWL 2 datatype map, so literals and
rdfs:range axioms with other datatypes (xsd:date, xsd:gYear) are left out of the check and
reported in `ConsistencyResult.omitted`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef

# The datatypes of the OWL 2 datatype map (OWL 2 Structural Specification, section 4).
_XSD_NAMES = (
    "decimal", "integer", "nonNegativeInteger", "nonPositiveInteger", "positiveInteger",
    "negativeInteger", "long", "int", "short", "byte", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte", "double", "float", "string", "normalizedString", "token",
    "language", "Name", "NCName", "NMTOKEN", "boolean", "hexBinary", "base64Binary", "anyURI",
    "dateTime", "dateTimeStamp",
)  # fmt: skip
_OWL = "http://www.w3.org/2002/07/owl#"
OWL2_DATATYPES: frozenset[URIRef] = frozenset(
    {
        URIRef(_OWL + "real"),
        URIRef(_OWL + "rational"),
        RDF.PlainLiteral,
        RDF.XMLLiteral,
        RDF.langString,
        RDFS.Literal,
        *(XSD[name] for name in _XSD_NAMES),
    }
)


class ReasonerUnavailable(Exception):
    """No Java runtime: HermiT cannot run."""


@dataclass(frozen=True)
class ConsistencyResult:
    """Outcome of one HermiT run. `omitted` says what was left out for HermiT."""

    consistent: bool
    detail: str
    omitted: tuple[str, ...] = ()


def java_executable() -> str | None:
    """Path of the `java` on PATH, or None."""
    return shutil.which("java")


def hermit_compatible(graph: Graph) -> tuple[Graph, tuple[str, ...]]:
    """A copy of `graph` without what HermiT rejects: literals of datatypes outside the OWL 2
    datatype map and rdfs:range axioms naming such datatypes. Returns the copy and notes."""
    dropped: dict[str, int] = {}
    ranges: list[str] = []
    kept = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype is not None and o.datatype not in OWL2_DATATYPES:
            key = str(o.datatype).replace(str(XSD), "xsd:")
            dropped[key] = dropped.get(key, 0) + 1
            continue
        if (
            p == RDFS.range
            and isinstance(o, URIRef)
            and str(o).startswith(str(XSD))
            and o not in OWL2_DATATYPES
        ):
            ranges.append(
                f"{graph.namespace_manager.normalizeUri(str(s))} rdfs:range "
                f"{graph.namespace_manager.normalizeUri(str(o))}"
            )
            continue
        kept.add((s, p, o))
    notes = [f"{n} literal(s) of {dt} (not an OWL 2 datatype)" for dt, n in sorted(dropped.items())]
    if ranges:
        notes.append("range axioms not in the OWL 2 datatype map: " + "; ".join(sorted(ranges)))
    return kept, tuple(notes)


def check_consistency(graph: Graph, java: str | None = None) -> ConsistencyResult:
    """Run HermiT on `graph` (schema and knowledge together).

    Raises ReasonerUnavailable when no Java runtime is found. A reasoner crash is returned
    as an inconsistent result whose detail is the first lines of the Java message.
    """
    java = java or java_executable()
    if java is None:
        raise ReasonerUnavailable("no `java` on PATH")

    import owlready2  # imported here: owlready2 is slow to import and only `check` needs it

    owlready2.JAVA_EXE = java
    compatible, omitted = hermit_compatible(graph)
    with tempfile.TemporaryDirectory(prefix="cmlkb-owl-") as tmp:
        path = Path(tmp) / "knowledge.nt"
        compatible.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            onto = world.get_ontology(path.as_uri()).load()
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ConsistencyResult(False, "HermiT: the ontology is inconsistent", omitted)
        except owlready2.OwlReadyJavaError as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            message = " ".join(lines[1:4]) or str(exc)
            return ConsistencyResult(False, f"HermiT could not reason: {message}", omitted)
        finally:
            world.close()
    return ConsistencyResult(True, "HermiT: consistent", omitted)
