"""The controlled vocabularies of the case format, read from the knowledge base.

Every code a case may use (comorbidity, goal, co-medication, abnormality, transcript, drug,
mutation, stop reason, sex, adherence status, ELTS risk, phase, frequency, test method)
and every action code of the output is a term of the knowledge base: an individual of the
vocabulary's class with a `skos:notation`. A knowledge engineer adds a term by editing
Turtle; this module only knows which class holds which vocabulary (contract: `cmlkb vocab`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cmlkb.knowledge import CML, KnowledgeBase, load_knowledge
from rdflib import OWL, RDF, RDFS, Literal, URIRef
from rdflib.namespace import SKOS

# vocabulary name (as shown by `cmlkb vocab` and named by the case schema's
# x-cmlkb-vocabulary keyword) -> (schema class, what it is, in words)
VOCABULARY_CLASSES: dict[str, tuple[URIRef, str]] = {
    "drugs": (CML.TyrosineKinaseInhibitor, "TKIs by lower-case INN (therapies[].drug)"),
    "mutations": (CML.Variant, "BCR::ABL1 kinase-domain variants (variants[].protein)"),
    "comorbidities": (CML.Comorbidity, "patient.comorbidities"),
    "goals": (CML.TherapyGoal, "patient.goals"),
    "comedications": (CML.Comedication, "comedications, by lower-case INN"),
    "abnormalities": (CML.ChromosomalAbnormality, "additional chromosomal abnormalities"),
    "transcripts": (CML.Transcript, "diagnosis.transcript"),
    "elts-risks": (CML.EltsRisk, "diagnosis.elts_risk"),
    "sexes": (CML.Sex, "patient.sex"),
    "stop-reasons": (CML.StopReason, "therapies[].stop_reason"),
    "adherence-statuses": (CML.AdherenceStatus, "adherence.status"),
    "phases": (CML.Phase, "diagnosis.phase, phase_assessments[].phase"),
    "frequencies": (CML.Frequency, "therapies[].frequency"),
    "test-methods": (CML.TestMethod, "mutation_analyses[].method"),
    "actions": (CML.Action, "output actions"),
}

_CACHE: dict[int, tuple[KnowledgeBase, dict[str, list[dict[str, Any]]]]] = {}


def _text(kb: KnowledgeBase, node: URIRef, prop: URIRef) -> str | None:
    """The English (or untagged) value of a literal property, if any."""
    fallback = None
    for value in kb.graph.objects(node, prop):
        if isinstance(value, Literal):
            if value.language in (None, "en"):
                return str(value)
            fallback = fallback or str(value)
    return fallback


def _members(kb: KnowledgeBase, cls: URIRef) -> set[URIRef]:
    """Individuals of a class or of any of its subclasses, deprecated ones left out."""
    graph = kb.graph
    members: set[URIRef] = set()
    for sub in graph.transitive_subjects(RDFS.subClassOf, cls):
        members.update(s for s in graph.subjects(RDF.type, sub) if isinstance(s, URIRef))
    return {m for m in members if not graph.value(m, OWL.deprecated)}


def _term(kb: KnowledgeBase, node: URIRef, code: str, name: str) -> dict[str, Any]:
    term: dict[str, Any] = {
        "code": code,
        "iri": str(node),
        "label": _text(kb, node, SKOS.prefLabel),
        "plain_label": _text(kb, node, CML.plainLabel),
        "definition": _text(kb, node, SKOS.definition),
    }
    if name == "mutations":
        term["hgvs_protein"] = _text(kb, node, CML.hgvsProtein)
        term["hgvs_cdna"] = sorted(str(v) for v in kb.graph.objects(node, CML.hgvsCdna))
    return term


def vocabularies(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    """Vocabulary name -> its terms (code, iri, label, plain_label, definition; mutations
    also hgvs_protein and hgvs_cdna), sorted by code. Cached per knowledge base."""
    cached = _CACHE.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    result: dict[str, list[dict[str, Any]]] = {}
    for name, (cls, _) in VOCABULARY_CLASSES.items():
        terms = []
        for node in _members(kb, cls):
            for code in kb.graph.objects(node, SKOS.notation):
                terms.append(_term(kb, node, str(code), name))
        result[name] = sorted(terms, key=lambda t: t["code"])
    _CACHE[id(kb)] = (kb, result)
    return result


def codes(kb: KnowledgeBase, name: str) -> set[str]:
    """The codes of one vocabulary."""
    return {t["code"] for t in vocabularies(kb)[name]}


def _format_text(vocabs: dict[str, list[dict[str, Any]]]) -> str:
    lines: list[str] = []
    for name, terms in vocabs.items():
        what = VOCABULARY_CLASSES[name][1]
        lines.append(f"{name} ({what}): {len(terms)} terms")
        for t in terms:
            parts = [f"  {t['code']}"]
            if name == "mutations":
                parts.append(t["hgvs_protein"] or "")
                parts.append(", ".join(t["hgvs_cdna"]))
            label = t["label"] or ""
            if label and label != t["code"]:
                parts.append(label)
            if t["plain_label"]:
                parts.append(f"({t['plain_label']})")
            lines.append("  ".join(p for p in parts if p))
        if not terms:
            lines.append("  (none in the knowledge base)")
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """`cmlkb vocab [--format text|json]`."""
    vocabs = vocabularies(load_knowledge())
    if getattr(args, "format", "text") == "json":
        print(json.dumps(vocabs, indent=2, ensure_ascii=False))
    else:
        print(_format_text(vocabs), end="")
    return 0
