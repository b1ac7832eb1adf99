"""The one pipeline every front door calls: validated cases -> case facts -> rules ->
derivations -> the contract result, as an Evaluation; and its output formats.

Every case is validated first; if any is invalid nothing is evaluated and nothing is
stored (contract). Each evaluation runs in its own engine state (cmlkb.reasoning.durable).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmlkb.case.facts import case_facts, fact_schema
from cmlkb.case.read import CaseRDF, input_digest, load_case_files
from cmlkb.case.validation import format_text, validate
from cmlkb.errors import InvalidInput
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML
from cmlkb.provenance.graph import export, provenance_graph
from cmlkb.provenance.store import FLUSH_EVERY, AuditStore
from cmlkb.reasoning.reasoner import infer
from cmlkb.results.evaluation import Evaluation
from cmlkb.results.patient import patient_summary
from cmlkb.results.result import build_result
from cmlkb.results.text import clinician_text

__all__ = [
    "Evaluation",
    "ValidCase",
    "evaluate_case",
    "input_digest",
    "render",
    "selection_for",
    "store_evaluations",
    "validated",
    "validated_cases",
]


_codes_cache: dict[tuple[str, str, str | None, bool], list[str]] = {}


def _codes(kb: KnowledgeBase, cls: str, family: str | None, default_only: bool) -> list[str]:
    """Codes of the individuals of a class (Guideline, ClassificationSystem), optionally of
    one guideline family and only the one marked cml:isDefault (cached per knowledge
    digest)."""
    key = (kb.digest, cls, family, default_only)
    if key not in _codes_cache:
        params: dict[str, Any] = {"class": str(CML[cls])}
        if family:
            params["family"] = family
        if default_only:
            params["isDefault"] = True
        rows = kb.select("engine/individual-codes", params)
        _codes_cache[key] = sorted(str(r["code"]) for r in rows)
    return list(_codes_cache[key])


def _default(kb: KnowledgeBase, cls: str, family: str | None = None) -> str:
    rows = _codes(kb, cls, family, default_only=True)
    if len(rows) != 1:
        raise InvalidInput(
            f"the knowledge base must mark exactly one default {cls}"
            f"{' (' + family + ')' if family else ''}; found {rows}"
        )
    return rows[0]


def selection_for(
    kb: KnowledgeBase,
    guideline: str | None = None,
    nccn: str | None = None,
    classification: str | None = None,
) -> dict[str, str]:
    """The guideline editions and phase classification of an evaluation; the defaults are
    the ones the knowledge base marks cml:isDefault."""
    chosen = {
        "guideline": guideline or _default(kb, "Guideline", "eln"),
        "nccn": nccn or _default(kb, "Guideline", "nccn"),
        "classification": classification or _default(kb, "ClassificationSystem"),
    }
    for key, cls, family, option in (
        ("guideline", "Guideline", "eln", "--guideline"),
        ("nccn", "Guideline", "nccn", "--nccn"),
        ("classification", "ClassificationSystem", None, "--classification"),
    ):
        allowed = _codes(kb, cls, family, default_only=False)
        if chosen[key] not in allowed:
            raise InvalidInput(
                f"{option} {chosen[key]!r} is not known; expected one of {', '.join(allowed)}"
            )
    return chosen


@dataclass
class ValidCase:
    """A validated, normalised case with the RDF the validation built of it."""

    case: dict[str, Any]
    rdf: CaseRDF | None = None


def evaluate_case(
    case: dict[str, Any] | ValidCase,
    kb: KnowledgeBase,
    selection: dict[str, str],
    evaluation_id: str | None = None,
) -> Evaluation:
    """Evaluate one validated, normalised case (a ValidCase keeps its case RDF with the
    Evaluation, for provenance)."""
    rdf = case.rdf if isinstance(case, ValidCase) else None
    case = case.case if isinstance(case, ValidCase) else case
    evaluation_id = evaluation_id or uuid.uuid4().hex
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    inference = infer(kb, case_facts(case, selection, fact_schema(kb)))
    result = build_result(case, kb, inference, selection, evaluation_id)
    return Evaluation(
        evaluation_id,
        case,
        selection,
        inference,
        result,
        input_digest(case),
        started_at,
        case_rdf=rdf,
    )


def validated(files: list[Path], kb: KnowledgeBase) -> list[ValidCase]:
    """Validate every file; raise InvalidInput listing every problem if any is invalid.
    Each valid case comes with the RDF the validation built of it."""
    inputs = load_case_files(files)
    report = validate(inputs, kb)
    if not report.ok:
        raise InvalidInput(
            "invalid input; nothing was evaluated or stored.\n" + format_text(report).rstrip()
        )
    return [
        ValidCase(report.cases[i.case_id], report.rdf.get(i.case_id))
        for i in inputs
        if i.case_id in report.cases
    ]


def validated_cases(files: list[Path], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """The normalised cases of `validated` (without their RDF)."""
    return [v.case for v in validated(files, kb)]


GRAPH_FORMATS = ("turtle", "jsonld")


def store_evaluations(
    evaluations: list[Evaluation], kb: KnowledgeBase, store: AuditStore, fmt: str
) -> None:
    """Write each evaluation to the audit store. The provenance graph built for the store
    stays with the evaluation only when the output format `fmt` exports it (render then
    reuses it); otherwise it is let go at once, so a long batch does not hold them all."""
    for n, evaluation in enumerate(evaluations, 1):
        store.add(evaluation, kb)
        if fmt not in GRAPH_FORMATS:
            evaluation.provenance = None
        if n % FLUSH_EVERY == 0:
            store.flush()  # memory flat over many evaluations


def render(evaluations: list[Evaluation], kb: KnowledgeBase, fmt: str) -> str:
    """The evaluations in an output format: `json` (the contract), `turtle`/`jsonld` (the
    provenance graph), `patient` (plain words) or `text` (for a clinician)."""
    if fmt == "json":
        results = [e.result for e in evaluations]
        data: Any = results[0] if len(results) == 1 else results
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt in GRAPH_FORMATS:
        # each evaluation's graph is built once (the store may have built it already)
        return export([provenance_graph(e, kb) for e in evaluations], fmt)
    if fmt == "patient":
        return "\n\n".join(patient_summary(e, kb) for e in evaluations) + "\n"
    return "\n\n".join(clinician_text(e.result, kb) for e in evaluations) + "\n"
