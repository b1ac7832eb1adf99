"""A deterministic generator of valid, varied CML cases for the benchmark.

`generate_cases(kb, n, seed)` returns `n` case dicts (contract.md "Case input"), the same
ones for the same seed and knowledge base. Each case is drawn from one of the situations
the shipped examples show, with random dates, values and overlays:

- optimal responder, warning at 3 or 6 months, failure with kinase-domain mutations,
  compound mutations after several lines, relapse after a TFR stop, switch after
  intolerance, advanced phase (blasts, basophils, additional chromosomal abnormalities),
  and insufficient data (no follow-up result);
- overlays: comorbidities, co-medications, dose changes, interruptions, undetectable
  results with control copies, missing doses, unknown adherence.

Every code (drug, mutation, comorbidity, co-medication, abnormality, transcript, risk,
sex...) is taken from the knowledge base's vocabularies (cmlkb.knowledge.vocab), so the generator
follows the knowledge as it grows. The values are synthetic: they exercise the rules,
they are not clinical data. Usage: `python bench/generate.py N [--seed S] > cases.jsonl`.

`--invalid-every K` makes every K-th record invalid (a cohort with rejects for
`cmlkb batch`): in turn a line that is not JSON, an unknown drug, no therapy, an
impossible date and an unknown key, each made from the valid case it replaces.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from datetime import date, timedelta
from typing import Any

from cmlkb.case.read import CaseInput, parse_json
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.vocab import codes

SITUATIONS: tuple[tuple[str, int], ...] = (
    ("optimal", 25),
    ("warning", 15),
    ("failure-mutation", 18),
    ("compound", 10),
    ("tfr-relapse", 10),
    ("intolerance-switch", 7),
    ("advanced-phase", 8),
    ("insufficient-data", 7),
)
# Usual starting doses, only to make the synthetic cases look familiar (mg, frequency).
# A drug missing here gets no dose, which the case format allows.
_DOSES: dict[str, list[tuple[int, str]]] = {
    "imatinib": [(400, "QD"), (600, "QD"), (300, "QD")],
    "dasatinib": [(100, "QD"), (50, "QD"), (140, "QD")],
    "nilotinib": [(300, "BID"), (400, "BID")],
    "bosutinib": [(400, "QD"), (500, "QD")],
    "ponatinib": [(45, "QD"), (30, "QD"), (15, "QD")],
    "asciminib": [(40, "BID"), (80, "QD"), (200, "BID")],
}
_FIRST_LINE = ("imatinib", "dasatinib", "nilotinib", "bosutinib")
_LATER_LINE = ("dasatinib", "nilotinib", "bosutinib", "ponatinib", "asciminib")
_MONTH = 30.4375


class Vocab:
    """The sorted codes of the vocabularies the generator draws from."""

    def __init__(self, kb: KnowledgeBase) -> None:
        def get(name: str) -> list[str]:
            return sorted(codes(kb, name))

        self.drugs = get("drugs")
        self.mutations = get("mutations")
        self.comorbidities = get("comorbidities")
        self.comedications = get("comedications")
        self.abnormalities = get("abnormalities")
        self.transcripts = get("transcripts")
        self.elts = get("elts-risks")
        self.sexes = get("sexes")
        self.goals = get("goals")
        self.first_line = [d for d in _FIRST_LINE if d in self.drugs] or self.drugs
        self.later_line = [d for d in _LATER_LINE if d in self.drugs] or self.drugs
        for name in ("drugs", "mutations", "transcripts", "elts", "sexes"):
            if not getattr(self, name):
                raise SystemExit(f"bench/generate.py: the knowledge base has no {name}")


def _iso(d: date) -> str:
    return d.isoformat()


def _after(d: date, months: float) -> date:
    return d + timedelta(days=round(months * _MONTH))


def _pct(value: float) -> float:
    """A percentage with 4 significant digits (no exponent notation in the JSON)."""
    return float(f"{value:.4g}")


def _therapy(
    rng: random.Random, drug: str, start: date, end: date | None = None, stop: str | None = None
) -> dict[str, Any]:
    t: dict[str, Any] = {"drug": drug}
    doses = _DOSES.get(drug)
    if doses and rng.random() < 0.85:
        dose, freq = rng.choice(doses)
        t["dose_mg"] = dose
        if freq != "QD" or rng.random() < 0.3:
            t["frequency"] = freq
    t["start"] = _iso(start)
    if end is not None:
        t["end"] = _iso(end)
        t["stop_reason"] = stop or "other"
    return t


def _series(start: date, points: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """BCR::ABL1 results at (months after start, IS %)."""
    return [{"date": _iso(_after(start, m)), "is_percent": _pct(v)} for m, v in points]


class _Builder:
    """Builds one case; `situation` decides the story, the overlays add variety."""

    def __init__(self, rng: random.Random, vocab: Vocab, case_id: str) -> None:
        self.rng = rng
        self.v = vocab
        self.id = case_id
        self.diagnosed = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 5000))
        self.case: dict[str, Any] = {"id": case_id}
        self.therapies: list[dict[str, Any]] = []
        self.bcr: list[dict[str, Any]] = []
        self.analyses: list[dict[str, Any]] = []
        self.phase = "chronic"

    # -- situations ---------------------------------------------------------------
    def start(self, after_days: tuple[int, int] = (3, 25)) -> date:
        return self.diagnosed + timedelta(days=self.rng.randint(*after_days))

    def baseline(self) -> None:
        self.bcr.append(
            {"date": _iso(self.diagnosed), "is_percent": _pct(self.rng.uniform(20, 120))}
        )

    def optimal(self) -> None:
        r = self.rng
        s = self.start()
        self.therapies.append(_therapy(r, r.choice(self.v.first_line), s))
        self.baseline()
        months = r.choice([3, 6, 12, 18, 24, 36, 48])
        points = [
            (3, r.uniform(0.5, 9)),
            (6, r.uniform(0.05, 0.9)),
            (12, r.uniform(0.005, 0.09)),
            (18, r.uniform(0.002, 0.009)),
            (24, r.uniform(0.001, 0.005)),
            (36, r.uniform(0.001, 0.004)),
            (48, r.uniform(0.001, 0.003)),
        ]
        self.bcr += _series(s, [p for p in points if p[0] <= months])
        if months >= 24 and r.random() < 0.4:
            self.bcr.append(
                {
                    "date": _iso(_after(s, months + 3)),
                    "undetectable": True,
                    "control_copies": r.choice([32000, 52000, 110000]),
                }
            )

    def warning(self) -> None:
        r = self.rng
        s = self.start()
        self.therapies.append(_therapy(r, r.choice(self.v.first_line), s))
        self.baseline()
        if r.random() < 0.5:
            self.bcr += _series(s, [(3, r.uniform(11, 40))])
        else:
            self.bcr += _series(s, [(3, r.uniform(4, 9.5)), (6, r.uniform(1.5, 9.5))])

    def failure_mutation(self) -> None:
        r = self.rng
        s = self.start()
        drug = r.choice(self.v.first_line)
        self.therapies.append(_therapy(r, drug, s))
        self.baseline()
        at = r.choice([6, 12])
        points = [(3, r.uniform(12, 60))]
        points += (
            [(6, r.uniform(12, 50))] if at == 6 else [(6, r.uniform(2, 9)), (12, r.uniform(1.5, 9))]
        )
        self.bcr += _series(s, points)
        when = _iso(_after(s, at))
        variants = r.sample(self.v.mutations, k=r.choice([1, 1, 2]))
        self.analyses.append(
            {
                "date": when,
                "method": r.choice(["NGS", "NGS", "Sanger"]),
                "variants": [
                    {"protein": p, "vaf_percent": _pct(r.uniform(5, 60))} for p in variants
                ],
                "compound": [],
            }
        )

    def compound(self) -> None:
        r = self.rng
        s1 = self.start()
        first, second = r.choice(self.v.first_line), r.choice(self.v.later_line)
        e1 = _after(s1, r.uniform(8, 20))
        s2 = e1 + timedelta(days=r.randint(3, 14))
        e2 = _after(s2, r.uniform(8, 24))
        s3 = e2 + timedelta(days=r.randint(3, 14))
        third = r.choice([d for d in self.v.later_line if d != second] or self.v.drugs)
        self.therapies += [
            _therapy(r, first, s1, e1, "resistance"),
            _therapy(r, second, s2, e2, "resistance"),
            _therapy(r, third, s3),
        ]
        self.bcr += _series(s2, [(-0.5, r.uniform(8, 30))])
        self.bcr += _series(
            s3, [(3, r.uniform(2, 9)), (6, r.uniform(1, 8)), (12, r.uniform(3, 15))]
        )
        a, b = r.sample(self.v.mutations, k=2)
        self.analyses.append(
            {
                "date": _iso(s2 - timedelta(days=1)),
                "method": "NGS",
                "variants": [{"protein": a, "vaf_percent": _pct(r.uniform(10, 40))}],
                "compound": [],
            }
        )
        self.analyses.append(
            {
                "date": self.bcr[-1]["date"],
                "method": "NGS",
                "variants": [
                    {"protein": a, "vaf_percent": _pct(r.uniform(30, 60))},
                    {"protein": b, "vaf_percent": _pct(r.uniform(20, 50))},
                ],
                "compound": [[a, b]],
            }
        )

    def tfr_relapse(self) -> None:
        r = self.rng
        s = self.start()
        stop = _after(s, r.uniform(60, 100))
        self.therapies.append(_therapy(r, r.choice(self.v.first_line), s, stop, "tfr"))
        before = stop - timedelta(days=r.randint(100, 200))
        self.bcr.append(
            {
                "date": _iso(before),
                "undetectable": True,
                "control_copies": r.choice([40000, 52000, 100000]),
            }
        )
        self.bcr.append(
            {
                "date": _iso(stop - timedelta(days=r.randint(5, 20))),
                "is_percent": _pct(r.uniform(0.001, 0.003)),
            }
        )
        peak = r.choice([0.005, 0.05, 0.2, 1.5])
        values = [0.002, 0.008, peak / 4, peak]
        self.bcr += _series(
            stop, [(m, v * r.uniform(0.9, 1.1)) for m, v in zip((1, 2, 3, 4), values, strict=True)]
        )
        if "treatment-free-remission" in self.v.goals:
            self.case.setdefault("patient", {})["goals"] = ["treatment-free-remission"]

    def intolerance_switch(self) -> None:
        r = self.rng
        s1 = self.start()
        first = r.choice(self.v.first_line)
        e1 = _after(s1, r.uniform(2, 8))
        s2 = e1 + timedelta(days=r.randint(7, 30))
        second = r.choice([d for d in self.v.later_line if d != first] or self.v.drugs)
        self.therapies += [_therapy(r, first, s1, e1, "intolerance"), _therapy(r, second, s2)]
        self.baseline()
        self.bcr += _series(s2, [(3, r.uniform(0.5, 15)), (6, r.uniform(0.05, 5))])

    def advanced_phase(self) -> None:
        r = self.rng
        self.phase = r.choice(["accelerated", "accelerated", "blast"])
        s = self.start((1, 10))
        self.therapies.append(_therapy(r, r.choice(self.v.later_line), s))
        self.baseline()
        self.bcr += _series(s, [(3, r.uniform(1, 40))])
        blasts = r.uniform(10, 29) if self.phase == "accelerated" else r.uniform(30, 60)
        self.case["hematology"] = [
            {
                "date": _iso(self.diagnosed),
                "blasts_percent": _pct(blasts),
                "basophils_percent": _pct(r.uniform(2, 25)),
                "platelets_10e9_per_l": r.randint(60, 900),
                "wbc_10e9_per_l": r.randint(20, 250),
            }
        ]
        abn = r.sample(self.v.abnormalities, k=min(len(self.v.abnormalities), r.randint(0, 2)))
        self.case["cytogenetics"] = [
            {
                "date": _iso(self.diagnosed),
                "metaphases": 20,
                "ph_positive_percent": 100,
                "abnormalities": abn,
            }
        ]
        if r.random() < 0.5:
            self.case["phase_assessments"] = [{"date": _iso(self.diagnosed), "phase": self.phase}]

    def insufficient_data(self) -> None:
        r = self.rng
        s = self.start()
        self.therapies.append(_therapy(r, r.choice(self.v.first_line), s))
        if r.random() < 0.5:
            self.baseline()
        self.case["assessed_on"] = _iso(_after(s, r.choice([3, 6, 12])))

    # -- overlays -----------------------------------------------------------------
    def overlays(self) -> None:
        r = self.rng
        patient = self.case.setdefault("patient", {})
        patient["age_years"] = r.randint(18, 88)
        patient["sex"] = r.choice(self.v.sexes)
        k = r.choice([0, 0, 0, 1, 1, 2, 3])
        patient["comorbidities"] = sorted(
            r.sample(self.v.comorbidities, k=min(k, len(self.v.comorbidities)))
        )
        patient.setdefault("goals", [])
        k = r.choice([0, 0, 0, 0, 1, 1, 2])
        self.case["comedications"] = sorted(
            r.sample(self.v.comedications, k=min(k, len(self.v.comedications)))
        )
        current = next((t for t in self.therapies if "end" not in t), None)
        if current is not None and r.random() < 0.15:
            start = date.fromisoformat(current["start"])
            pause = start + timedelta(days=r.randint(20, 60))
            current["interruptions"] = [
                {
                    "start": _iso(pause),
                    "end": _iso(pause + timedelta(days=r.randint(3, 21))),
                    "reason": r.choice(["toxicity", "non-adherence", "other"]),
                }
            ]
        if current is not None and "dose_mg" in current and r.random() < 0.15:
            start = date.fromisoformat(current["start"])
            current["dose_changes"] = [
                {
                    "date": _iso(start + timedelta(days=r.randint(30, 80))),
                    "dose_mg": max(1, int(current["dose_mg"]) // 2),
                    "reason": "toxicity",
                }
            ]

    def build(self, situation: str) -> dict[str, Any]:
        getattr(self, situation.replace("-", "_"))()
        r = self.rng
        self.overlays()
        diagnosis: dict[str, Any] = {
            "date": _iso(self.diagnosed),
            "phase": self.phase,
            "transcript": r.choice(self.v.transcripts),
            "elts_risk": r.choice(self.v.elts),
        }
        if self.phase == "chronic" and self.v.abnormalities and r.random() < 0.05:
            diagnosis["additional_chromosomal_abnormalities"] = [r.choice(self.v.abnormalities)]
        self.case["diagnosis"] = diagnosis
        self.case["therapies"] = self.therapies
        if self.bcr:
            self.case["bcr_abl1"] = sorted(self.bcr, key=lambda b: b["date"])
        if self.analyses:
            self.case["mutation_analyses"] = self.analyses
        latest = max(_dates(self.case))
        assessed = max(latest, self.case.get("assessed_on", latest))
        self.case["assessed_on"] = assessed
        if r.random() < 0.9:
            self.case["adherence"] = {
                "assessed_on": assessed,
                "status": r.choice(["adherent", "adherent", "adherent", "non-adherent", "unknown"]),
            }
        return self.case


def _dates(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [d for k, v in value.items() if k != "id" for d in _dates(v)]
    if isinstance(value, list):
        return [d for v in value for d in _dates(v)]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return [value]
    return []


def situation_of(case: dict[str, Any]) -> str:
    """The situation a generated case was drawn from (its id ends with it)."""
    return str(case["id"]).split("~", 1)[1]


def generate_cases(kb: KnowledgeBase, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` valid cases, the same for the same seed and knowledge base."""
    vocab = Vocab(kb)
    names = [s for s, _ in SITUATIONS]
    weights = [w for _, w in SITUATIONS]
    out = []
    for i in range(n):
        rng = random.Random(f"cmlkb-bench:{seed}:{i}")  # case i does not depend on n
        situation = rng.choices(names, weights)[0]
        out.append(_Builder(rng, vocab, f"gen-{seed}-{i:05d}~{situation}").build(situation))
    return out


# The kinds of invalid record `--invalid-every` writes, in turn.
INVALID_KINDS = ("not-json", "unknown-drug", "no-therapy", "impossible-date", "unknown-key")


def invalid_record(case: dict[str, Any], number: int) -> str:
    """The JSON line of an invalid variant of `case`, of kind INVALID_KINDS[number % 5]."""
    kind = INVALID_KINDS[number % len(INVALID_KINDS)]
    if kind == "not-json":
        return json.dumps(case)[:-12]  # cut short: not JSON
    bad = copy.deepcopy(case)
    if kind == "unknown-drug":
        bad["therapies"][0]["drug"] = "imatinibb"
    elif kind == "no-therapy":
        bad["therapies"] = []
    elif kind == "impossible-date":
        bad["diagnosis"]["date"] = "2023-13-45"
    else:
        bad["notes"] = "an unknown key"
    return json.dumps(bad)


def cohort_lines(kb: KnowledgeBase, n: int, seed: int = 0, invalid_every: int = 0) -> list[str]:
    """`n` JSON lines: the generated cases, every `invalid_every`-th (1-based) replaced by an
    invalid record (none when 0)."""
    lines = []
    for i, case in enumerate(generate_cases(kb, n, seed)):
        if invalid_every and (i + 1) % invalid_every == 0:
            lines.append(invalid_record(case, (i + 1) // invalid_every - 1))
        else:
            lines.append(json.dumps(case))
    return lines


def as_inputs(cases: list[dict[str, Any]]) -> list[CaseInput]:
    """The cases as `cmlkb validate` reads them: JSON text parsed with decimals."""
    out = []
    for case in cases:
        raw = parse_json(json.dumps(case))
        out.append(CaseInput(f"{case['id']}.json", raw, raw["id"], None))
    return out


def main(argv: list[str] | None = None) -> int:
    from cmlkb.knowledge.base import load_knowledge

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--invalid-every",
        type=int,
        default=0,
        metavar="K",
        help="make every K-th record invalid (to show rejects); 0: none",
    )
    args = parser.parse_args(argv)
    if args.invalid_every < 0:
        parser.error("--invalid-every needs K >= 0")
    for line in cohort_lines(load_knowledge(), args.n, args.seed, args.invalid_every):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
