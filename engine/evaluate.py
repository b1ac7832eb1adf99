"""`cmlkb evaluate`: validated cases through the rules to an explained recommendation.

Every case is validated first; if any is invalid nothing is evaluated and nothing is
stored (contract). Each evaluation runs in its own engine state (cmlkb.durable).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmlkb.errors import InvalidInput
from cmlkb.facts import case_facts
from cmlkb.knowledge import CML, KnowledgeBase, load_knowledge
from cmlkb.reasoner import Inference, infer
from cmlkb.result import build_result


@dataclass
class Evaluation:
    """One evaluation: the normalised input, the inference and the contract result."""

    evaluation_id: str
    case: dict[str, Any]
    selection: dict[str, str]
    inference: Inference
    result: dict[str, Any]
    input_digest: str
    started_at: str


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


def input_digest(case: dict[str, Any]) -> str:
    canonical = json.dumps(case, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def evaluate_case(
    case: dict[str, Any],
    kb: KnowledgeBase,
    selection: dict[str, str],
    evaluation_id: str | None = None,
) -> Evaluation:
    """Evaluate one validated, normalised case."""
    evaluation_id = evaluation_id or uuid.uuid4().hex
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    inference = infer(kb, case_facts(case, selection))
    result = build_result(case, kb, inference, selection, evaluation_id)
    return Evaluation(
        evaluation_id, case, selection, inference, result, input_digest(case), started_at
    )


def validated_cases(files: list[Path], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Validate every file; raise InvalidInput listing every problem if any is invalid."""
    from cmlkb.case import load_case_files
    from cmlkb.validation import format_text, validate

    inputs = load_case_files(files)
    report = validate(inputs, kb)
    if not report.ok:
        raise InvalidInput(
            "invalid input; nothing was evaluated or stored.\n" + format_text(report).rstrip()
        )
    return [report.cases[i.case_id] for i in inputs if i.case_id in report.cases]


def run(args: argparse.Namespace) -> int:
    from cmlkb.render import render

    kb = load_knowledge()
    selection = selection_for(kb, args.guideline, args.nccn, args.classification)
    cases = validated_cases([Path(f) for f in args.files], kb)
    evaluations = [evaluate_case(case, kb, selection) for case in cases]
    if not args.no_store:
        from cmlkb.store import open_store

        with open_store(args.store) as store:
            for evaluation in evaluations:
                store.add(evaluation, kb)
    sys.stdout.write(render(evaluations, kb, args.format))
    return 0
