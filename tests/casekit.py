"""A small kit for the rule tests: build a minimal VALID case, evaluate it, and ask what
the rules derived.

Every case the kit builds goes through `cmlkb.case.validation.validate` (JSON Schema, vocabulary
and SHACL) exactly as `cmlkb evaluate` does; a builder call that makes an invalid case fails
the test with the validator's own message, so no rule test ever runs on data the engine
would refuse. Dates are written relative to the start of the therapy (`at(months)`), so a
test reads like the clinical situation it checks.

Used by tests/rules, tests/engine, tests/property and tests/patient as `tests.casekit`
(tests/ is a package: pytest puts the project root on sys.path, no conftest edits it).
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cmlkb.case.read import CaseInput, latest_date, parse_json
from cmlkb.case.validation import format_text, validate
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from cmlkb.pipeline import Evaluation, evaluate_case, selection_for
from cmlkb.reasoning.reasoner import FactRecord

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = PROJECT_ROOT / "rules"
EXAMPLES = sorted((PROJECT_ROOT / "examples" / "cases").glob("*.json"))

START = "2022-01-03"  # start of the default (first and current) therapy
DIAGNOSIS = "2021-12-20"
DAYS_PER_MONTH = 30.4375  # the calendar month the engine uses (engine/facts.py)

# A minimal valid case: chronic phase, imatinib 400 mg first line, adherent, nothing else.
BASE: dict[str, Any] = {
    "id": "rule-test",
    "patient": {"age_years": 55, "sex": "female", "comorbidities": [], "goals": []},
    "diagnosis": {
        "date": DIAGNOSIS,
        "phase": "chronic",
        "transcript": "e14a2",
        "elts_risk": "low",
        "additional_chromosomal_abnormalities": [],
    },
    "therapies": [{"drug": "imatinib", "dose_mg": 400, "start": START}],
    "bcr_abl1": [],
    "adherence": {"assessed_on": START, "status": "adherent"},
    "comedications": [],
}


def at(months: float, start: str = START) -> str:
    """The ISO date `months` calendar months after `start` (negative: before)."""
    days = round(months * DAYS_PER_MONTH)
    return (date.fromisoformat(start) + timedelta(days=days)).isoformat()


def plus_days(iso: str, days: int) -> str:
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


def bcr(months: float, value: float | None, start: str = START, **extra: Any) -> dict:
    """A BCR::ABL1 result `months` after `start`; value None means undetectable."""
    out: dict[str, Any] = {"date": at(months, start)}
    if value is None:
        out["undetectable"] = True
    else:
        out["is_percent"] = value
    out.update(extra)
    return out


def analysis(
    months: float,
    *variants: str,
    compound: list[list[str]] | None = None,
    method: str = "NGS",
    start: str = START,
) -> dict:
    """A mutation analysis `months` after `start` finding `variants` (none: negative)."""
    return {
        "date": at(months, start),
        "method": method,
        "variants": [{"protein": v, "vaf_percent": 30.0} for v in variants],
        "compound": compound or [],
    }


def make_raw(**changes: Any) -> dict[str, Any]:
    """BASE with top-level sections replaced (`patient` and `diagnosis` are merged);
    a value None removes the key. `assessed_on` defaults to the latest date of the case."""
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        elif key in ("patient", "diagnosis"):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = copy.deepcopy(value)
    if "assessed_on" not in raw:
        raw["assessed_on"] = latest_date(raw)
    return raw


_VALIDATED: dict[tuple[str, str], dict[str, Any]] = {}


def validated(kb: KnowledgeBase, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate `raw` against `kb` as `cmlkb evaluate` would read it from a file (numbers
    as Decimal); return a copy of the normalised case. Raise AssertionError, with the
    validator's report, when the case is invalid."""
    text = json.dumps(raw, sort_keys=True)
    key = (kb.digest, text)
    if key not in _VALIDATED:
        parsed = parse_json(text)
        report = validate([CaseInput("rule-test.json", parsed, parsed.get("id"), None)], kb)
        if not report.ok:
            raise AssertionError("the test built an invalid case:\n" + format_text(report))
        _VALIDATED[key] = report.cases[parsed["id"]]
    return copy.deepcopy(_VALIDATED[key])


def example(stem: str) -> dict[str, Any]:
    """The raw case of examples/cases/<stem>.json (a fresh copy to vary; `validated` checks
    the variation)."""
    path = PROJECT_ROOT / "examples" / "cases" / f"{stem}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def make_case(kb: KnowledgeBase, **changes: Any) -> dict[str, Any]:
    """A validated case: BASE with `changes` (see make_raw)."""
    return validated(kb, make_raw(**changes))


_KBS: dict[int, KnowledgeBase] = {}


@cache
def _selection(
    kb_id: int, guideline: str | None, nccn: str | None, classification: str | None
) -> tuple[tuple[str, str], ...]:
    return tuple(selection_for(_KBS[kb_id], guideline, nccn, classification).items())


def evaluate(
    kb: KnowledgeBase,
    case: dict[str, Any],
    guideline: str | None = None,
    nccn: str | None = None,
    classification: str | None = None,
) -> Evaluation:
    """Evaluate a validated case with the given (or default) guideline editions."""
    _KBS[id(kb)] = kb
    selection = dict(_selection(id(kb), guideline, nccn, classification))
    return evaluate_case(case, kb, selection)


def run(
    kb: KnowledgeBase,
    guideline: str | None = None,
    nccn: str | None = None,
    classification: str | None = None,
    **changes: Any,
) -> Evaluation:
    """Build, validate and evaluate in one call."""
    return evaluate(kb, make_case(kb, **changes), guideline, nccn, classification)


# --- asking what the rules derived -------------------------------------------------------


def derived(ev: Evaluation, kind: str, **fields: Any) -> list[dict[str, Any]]:
    """Facts of `kind` whose fields equal the given values."""
    return [
        r.fact
        for r in ev.inference.of_kind(kind)
        if all(r.fact.get(k) == v for k, v in fields.items())
    ]


def records(ev: Evaluation, kind: str, **fields: Any) -> list[FactRecord]:
    return [
        r for r in ev.inference.of_kind(kind) if all(r.fact.get(k) == v for k, v in fields.items())
    ]


def by_rule(ev: Evaluation, rule_id: str) -> list[dict[str, Any]]:
    """Facts with at least one derivation by `rule_id`."""
    return [
        r.fact for r in ev.inference.derived() if any(d.rule_id == rule_id for d in r.derivations)
    ]


def assert_fires(ev: Evaluation, *rule_ids: str) -> None:
    """Each rule fired at least once in this evaluation. (The coverage meta-test reads the
    literal rule ids of these calls from the test sources.)"""
    fired = ev.inference.fired_rules()
    missing = [r for r in rule_ids if r not in fired]
    assert not missing, f"expected {missing} to fire; fired: {sorted(fired)}"


def assert_not_fires(ev: Evaluation, *rule_ids: str) -> None:
    """No rule of `rule_ids` fired in this evaluation."""
    fired = ev.inference.fired_rules()
    wrong = [r for r in rule_ids if r in fired]
    assert not wrong, f"expected {wrong} not to fire: {[by_rule(ev, r) for r in wrong]}"


def drug(ev: Evaluation, name: str) -> dict[str, Any]:
    """The contract entry of one drug (status and reasons)."""
    return next(d for d in ev.result["drugs"] if d["drug"] == name)


def status(ev: Evaluation, name: str) -> str:
    return str(drug(ev, name)["status"])


def reasons(ev: Evaluation, name: str, **fields: Any) -> list[dict[str, Any]]:
    """drug-reason facts for one drug."""
    return derived(ev, "drug-reason", drug=name, **fields)


def eln(ev: Evaluation) -> str | None:
    return ev.result["response"]["eln"]


def actions(ev: Evaluation) -> set[str]:
    return set(ev.result["actions"])


def rule_ids(files: list[str] | None = None) -> dict[str, str]:
    """Rule id -> the rule file (stem) it is written in, read from rules/*.yaml."""
    import yaml

    out: dict[str, str] = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        if path.stem == "facts" or (files is not None and path.stem not in files):
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in doc.get("rules", []):
            out[rule["id"]] = path.stem
    return out


def load_kb(root: Path) -> KnowledgeBase:
    return load_knowledge_from(root)


# Default doses (mg, once daily unless noted) the history builder gives each drug.
DOSES: dict[str, tuple[float, str]] = {
    "imatinib": (400, "QD"),
    "dasatinib": (100, "QD"),
    "nilotinib": (400, "BID"),
    "bosutinib": (500, "QD"),
    "ponatinib": (45, "QD"),
    "asciminib": (40, "BID"),
}


def history(
    *stopped: tuple[str, str], current: str | None = "dasatinib", current_start: str = START
) -> dict[str, Any]:
    """Changes for make_case: therapies `stopped` ((drug, stop_reason), oldest first), each
    12 months long and ending a week before the next starts, then `current` from
    `current_start` (None: off therapy after the last one). The diagnosis date is moved
    before the first therapy."""
    therapies: list[dict[str, Any]] = []
    start = at(-12 * len(stopped), current_start)
    for drug_name, reason in stopped:
        dose, frequency = DOSES.get(drug_name, (400, "QD"))
        end = plus_days(at(12, start), -7)
        therapies.append(
            {
                "drug": drug_name,
                "dose_mg": dose,
                "frequency": frequency,
                "start": start,
                "end": end,
                "stop_reason": reason,
            }
        )
        start = at(12, start)
    if current is not None:
        dose, frequency = DOSES.get(current, (400, "QD"))
        therapies.append(
            {"drug": current, "dose_mg": dose, "frequency": frequency, "start": current_start}
        )
    first = therapies[0]["start"]
    return {
        "therapies": therapies,
        "diagnosis": {"date": plus_days(first, -14)},
        "adherence": {"assessed_on": first, "status": "adherent"},
    }


def assert_no_conclusion(ev: Evaluation, rule_id: str, **fields: Any) -> None:
    """`rule_id` derived no fact with these field values (a rule that fires for other
    bindings in every case, checked where it must not conclude)."""
    wrong = [f for f in by_rule(ev, rule_id) if all(f.get(k) == v for k, v in fields.items())]
    assert not wrong, f"{rule_id} must not conclude {fields}: {wrong}"
