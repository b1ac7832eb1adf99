"""Integrity of the shipped knowledge (ontology/knowledge/*.ttl), checked in Python
independently of the SHACL shapes and QC queries: ids unique, references resolve, every
statement sourced and tagged. The last tests run the whole `check_knowledge` and depend on
the curated data being clean (marker `curated`)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML, SRC
from cmlkb.reasoning.check import Finding, check_knowledge

CMLKB_BASE = "https://w3id.org/cmlkb/"
EXPECTED_FILES = {
    "concepts",
    "sources",
    "drugs",
    "vocabularies",
    "interactions",
    "comorbidities",
    "mutations",
    "drug-sensitivity",
    "responses",
    "phases",
    "abnormalities",
    "risk-scores",
    "management",
}


def subclasses(graph: Graph, cls: URIRef) -> set[URIRef]:
    return set(graph.transitive_subjects(RDFS.subClassOf, cls))


def instances(graph: Graph, cls: URIRef) -> set[URIRef]:
    return {s for c in subclasses(graph, cls) for s in graph.subjects(RDF.type, c)}


def statements(graph: Graph) -> set[URIRef]:
    return instances(graph, CML.KnowledgeStatement)


def test_the_knowledge_files_are_there(kb: KnowledgeBase) -> None:
    stems = {f.stem for f in kb.files if f.suffix == ".ttl"}
    assert stems >= EXPECTED_FILES, f"missing: {sorted(EXPECTED_FILES - stems)}"
    assert any(s.startswith("milestones-") for s in stems)


def test_there_is_knowledge(kb: KnowledgeBase) -> None:
    assert len(statements(kb.graph)) > 50
    assert len(instances(kb.graph, CML.TyrosineKinaseInhibitor)) >= 6
    assert len(instances(kb.graph, CML.MilestoneBand)) >= 10


def test_every_statement_is_sourced_and_tagged(kb: KnowledgeBase) -> None:
    g = kb.graph
    sources = instances(g, CML.Source)
    tags = instances(g, CML.EvidenceTag)
    unsourced = sorted(
        s for s in statements(g) if not any(o in sources for o in g.objects(s, DCTERMS.source))
    )
    untagged = sorted(
        s for s in statements(g) if len([t for t in g.objects(s, CML.evidence) if t in tags]) != 1
    )
    assert unsourced == [], "statements without a declared source"
    assert untagged == [], "statements without exactly one evidence tag"


def test_every_source_can_be_found(kb: KnowledgeBase) -> None:
    g = kb.graph
    lost = sorted(
        s
        for s in instances(g, CML.Source)
        if g.value(s, DCTERMS.title) is None
        or not any(g.value(s, p) for p in (CML.doi, CML.pmid, CML.url))
    )
    assert lost == []


def test_the_sources_of_the_brief_are_declared(kb: KnowledgeBase) -> None:
    sources = instances(kb.graph, CML.Source)
    for name in (
        "soverini-2026",
        "hochhaus-2020",
        "baccarani-2013",
        "nccn-v2-2027",
        "cmlkb-editorial",
    ):
        assert SRC[name] in sources, f"src:{name} is not declared"


def test_references_resolve(kb: KnowledgeBase) -> None:
    """Every cmlkb IRI used as an object (drug:, mut:, kb:, src:, stmt: ...) is declared."""
    g = kb.graph
    typed = set(g.subjects(RDF.type, None))
    dangling = sorted(
        (str(s), str(p), str(o))
        for s, p, o in g
        if isinstance(o, URIRef)
        and str(o).startswith(CMLKB_BASE)
        and not str(o).startswith(CMLKB_BASE + "ontology")
        and p != RDF.type
        and o not in typed
    )
    assert dangling == []


def test_schema_terms_used_are_declared(kb: KnowledgeBase) -> None:
    g = kb.graph
    declared = set(g.subjects(RDF.type, OWL.Class)) | {
        p
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        for p in g.subjects(RDF.type, kind)
    }
    used = {p for p in g.predicates() if str(p).startswith(str(CML))} | {
        o for o in g.objects(None, RDF.type) if str(o).startswith(str(CML))
    }
    assert sorted(used - declared) == []


def test_notations_are_unique_within_a_class(kb: KnowledgeBase) -> None:
    g = kb.graph
    classes = {
        c
        for c in g.subjects(RDF.type, OWL.Class)
        if str(c).startswith(str(CML)) and c != CML.KnowledgeStatement
    }
    duplicates = []
    for cls in classes:
        holders: dict[str, set[URIRef]] = defaultdict(set)
        for entity in instances(g, cls):
            for code in g.objects(entity, SKOS.notation):
                holders[str(code)].add(entity)
        duplicates += [
            (str(cls), code, sorted(map(str, who))) for code, who in holders.items() if len(who) > 1
        ]
    assert duplicates == []


def test_no_unverified_exclusion(kb: KnowledgeBase) -> None:
    g = kb.graph
    unverified = {URIRef(CMLKB_BASE + f"kb/evidence-U-{c}") for c in ("high", "med", "low")}
    wrong = sorted(
        s
        for s in g.subjects(CML.effect, URIRef(CMLKB_BASE + "kb/excluded"))
        if set(g.objects(s, CML.evidence)) & unverified
        or URIRef(CMLKB_BASE + "kb/basis-in-vitro") in set(g.objects(s, CML.evidenceBasis))
    )
    assert wrong == []


def violations(findings: list[Finding]) -> list[str]:
    return [f"[{f.check}] {f.focus}: {f.message}" for f in findings if f.severity == "violation"]


@pytest.mark.curated
def test_check_knowledge_finds_no_violation(kb: KnowledgeBase) -> None:
    """Depends on the curated knowledge: SHACL, QC queries and rule lint, no reasoner."""
    findings = check_knowledge(kb, reasoner=False)
    assert violations(findings) == []


@pytest.mark.curated
@pytest.mark.java
def test_knowledge_is_owl_consistent(kb: KnowledgeBase) -> None:
    """Depends on the curated knowledge and Java: HermiT finds the KB consistent."""
    from cmlkb.reasoning.check import owl_findings

    assert violations(owl_findings(kb.graph)) == []
