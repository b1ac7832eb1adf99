"""The project's namespaces, in one place: the prefixes, the minting of the IRIs the engine
creates (case nodes, evaluations, knowledge graphs, rule versions) and compact/expand
between prefixed names (`src:x`) and full IRIs. Every module that needs one of these uses
this one; none writes a `https://w3id.org/cmlkb/...` string of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from rdflib import Graph, Namespace, URIRef

BASE = "https://w3id.org/cmlkb/"

CML = Namespace(f"{BASE}ontology#")
KB = Namespace(f"{BASE}kb/")
DRUG = Namespace(f"{BASE}drug/")
MUT = Namespace(f"{BASE}mutation/")
SRC = Namespace(f"{BASE}source/")
STMT = Namespace(f"{BASE}statement/")
RULE = Namespace(f"{BASE}rule/")
CASE = Namespace(f"{BASE}case/")
EVAL = Namespace(f"{BASE}evaluation/")
# Provenance only: the fields of a derived fact, the named graph of a knowledge version.
FACT = Namespace(f"{BASE}fact#")
KNOWLEDGE = Namespace(f"{BASE}knowledge/")

ONTOLOGY_IRI = URIRef(f"{BASE}ontology")
ENGINE = URIRef(f"{BASE}engine")

# The prefixes of compact/expand and of every graph the engine writes, in this order.
PREFIXES: dict[str, Namespace] = {
    "cml": CML,
    "kb": KB,
    "drug": DRUG,
    "mut": MUT,
    "src": SRC,
    "stmt": STMT,
    "rule": RULE,
    "case": CASE,
    "eval": EVAL,
}

# Longest namespace first, so that a namespace inside another never wins over it.
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(str(item[1])))


def compact(iri: str) -> str:
    """'https://w3id.org/cmlkb/source/x' -> 'src:x' for the project's namespaces; any other
    IRI is returned as it is."""
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(str(ns)):
            return f"{prefix}:{iri[len(str(ns)) :]}"
    return iri


def compact_text(text: str) -> str:
    """Every project IRI inside a text (a query's message) written as a prefixed name."""
    for prefix, ns in _BY_LENGTH:
        text = text.replace(str(ns), f"{prefix}:")
    return text


def expand(curie: str) -> URIRef:
    """'src:x' -> the full IRI for the project's prefixes; full IRIs pass through."""
    prefix, sep, local = curie.partition(":")
    if sep and prefix in PREFIXES:
        return URIRef(f"{PREFIXES[prefix]}{local}")
    return URIRef(curie)


def bind_prefixes(graph: Graph) -> Graph:
    """`graph` with the project's prefixes bound (for Turtle output and readable names)."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    return graph


# --------------------------------------------------------------------------------------
# IRIs the engine mints
# --------------------------------------------------------------------------------------


def case_iri(case_id: str, parts: Sequence[str | int] = ()) -> URIRef:
    """The IRI of the JSON object at the path `parts` (keys and list indexes) of case
    `case_id`: case:<url-quoted id>/<part>/<part>..."""
    segments = [quote(case_id, safe="")] + [quote(str(p), safe="") for p in parts]
    return URIRef(str(CASE) + "/".join(segments))


def is_case_iri(iri: str) -> bool:
    return str(iri).startswith(str(CASE))


def case_id_of(iri: str) -> str:
    """The case id of a case IRI."""
    return unquote(str(iri)[len(str(CASE)) :].split("/", 1)[0])


def case_path_parts(iri: str) -> list[str | int]:
    """The JSON path of a case IRI as keys and list indexes (the inverse of case_iri)."""
    text = str(iri)
    if not is_case_iri(text):
        raise ValueError(f"{iri} is not a case IRI (expected it to start with {CASE})")
    segments = text[len(str(CASE)) :].split("/")[1:]
    return [int(s) if s.isdigit() else unquote(s) for s in segments]


def evaluation_iri(evaluation_id: str) -> URIRef:
    """The evaluation eval:<id> (also the name of its provenance graph)."""
    return URIRef(f"{EVAL}{quote(evaluation_id, safe='')}")


def knowledge_iri(digest: str) -> URIRef:
    """The named graph of a knowledge version (by digest)."""
    return URIRef(f"{KNOWLEDGE}{digest.split(':', 1)[-1]}")


def rule_iri(rule_id: str, version: str) -> URIRef:
    """One version of a rule: rule:<id>/v<version>."""
    return URIRef(f"{RULE}{quote(rule_id, safe='')}/v{quote(str(version), safe='')}")


@dataclass(frozen=True)
class ProvenanceIRIs:
    """The IRIs minted inside the provenance graph of one evaluation, under its evaluation
    IRI (`evaluation`, the text of evaluation_iri): its derived facts, rule firings and
    their associations, the final status of each drug and its options. Text, not URIRef:
    the provenance graph is written as pyoxigraph terms (cmlkb.provenance.graph)."""

    evaluation: str

    def conclusion(self, fid: str) -> str:
        """A derived fact: eval:<id>/conclusion/<fid> (`fid` is the reasoner's fact id,
        f<n>, safe in an IRI as it is)."""
        return f"{self.evaluation}/conclusion/{fid}"

    def firing(self, fid: str, n: int) -> str:
        """The n-th firing that derived fact `fid`: eval:<id>/firing/<fid>-<n>."""
        return f"{self.evaluation}/firing/{fid}-{n}"

    def association(self, fid: str, n: int) -> str:
        """The qualified association (engine, rule) of a firing: <firing>/association."""
        return f"{self.firing(fid, n)}/association"

    def status(self, drug: str) -> str:
        """The final status of a drug: eval:<id>/status/<url-quoted drug code>."""
        return f"{self.evaluation}/status/{quote(drug, safe='')}"

    @property
    def options(self) -> str:
        """The evaluation options (guideline editions, classification): eval:<id>/options."""
        return f"{self.evaluation}/options"


def provenance_iris(evaluation_id: str) -> ProvenanceIRIs:
    """The minter of the IRIs inside the provenance graph of evaluation `evaluation_id`."""
    return ProvenanceIRIs(str(evaluation_iri(evaluation_id)))


__all__ = [
    "BASE",
    "CASE",
    "CML",
    "DRUG",
    "ENGINE",
    "EVAL",
    "FACT",
    "KB",
    "KNOWLEDGE",
    "MUT",
    "ONTOLOGY_IRI",
    "PREFIXES",
    "RULE",
    "SRC",
    "STMT",
    "ProvenanceIRIs",
    "bind_prefixes",
    "case_id_of",
    "case_iri",
    "case_path_parts",
    "compact",
    "compact_text",
    "evaluation_iri",
    "expand",
    "is_case_iri",
    "knowledge_iri",
    "provenance_iris",
    "rule_iri",
]
