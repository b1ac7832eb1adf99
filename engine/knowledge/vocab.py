"""The controlled vocabularies of the case format, read from the knowledge base.

Every code a case may use (comorbidity, goal, co-medication, abnormality, transcript, drug,
mutation, stop reason, sex, adherence status, ELTS risk, phase, frequency, test method)
and every action code of the output is a term of the knowledge base: an individual of the
vocabulary's class with a `skos:notation`. A knowledge engineer adds a term by editing
Turtle; this module only knows which class holds which vocabulary (contract: `cmlkb vocab`).
"""

from __future__ import annotations

from typing import Any

from rdflib import URIRef

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML

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


def vocabularies(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    """Vocabulary name -> its terms (code, iri, label, plain_label, definition; mutations
    also hgvs_protein and hgvs_cdna), sorted by code. Cached per knowledge base."""
    cached = _CACHE.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    names = {str(cls): name for name, (cls, _) in VOCABULARY_CLASSES.items()}
    rows = kb.select("engine/vocabulary-terms", {"class": list(names)})
    terms: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        name = names[row["class"]]
        key = (name, row["node"], str(row["code"]))
        term = terms.get(key)
        if term is None:
            term = terms[key] = {
                "code": str(row["code"]),
                "iri": row["node"],
                "label": row.get("label"),
                "plain_label": row.get("plain"),
                "definition": row.get("definition"),
            }
            if name == "mutations":
                term["hgvs_protein"] = row.get("hgvs")
                term["hgvs_cdna"] = []
        if name == "mutations" and row.get("cdna") and row["cdna"] not in term["hgvs_cdna"]:
            term["hgvs_cdna"] = sorted([*term["hgvs_cdna"], row["cdna"]])
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in VOCABULARY_CLASSES}
    for (name, _, _), term in terms.items():
        result[name].append(term)
    for name in result:
        result[name].sort(key=lambda t: t["code"])
    _CACHE[id(kb)] = (kb, result)
    return result


def codes(kb: KnowledgeBase, name: str) -> set[str]:
    """The codes of one vocabulary."""
    return {t["code"] for t in vocabularies(kb)[name]}


def format_text(vocabs: dict[str, list[dict[str, Any]]]) -> str:
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
