"""Case facts: a validated, normalised case as the flat facts the rules reason over.

Only data shaping happens here (dates to day numbers, quantities to scaled integers,
which result is the latest); every clinical judgement is left to the rules. Each fact
records the JSON path it came from, so a derivation leads back to the input. The fact
kinds and fields are declared in rules/facts.yaml, which also holds the scales; the
schema is read from the knowledge root of the evaluation (`fact_schema_at(kb.root)`) and
passed in, so that a stored knowledge version is replayed with its own scales.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.cache import cached
from cmlkb.knowledge.yaml_files import read_yaml

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12: the calendar, not a clinical threshold


@dataclass(frozen=True)
class FactSchema:
    scales: dict[str, int]
    unbounded: int
    case_kinds: dict[str, Any]
    knowledge_kinds: dict[str, Any]
    derived_kinds: dict[str, Any]
    lab_units: dict[str, str]
    doses_per_day: dict[str, Decimal]


@cache
def fact_schema_at(root: Path) -> FactSchema:
    """The fact declarations of the rules under `root` (rules/facts.yaml), once per root."""
    doc = read_yaml((root / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    return FactSchema(
        scales={k: int(v) for k, v in doc["scales"].items()},
        unbounded=int(doc["unbounded"]),
        case_kinds=doc.get("case") or {},
        knowledge_kinds=doc.get("knowledge") or {},
        derived_kinds=doc.get("derived") or {},
        lab_units=dict(doc.get("lab_units") or {}),
        doses_per_day={k: Decimal(str(v)) for k, v in (doc.get("doses_per_day") or {}).items()},
    )


_schemas: dict[str, FactSchema] = {}


def fact_schema(kb: KnowledgeBase) -> FactSchema:
    """The fact declarations of `kb` (fact_schema_at(kb.root)), once per knowledge digest;
    kept in the disk cache of `kb`, if it has one (so a run from the cache reads no YAML)."""
    if kb.digest not in _schemas:
        _schemas[kb.digest] = cached(
            kb, "fact-schema", lambda: fact_schema_at(kb.root), _encode_schema, _decode_schema
        )
    return _schemas[kb.digest]


def _encode_schema(schema: FactSchema) -> dict[str, Any]:
    data = asdict(schema)
    data["doses_per_day"] = {k: str(v) for k, v in schema.doses_per_day.items()}
    return data


def _decode_schema(data: dict[str, Any]) -> FactSchema:
    return FactSchema(
        **{**data, "doses_per_day": {k: Decimal(v) for k, v in data["doses_per_day"].items()}}
    )


def scaled(value: Any, unit: str, schema: FactSchema) -> int:
    """A quantity as an integer in the unit's scale, rounded up (towards +infinity).

    Thresholds lie on the scale's grid, and rounding up keeps every comparison with them
    exact: a value above a threshold stays above it (0.1000001 % is not MMR) and a value
    at or below stays at or below."""
    factor = schema.scales[unit]
    return int((Decimal(str(value)) * factor).to_integral_value(rounding=ROUND_CEILING))


def scaled_is(value: Any, schema: FactSchema) -> int:
    """A BCR::ABL1 IS % as a scaled integer, saturated at the scale's top (`unbounded` in
    rules/facts.yaml). Every band open at the top reaches `unbounded` inclusive, so a value
    beyond the engine's range stays in the top band of its time point instead of falling
    out of every band; the reported value is the case's own, unchanged. The comparison is
    made before scaling, so that no value accepted by validation overflows."""
    if Decimal(str(value)) >= Decimal(schema.unbounded) / schema.scales["is"]:
        return schema.unbounded
    return scaled(value, "is", schema)


def log_is(value: Any, schema: FactSchema) -> int:
    """log10 of a BCR::ABL1 IS % on the `logs` scale, after saturation at the top
    of the `is` scale; 0 % (or undetectable) lies below every quantified result:
    -`unbounded`. A unit conversion only: how many logs make a rise is knowledge."""
    number = Decimal(scaled_is(value, schema)) / schema.scales["is"]
    if number <= 0:
        return -schema.unbounded
    return scaled(number.log10(), "logs", schema)


def daily_dose(dose_mg: Any, frequency: str, schema: FactSchema) -> int:
    """Daily dose (scaled mg), -1 when the dose is not recorded."""
    if dose_mg is None:
        return -1
    per_day = schema.doses_per_day[frequency]
    return scaled(Decimal(str(dose_mg)) * per_day, "mg", schema)


def current_dose(therapy: dict[str, Any]) -> tuple[Any, str]:
    """(dose in mg, frequency) now: after the last dose change, else the starting ones."""
    changes = sorted(therapy.get("dose_changes", []), key=lambda c: c["date"])
    frequency = therapy.get("frequency", "QD")
    dose = therapy.get("dose_mg")
    for change in changes:
        frequency = change.get("frequency", frequency)
        dose = change.get("dose_mg", dose)
    return dose, frequency


def day_number(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


def months_between(start_day: int, day: int, schema: FactSchema) -> int:
    """Months (scaled) from start_day to day; negative when day is before start_day."""
    months = Decimal(day - start_day) / DAYS_PER_MONTH
    return scaled(months, "months", schema)


@dataclass
class CaseFact:
    """A fact with the JSON path it came from ('' for facts about the whole case)."""

    fact: dict[str, Any]
    path: str


def _latest_index(items: list[dict[str, Any]], key: str = "date") -> int:
    best, best_day = -1, None
    for i, item in enumerate(items):
        d = day_number(item[key])
        if best_day is None or d >= best_day:
            best, best_day = i, d
    return best


def case_facts(
    case: dict[str, Any], selection: dict[str, str], schema: FactSchema
) -> list[CaseFact]:
    """All facts of a normalised case (see rules/facts.yaml for the meaning of each),
    scaled by `schema` (the fact declarations of the knowledge evaluating the case)."""
    out: list[CaseFact] = [CaseFact({"kind": "selection", **selection}, "")]
    out += [
        CaseFact({"kind": "selected", "family": family, "guideline": selection[key]}, "")
        for family, key in (("eln", "guideline"), ("nccn", "nccn"))
    ]
    diagnosis = case["diagnosis"]
    assessed_day = day_number(case["assessed_on"])
    therapies: list[dict[str, Any]] = case["therapies"]
    starts = [day_number(t["start"]) for t in therapies]
    first_start = min(starts)
    current = next((i for i, t in enumerate(therapies) if "end" not in t), -1)
    current_start = starts[current] if current >= 0 else None
    ordered = sorted(range(len(therapies)), key=lambda i: starts[i])
    last = ordered[-1]
    last_end = day_number(therapies[last]["end"]) if current < 0 else -1

    def therapy_on(day: int) -> int:
        found = -1
        for i in ordered:
            end = day_number(therapies[i]["end"]) if "end" in therapies[i] else assessed_day
            if starts[i] <= day <= end:
                found = i
        return found

    bcr: list[dict[str, Any]] = case.get("bcr_abl1", [])
    out.append(
        CaseFact(
            {
                "kind": "case",
                "assessed_day": assessed_day,
                "current": current,
                "current_drug": therapies[current]["drug"] if current >= 0 else "none",
                "months_on_current": (
                    months_between(current_start, assessed_day, schema)
                    if current_start is not None
                    else -1
                ),
                "transcript": diagnosis.get("transcript", "unknown"),
                "phase_at_diagnosis": diagnosis["phase"],
                "elts": diagnosis.get("elts_risk", "unknown"),
                "off_therapy": current < 0,
                "tfr_stop": current < 0 and therapies[last].get("stop_reason") == "tfr",
                "last_stop_day": last_end,
                "months_off": months_between(last_end, assessed_day, schema) if current < 0 else -1,
                "has_bcr": bool(bcr),
            },
            "",
        )
    )

    for rank, i in enumerate(ordered):
        t = therapies[i]
        previous = therapies[ordered[rank - 1]] if rank > 0 else None
        dose_now, frequency_now = current_dose(t)
        out.append(
            CaseFact(
                {
                    "kind": "therapy",
                    "idx": i,
                    "drug": t["drug"],
                    "start_day": starts[i],
                    "end_day": day_number(t["end"]) if "end" in t else assessed_day,
                    "open": "end" not in t,
                    "current": i == current,
                    "stop_reason": t.get("stop_reason", "none" if "end" not in t else "other"),
                    "line": rank + 1,
                    "first_line": rank == 0,
                    "second_line": rank == 1,
                    "previous_drug": previous["drug"] if previous else "none",
                    "previous_stop_reason": (
                        previous.get("stop_reason", "other") if previous else "none"
                    ),
                    "dose": scaled(t["dose_mg"], "mg", schema) if "dose_mg" in t else -1,
                    "daily": daily_dose(t.get("dose_mg"), t.get("frequency", "QD"), schema),
                    "current_dose": scaled(dose_now, "mg", schema) if dose_now is not None else -1,
                    "current_daily": daily_dose(dose_now, frequency_now, schema),
                    "frequency": t.get("frequency", "QD"),
                    "after_tfr": bool(previous and previous.get("stop_reason") == "tfr"),
                },
                f"therapies[{i}]",
            )
        )
        for j, change in enumerate(t.get("dose_changes", [])):
            out.append(
                CaseFact(
                    {
                        "kind": "dose-change",
                        "therapy": i,
                        "idx": j,
                        "day": day_number(change["date"]),
                        "dose": scaled(change["dose_mg"], "mg", schema)
                        if "dose_mg" in change
                        else -1,
                        "frequency": change.get("frequency", t.get("frequency", "QD")),
                        "current": i == current and j == len(t["dose_changes"]) - 1,
                    },
                    f"therapies[{i}].dose_changes[{j}]",
                )
            )
        for j, pause in enumerate(t.get("interruptions", [])):
            s, e = day_number(pause["start"]), day_number(pause["end"])
            out.append(
                CaseFact(
                    {
                        "kind": "interruption",
                        "therapy": i,
                        "idx": j,
                        "start_day": s,
                        "end_day": e,
                        "days": e - s,
                        "reason": pause.get("reason", "other"),
                    },
                    f"therapies[{i}].interruptions[{j}]",
                )
            )

    latest_bcr = _latest_index(bcr)
    for i, r in enumerate(bcr):
        d = day_number(r["date"])
        undetectable = bool(r.get("undetectable", False))
        on = therapy_on(d)
        out.append(
            CaseFact(
                {
                    "kind": "bcr",
                    "idx": i,
                    "day": d,
                    "date": r["date"],
                    "months": months_between(current_start, d, schema)
                    if current_start is not None
                    else -1,
                    "therapy": on,
                    "on_current": current >= 0 and on == current,
                    "baseline": d < first_start,
                    "off_therapy": current < 0 and d > last_end,
                    "quantified": not undetectable,
                    "is": -1 if undetectable else scaled_is(r["is_percent"], schema),
                    "value": 0 if undetectable else scaled_is(r["is_percent"], schema),
                    "log": -schema.unbounded if undetectable else log_is(r["is_percent"], schema),
                    "copies": int(r["control_copies"]) if "control_copies" in r else -1,
                    "gene": r.get("control_gene", "ABL1"),
                    "latest": i == latest_bcr,
                    "age_days": assessed_day - d,
                },
                f"bcr_abl1[{i}]",
            )
        )

    analyses: list[dict[str, Any]] = case.get("mutation_analyses", [])
    latest_analysis = _latest_index(analyses)
    for a, analysis in enumerate(analyses):
        d = day_number(analysis["date"])
        on_current = current_start is not None and d >= current_start
        out.append(
            CaseFact(
                {
                    "kind": "analysis",
                    "idx": a,
                    "day": d,
                    "date": analysis["date"],
                    "method": analysis["method"],
                    "negative": not analysis.get("variants"),
                    "latest": a == latest_analysis,
                    "on_current": on_current,
                },
                f"mutation_analyses[{a}]",
            )
        )
        for v, variant in enumerate(analysis.get("variants", [])):
            out.append(
                CaseFact(
                    {
                        "kind": "variant",
                        "analysis": a,
                        "idx": v,
                        "protein": variant["protein"],
                        "vaf": scaled(variant["vaf_percent"], "percent", schema)
                        if "vaf_percent" in variant
                        else -1,
                        "day": d,
                        "method": analysis["method"],
                        "on_current": on_current,
                        "latest_analysis": a == latest_analysis,
                    },
                    f"mutation_analyses[{a}].variants[{v}]",
                )
            )
        for c, members in enumerate(analysis.get("compound", [])):
            for m, protein in enumerate(members):
                out.append(
                    CaseFact(
                        {
                            "kind": "compound-member",
                            "analysis": a,
                            "compound": c,
                            "protein": protein,
                        },
                        f"mutation_analyses[{a}].compound[{c}][{m}]",
                    )
                )

    patient = case.get("patient", {})
    for key, kind in (("comorbidities", "comorbidity"), ("goals", "goal")):
        for i, code in enumerate(patient.get(key, [])):
            out.append(CaseFact({"kind": kind, "code": code}, f"patient.{key}[{i}]"))
    for i, code in enumerate(case.get("comedications", [])):
        out.append(CaseFact({"kind": "comedication", "code": code}, f"comedications[{i}]"))

    adherence = case.get("adherence")
    if adherence:
        out.append(
            CaseFact(
                {
                    "kind": "adherence",
                    "status": adherence["status"],
                    "day": day_number(adherence["assessed_on"])
                    if "assessed_on" in adherence
                    else -1,
                },
                "adherence",
            )
        )
    else:
        out.append(CaseFact({"kind": "adherence", "status": "not-assessed", "day": -1}, ""))

    for i, code in enumerate(diagnosis.get("additional_chromosomal_abnormalities", [])):
        out.append(
            CaseFact(
                {
                    "kind": "aca",
                    "origin": "diagnosis",
                    "idx": -1,
                    "code": code,
                    "day": day_number(diagnosis["date"]),
                    "on_treatment": False,
                },
                f"diagnosis.additional_chromosomal_abnormalities[{i}]",
            )
        )
    for i, cyto in enumerate(case.get("cytogenetics", [])):
        d = day_number(cyto["date"])
        out.append(
            CaseFact(
                {
                    "kind": "cytogenetics",
                    "idx": i,
                    "day": d,
                    "ph": scaled(cyto["ph_positive_percent"], "percent", schema)
                    if "ph_positive_percent" in cyto
                    else -1,
                    "metaphases": int(cyto.get("metaphases", -1)),
                    "on_current": current_start is not None and d >= current_start,
                },
                f"cytogenetics[{i}]",
            )
        )
        for j, code in enumerate(cyto.get("abnormalities", [])):
            out.append(
                CaseFact(
                    {
                        "kind": "aca",
                        "origin": "cytogenetics",
                        "idx": i,
                        "code": code,
                        "day": d,
                        "on_treatment": d >= first_start,
                    },
                    f"cytogenetics[{i}].abnormalities[{j}]",
                )
            )

    hematology: list[dict[str, Any]] = case.get("hematology", [])
    latest_heme = _latest_index(hematology)
    for i, h in enumerate(hematology):
        d = day_number(h["date"])
        values = dict(h)
        if "blasts_percent" in h and "promyelocytes_percent" in h:
            values["blasts_plus_promyelocytes_percent"] = Decimal(
                str(h["blasts_percent"])
            ) + Decimal(str(h["promyelocytes_percent"]))
        for param, value in values.items():
            if param == "date":
                continue
            unit = schema.lab_units.get(param, "percent")
            number = int(value) if isinstance(value, bool) else scaled(value, unit, schema)
            out.append(
                CaseFact(
                    {
                        "kind": "lab",
                        "idx": i,
                        "param": param,
                        "value": number,
                        "day": d,
                        "on_treatment": d >= first_start,
                        "latest": i == latest_heme,
                    },
                    f"hematology[{i}].{param}",
                )
            )
    for i, pa in enumerate(case.get("phase_assessments", [])):
        d = day_number(pa["date"])
        out.append(
            CaseFact(
                {
                    "kind": "phase-assessment",
                    "idx": i,
                    "day": d,
                    "phase": pa["phase"],
                    "on_treatment": d >= first_start,
                },
                f"phase_assessments[{i}]",
            )
        )
    return out
