"""Baselines for the benchmark: one decision slice of cmlkb computed three ways on the same
cases, checked to agree with cmlkb before any of them is timed.

The slice (for the selected ELN edition, ELN 2020 by default):

- `eln_milestone`: the category the latest BCR::ABL1 result takes from the milestone bands
  (the entries of the contract's `response.eln_basis` with basis `milestone`; the worst
  when there are several), or None: no result, the latest result not on the current
  therapy, off therapy, no band for its time on therapy, or the International Scale not
  applicable to the transcript. A 3-month result in a band that needs confirmation takes
  the band's unconfirmed category, or its category when the latest result confirms an
  earlier one (the rules milestone-category, -unconfirmed, -confirmed and
  current-milestone-finding of rules/response.yaml). `response.eln` itself also counts
  events (loss of MMR, resistance mutations, ACAs, high ELTS): those are not in the slice.
- `excluded_by_mutation`: the drugs excluded because of a kinase-domain mutation (the
  contract's `drugs[].reasons` of kind `mutation` and effect `excluded`): every detected
  variant and every member of a compound mutation, through the mutation x drug and
  compound-mutation x drug statements (rules drug-reason-mutation and
  drug-reason-compound-mutation of rules/drugs.yaml).

Every threshold, milestone band, transcript and mutation x drug row is read from the
knowledge-fact records the reasoner itself uses (`cmlkb.reasoning.knowledge_facts`, from
queries/app/band.rq, measure-transcript.rq, sensitivity.rq and compound-rule.rq, with the
scales of rules/facts.yaml); none is written here. What stays in code is the slice's own
logic, which the rules above state: join a result to a band, confirm a band, the worst
category, an unrecorded transcript taken as typical (rule is-applies-transcript-unknown).

The three ways:

(a) `python_slice`: plain functions over the normalised case dict and those tables, the
    "hand-coded-Python limit" (what the slice costs with no engine at all);
(b) `OwlBaseline`: owlready2 and the HermiT reasoner (Java 17; Pellet does not run on it,
    engine notes C3/C6). A case, its results, its detected variants (typed by a class per
    mutation code) and the pairs (earlier result, latest result) are individuals; results
    carry data values (months on therapy and IS % on the facts.yaml scales, latest, on
    the current therapy), a pair the months between its two results. Each milestone band
    is a defined class (data-range restrictions on months and value) under its category
    class, a confirmed band a defined class of pairs, and the exclusion of each drug a
    defined class of cases (`has_variant some (Variant-T315I or ...)`). HermiT realises
    the individuals; Python reads back the inferred types and takes the worst category.
    Python computes the data values, as cmlkb's case facts do (which result is the
    latest, on which therapy, months and scaled values); OWL cannot compare the values of
    two individuals (HermiT has no SWRL built-ins), hence the pairs and their month gap.
    Every reasoner call starts a JVM: timed with one call per case and with all of N
    cases in one call. Modelling notes (measured on 100 cases): variants as string values
    in a data enumeration made HermiT about 3x slower than typed individuals, and general
    class axioms instead of defined classes were slower still. HermiT's time for one call
    grows faster than N (about 4 s at 100 cases, 14-18 s at 200, 98 s at 400 on the
    development machine), so the batched figure is best around N = 100.
(c) cmlkb itself: `cmlkb.pipeline.evaluate_case`, which computes the whole result (every
    drug reason, resistance, testing, options, actions, the derivation records), far more
    than the slice; `measure` reports its derivations per case.

`agreement(kb, cases)` lists every case where (a) or (b) differs from cmlkb;
`measure(kb, cases)` returns ms/case of each (after checking agreement).
Usage: python bench/baselines.py [N] [--seed S] [--owl-per-case 10] [--owl-batch 100 200].
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
import types
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from cmlkb.case.facts import DAYS_PER_MONTH, fact_schema_at
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import BASE
from cmlkb.pipeline import evaluate_case, selection_for
from cmlkb.reasoning.knowledge_facts import knowledge_facts

HERE = Path(__file__).resolve().parent
OWL_IRI = f"{BASE}bench/owl-baseline#"
# The contract's words the slice is defined by (contract reasons[].kind and effect), and
# the transcript code cmlkb's case facts give an unrecorded transcript.
MUTATION_REASON = "mutation"
EXCLUDED = "excluded"
TRANSCRIPT_NOT_RECORDED = "unknown"


@dataclass(frozen=True)
class Slice:
    """The decision slice of one case."""

    eln_milestone: str | None
    excluded_by_mutation: tuple[str, ...]


# -------------------------------------------------------------------------------------
# The tables, from the knowledge facts
# -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """One milestone band of the selected ELN edition, bounds inclusive and scaled
    (months x scales.months, IS % x scales.is)."""

    name: str
    window_lo: int
    window_hi: int
    lo: int
    hi: int
    category: str
    rank: int
    confirm: bool
    unconfirmed: str
    unconfirmed_rank: int
    confirm_lo: int
    confirm_hi: int


class BaselineUnsupported(Exception):
    """The knowledge asks for something the baselines do not implement."""


@dataclass(frozen=True)
class Tables:
    """What the slice reads from the knowledge, once per knowledge base and selection."""

    guideline: str
    bands: tuple[Band, ...]
    is_transcripts: frozenset[str]
    excluded_by_variant: dict[str, frozenset[str]]
    excluded_by_compound_member: dict[str, frozenset[str]]
    is_scale: int
    months_scale: int
    unbounded: int
    ranks: dict[str, int]  # category code -> severity rank (the worst is the highest)
    confirm_bands: tuple[Band, ...]  # the bands that need a confirmation


def tables(kb: KnowledgeBase, selection: dict[str, str] | None = None) -> Tables:
    """The slice's tables from the knowledge facts of `kb` for `selection` (default: the
    knowledge base's default editions)."""
    selection = selection or selection_for(kb)
    guideline = selection["guideline"]
    facts = [k.fact for k in knowledge_facts(kb)]
    bands: list[Band] = []
    for f in facts:
        if f["kind"] != "band" or f["guideline"] != guideline or f["family"] != "eln":
            continue
        if f["scope"] != "any":
            # Other scopes (ELN 2013's first/second line) need the line-of-therapy rules
            # (milestone-scope-*); the baselines implement the ELN 2020 scope only.
            raise BaselineUnsupported(
                f"{guideline}: band scope {f['scope']!r} (only 'any' is implemented)"
            )
        name = f"{f['timepoint']}-{f['category']}-{len(bands)}"
        bands.append(
            Band(
                name,
                f["window_lo"],
                f["window_hi"],
                f["lo"],
                f["hi"],
                f["category"],
                f["rank"],
                f["confirm"],
                f["unconfirmed"],
                f["unconfirmed_rank"],
                f["confirm_lo"],
                f["confirm_hi"],
            )
        )
    if not bands:
        raise BaselineUnsupported(f"no ELN milestone band for {guideline}")
    by_variant: dict[str, set[str]] = {}
    by_member: dict[str, set[str]] = {}
    for f in facts:
        if f["kind"] == "sensitivity" and f["effect"] == EXCLUDED:
            by_variant.setdefault(f["variant"], set()).add(f["drug"])
        elif f["kind"] == "compound-rule" and f["effect"] == EXCLUDED:
            by_member.setdefault(f["variant"], set()).add(f["drug"])
    ranks = {b.category: b.rank for b in bands}
    ranks.update({b.unconfirmed: b.unconfirmed_rank for b in bands if b.confirm})
    schema = fact_schema_at(kb.root)
    return Tables(
        guideline=guideline,
        bands=tuple(bands),
        is_transcripts=frozenset(
            f["transcript"]
            for f in facts
            if f["kind"] == "measure-transcript" and f["measure"] == "is_percent"
        ),
        excluded_by_variant={k: frozenset(v) for k, v in by_variant.items()},
        excluded_by_compound_member={k: frozenset(v) for k, v in by_member.items()},
        is_scale=schema.scales["is"],
        months_scale=schema.scales["months"],
        unbounded=schema.unbounded,
        ranks=ranks,
        confirm_bands=tuple(b for b in bands if b.confirm),
    )


# -------------------------------------------------------------------------------------
# Data shaping, shared by (a) and (b): the same conversions as cmlkb's case facts
# -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One BCR::ABL1 result: months on the current therapy (scaled, -1 off therapy), the
    IS value (scaled, 0 when undetectable), taken on the current therapy or not."""

    months: int
    value: int
    on_current: bool


@dataclass(frozen=True)
class Shaped:
    """A case as the slice needs it."""

    transcript: str
    results: tuple[Result, ...]
    latest: int  # index of the latest result, -1 without results
    variants: tuple[str, ...]
    compound_members: tuple[str, ...]


_MONTH_NUM, _MONTH_DEN = DAYS_PER_MONTH.as_integer_ratio()  # a month is 487/16 days


def _day(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


def shape(case: dict[str, Any], t: Tables) -> Shaped:
    """The case's results, transcript and variants on the scales of rules/facts.yaml,
    rounded up as cmlkb's case facts round them (so a value on a threshold stays on it)."""
    therapies = case["therapies"]
    assessed = _day(case["assessed_on"])
    starts = [_day(x["start"]) for x in therapies]
    ends = [_day(x["end"]) if "end" in x else assessed for x in therapies]
    current = next((i for i, x in enumerate(therapies) if "end" not in x), -1)
    order = sorted(range(len(therapies)), key=starts.__getitem__)
    results = []
    latest, latest_day = -1, 0
    for j, r in enumerate(case.get("bcr_abl1", [])):
        d = _day(r["date"])
        if latest < 0 or d >= latest_day:
            latest, latest_day = j, d
        on = -1  # the therapy in effect that day: the last started that covers it
        for i in order:
            if starts[i] <= d <= ends[i]:
                on = i
        if current >= 0:
            # months x scale, rounded up: ceil(days * den * scale / num)
            months = -((-(d - starts[current]) * _MONTH_DEN * t.months_scale) // _MONTH_NUM)
        else:
            months = -1
        if r.get("undetectable", False):
            value = 0
        else:
            percent = Decimal(str(r["is_percent"]))
            if percent >= Decimal(t.unbounded) / t.is_scale:
                value = t.unbounded
            else:
                value = int((percent * t.is_scale).to_integral_value(rounding=ROUND_CEILING))
        results.append(Result(months, value, current >= 0 and on == current))
    analyses = case.get("mutation_analyses", [])
    return Shaped(
        transcript=case["diagnosis"].get("transcript", TRANSCRIPT_NOT_RECORDED),
        results=tuple(results),
        latest=latest,
        variants=tuple(v["protein"] for a in analyses for v in a.get("variants", [])),
        compound_members=tuple(p for a in analyses for c in a.get("compound", []) for p in c),
    )


# -------------------------------------------------------------------------------------
# (a) hand-coded Python
# -------------------------------------------------------------------------------------


def _in_band(r: Result, b: Band) -> bool:
    return b.window_lo <= r.months <= b.window_hi and b.lo <= r.value <= b.hi


def decide(s: Shaped, t: Tables) -> Slice:
    """The slice of a shaped case, by plain Python over the tables."""
    category = None
    applies = s.transcript in t.is_transcripts or s.transcript == TRANSCRIPT_NOT_RECORDED
    if s.latest >= 0 and applies and s.results[s.latest].on_current:
        r = s.results[s.latest]
        found: list[tuple[int, str]] = []
        for b in t.bands:
            if _in_band(r, b):
                found.append(
                    (b.unconfirmed_rank, b.unconfirmed) if b.confirm else (b.rank, b.category)
                )
        for b in t.confirm_bands:
            if not b.lo <= r.value <= b.hi:
                continue
            for w in s.results:
                if (
                    w.on_current
                    and _in_band(w, b)
                    and w.months + b.confirm_lo <= r.months <= w.months + b.confirm_hi
                ):
                    found.append((b.rank, b.category))
                    break
        if found:
            category = max(found)[1]
    excluded: set[str] = set()
    for v in s.variants:
        excluded |= t.excluded_by_variant.get(v, frozenset())
    for m in s.compound_members:
        excluded |= t.excluded_by_compound_member.get(m, frozenset())
    return Slice(category, tuple(sorted(excluded)))


def python_slice(case: dict[str, Any], t: Tables) -> Slice:
    """(a) The slice of a normalised case dict, hand-coded."""
    return decide(shape(case, t), t)


# -------------------------------------------------------------------------------------
# (c) cmlkb
# -------------------------------------------------------------------------------------


def cmlkb_slice(result: dict[str, Any]) -> Slice:
    """The slice as cmlkb's contract result states it."""
    milestone = [b for b in result["response"]["eln_basis"] if b["basis"] == "milestone"]
    # eln_basis is sorted worst first
    excluded = sorted(
        d["drug"]
        for d in result["drugs"]
        if any(r["kind"] == MUTATION_REASON and r["effect"] == EXCLUDED for r in d["reasons"])
    )
    return Slice(milestone[0]["category"] if milestone else None, tuple(excluded))


# -------------------------------------------------------------------------------------
# (b) owlready2 + HermiT
# -------------------------------------------------------------------------------------


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise BaselineUnsupported("no `java` on PATH: HermiT cannot run")
    return java


class OwlBaseline:
    """(b) The slice by OWL classes and HermiT. `slices(shaped)` builds a fresh owlready2
    World holding the classes and the given cases, runs one reasoner call (one JVM) and
    reads the inferred types back."""

    def __init__(self, t: Tables) -> None:
        self.t = t
        self.last_timing: dict[str, float] = {}

    def _classes(self, onto: Any) -> dict[str, Any]:
        """The classes and properties of the slice, in `onto`: what to read back after
        reasoning is `categories` (code -> class) and `exclusions` (drug -> class)."""
        import owlready2 as owl

        t = self.t

        def entity(name: str, *bases: Any, **attributes: Any) -> Any:
            made: Any = types.new_class(name, bases)
            for key, value in attributes.items():
                setattr(made, key, value)
            return made

        def between(lo: int, hi: int) -> Any:
            return owl.ConstrainedDatatype(int, min_inclusive=lo, max_inclusive=hi)

        functional_object = (owl.ObjectProperty, owl.FunctionalProperty)
        functional_data = (owl.DataProperty, owl.FunctionalProperty)
        with onto:
            case = entity("Case", owl.Thing)
            result = entity("BcrResult", owl.Thing)
            pair = entity("ResultPair", owl.Thing)  # an earlier result and the latest one
            variant = entity("DetectedVariant", owl.Thing)  # typed by its code
            of_case = entity("of_case", *functional_object, domain=[result], range=[case])
            earlier = entity("earlier", *functional_object, domain=[pair], range=[result])
            later = entity("later", *functional_object, domain=[pair], range=[result])
            has_variant = entity("has_variant", owl.ObjectProperty, domain=[case])
            has_member = entity("has_compound_member", owl.ObjectProperty, domain=[case])
            transcript = entity("transcript", *functional_data, range=[str])
            months = entity("months", *functional_data, range=[int])
            value = entity("value", *functional_data, range=[int])
            gap = entity("gap", *functional_data, range=[int])  # months from earlier to later
            latest = entity("latest", *functional_data, range=[bool])
            on_current = entity("on_current", *functional_data, range=[bool])

            is_applicable = entity("ISApplicableCase", owl.Thing)
            is_applicable.equivalent_to = [
                case
                & transcript.some(owl.OneOf(sorted(t.is_transcripts | {TRANSCRIPT_NOT_RECORDED})))
            ]
            milestone_result = entity("MilestoneResult", owl.Thing)
            milestone_result.equivalent_to = [
                result & latest.value(True) & on_current.value(True) & of_case.some(is_applicable)
            ]
            categories = {code: entity(f"MilestoneCategory-{code}", owl.Thing) for code in t.ranks}
            for b in t.bands:
                band = entity(f"Band-{b.name}", owl.Thing)
                band.equivalent_to = [
                    milestone_result
                    & months.some(between(b.window_lo, b.window_hi))
                    & value.some(between(b.lo, b.hi))
                ]
                band.is_a.append(categories[b.unconfirmed if b.confirm else b.category])
                if b.confirm:
                    confirmed = entity(f"Confirmed-{b.name}", owl.Thing)
                    confirmed.equivalent_to = [
                        pair
                        & later.some(milestone_result & value.some(between(b.lo, b.hi)))
                        & earlier.some(
                            result
                            & on_current.value(True)
                            & months.some(between(b.window_lo, b.window_hi))
                            & value.some(between(b.lo, b.hi))
                        )
                        & gap.some(between(b.confirm_lo, b.confirm_hi))
                    ]
                    confirmed.is_a.append(categories[b.category])

            codes: dict[str, Any] = {}

            def variant_class(protein: str) -> Any:
                if protein not in codes:
                    codes[protein] = entity(f"Variant-{protein}", variant)
                return codes[protein]

            def any_of(proteins: list[str]) -> Any:
                classes = [variant_class(p) for p in proteins]
                return classes[0] if len(classes) == 1 else owl.Or(classes)

            exclusions = {}
            by_variant, by_member = t.excluded_by_variant, t.excluded_by_compound_member
            for d in sorted({d for ds in [*by_variant.values(), *by_member.values()] for d in ds}):
                parts = []
                variants = sorted(v for v, ds in by_variant.items() if d in ds)
                members = sorted(v for v, ds in by_member.items() if d in ds)
                if variants:
                    parts.append(has_variant.some(any_of(variants)))
                if members:
                    parts.append(has_member.some(any_of(members)))
                excluded = entity(f"ExcludedByMutation-{d}", owl.Thing)
                excluded.equivalent_to = [case & (parts[0] if len(parts) == 1 else owl.Or(parts))]
                exclusions[d] = excluded
        return {
            "case": case,
            "result": result,
            "pair": pair,
            "variant_class": variant_class,
            "categories": categories,
            "exclusions": exclusions,
        }

    def slices(self, shaped: list[Shaped]) -> list[Slice]:
        """The slices of `shaped` cases from one reasoner call."""
        import owlready2 as owl

        owl.JAVA_EXE = _java()
        t0 = time.perf_counter()
        world = owl.World()
        try:
            onto = world.get_ontology(OWL_IRI)
            k = self._classes(onto)
            ns = onto.get_namespace(OWL_IRI)
            # per case: the case individual and the individuals its category is read from
            # (the latest result and the pairs ending in it)
            read_back: list[tuple[Any, list[Any]]] = []
            with onto:
                for i, s in enumerate(shaped):
                    case = k["case"](f"case-{i}", namespace=ns)
                    case.transcript = s.transcript
                    for n, protein in enumerate(s.variants):
                        found = k["variant_class"](protein)(f"variant-{i}-{n}", namespace=ns)
                        case.has_variant.append(found)
                    for n, protein in enumerate(s.compound_members):
                        member = k["variant_class"](protein)(f"member-{i}-{n}", namespace=ns)
                        case.has_compound_member.append(member)
                    results = []
                    for j, r in enumerate(s.results):
                        x = k["result"](f"result-{i}-{j}", namespace=ns)
                        x.of_case = case
                        x.months = r.months
                        x.value = r.value
                        x.latest = j == s.latest
                        x.on_current = r.on_current
                        results.append(x)
                    category_of = []
                    if s.latest >= 0:
                        category_of.append(results[s.latest])
                        for j, r in enumerate(s.results):
                            if j == s.latest:
                                continue
                            p = k["pair"](f"pair-{i}-{j}", namespace=ns)
                            p.earlier = results[j]
                            p.later = results[s.latest]
                            p.gap = s.results[s.latest].months - r.months
                            category_of.append(p)
                    read_back.append((case, category_of))
            t1 = time.perf_counter()
            owl.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            t2 = time.perf_counter()
            code_of = {cls: code for code, cls in k["categories"].items()}
            drug_of = {cls: d for d, cls in k["exclusions"].items()}
            out = []
            for case, category_of in read_back:
                codes = {code_of[c] for x in category_of for c in _types(x) if c in code_of}
                worst = max(codes, key=lambda c: (self.t.ranks[c], c)) if codes else None
                excluded = sorted(drug_of[c] for c in _types(case) if c in drug_of)
                out.append(Slice(worst, tuple(excluded)))
            t3 = time.perf_counter()
            self.last_timing = {"build_s": t1 - t0, "reasoner_s": t2 - t1, "read_s": t3 - t2}
            return out
        finally:
            world.close()


def _types(individual: Any) -> set[Any]:
    """Every class of an individual: its (inferred) types and their superclasses."""
    import owlready2 as owl

    out: set[Any] = set()
    for cls in individual.is_a:
        if isinstance(cls, owl.ThingClass):
            out |= set(cls.ancestors())
    return out


# -------------------------------------------------------------------------------------
# Agreement and measurement
# -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A case where a baseline's slice differs from cmlkb's."""

    case: str
    baseline: str  # "python" or "owl"
    baseline_slice: Slice
    cmlkb_slice: Slice


class BaselineDisagrees(Exception):
    """A baseline gave another slice than cmlkb: it is not a baseline of the same work."""

    def __init__(self, disagreements: list[Disagreement]) -> None:
        self.disagreements = disagreements
        lines = [
            f"{d.case}: {d.baseline} {d.baseline_slice} != cmlkb {d.cmlkb_slice}"
            for d in disagreements[:10]
        ]
        super().__init__(f"{len(disagreements)} disagreement(s) with cmlkb:\n" + "\n".join(lines))


def _compare(
    baseline: str, cases: list[dict[str, Any]], got: list[Slice], expected: list[Slice]
) -> list[Disagreement]:
    return [
        Disagreement(c["id"], baseline, g, w)
        for c, g, w in zip(cases, got, expected, strict=False)
        if g != w
    ]


def agreement(
    kb: KnowledgeBase,
    cases: list[dict[str, Any]],
    selection: dict[str, str] | None = None,
    owl_cases: int | None = None,
) -> tuple[list[Disagreement], dict[str, Any]]:
    """Every case where the hand-coded baseline (all cases) or the OWL baseline (the first
    `owl_cases` in one reasoner call; all when None, none when 0) differs from cmlkb, and a
    summary: the cases each baseline was checked on and the spread of cmlkb's values (an
    agreement on nothing but None would prove little)."""
    selection = selection or selection_for(kb)
    t = tables(kb, selection)
    expected = [cmlkb_slice(evaluate_case(c, kb, selection).result) for c in cases]
    out = _compare("python", cases, [python_slice(c, t) for c in cases], expected)
    n_owl = len(cases) if owl_cases is None else min(owl_cases, len(cases))
    if n_owl:
        got = OwlBaseline(t).slices([shape(c, t) for c in cases[:n_owl]])
        out += _compare("owl", cases[:n_owl], got, expected)
    return out, _summary(expected, len(cases), n_owl)


def _summary(expected: list[Slice], n_python: int, n_owl: int) -> dict[str, Any]:
    spread: dict[str, int] = {}
    for s in expected:
        spread[str(s.eln_milestone)] = spread.get(str(s.eln_milestone), 0) + 1
    return {
        "python_cases": n_python,
        "owl_cases": n_owl,
        "eln_milestone": dict(sorted(spread.items())),
        "cases_with_exclusions": sum(1 for s in expected if s.excluded_by_mutation),
    }


def measure(
    kb: KnowledgeBase,
    cases: list[dict[str, Any]],
    selection: dict[str, str] | None = None,
    owl_per_case: int = 10,
    owl_batches: tuple[int, ...] = (100, 200),
    repeat: int = 3,
    baseline_tables: Tables | None = None,
) -> dict[str, Any]:
    """ms/case of the slice three ways on the same normalised, validated cases; raises
    BaselineDisagrees when a baseline's answer differs from cmlkb's on any case it ran.

    - cmlkb: `evaluate_case` on every case (its first evaluation, rule compilation
      included, is timed apart as `cmlkb_first_s`);
    - hand-coded Python: every case, the median of `repeat` passes;
    - OWL: one reasoner call per case on the first `owl_per_case` cases, and one call on
      the first N cases for each N of `owl_batches` (HermiT's cost per case grows with N,
      so several N are reported). One untimed call first (imports, JVM files cached).
    Building the tables from the knowledge facts is timed apart (`tables_s`);
    `baseline_tables` gives the baselines other tables (the check must then refuse them)."""
    import owlready2  # noqa: F401  (imported before any timing)

    selection = selection or selection_for(kb)
    n = len(cases)
    t0 = time.perf_counter()
    t = baseline_tables or tables(kb, selection)
    tables_s = time.perf_counter() - t0

    # (c) cmlkb, the whole evaluation
    t0 = time.perf_counter()
    evaluate_case(cases[0], kb, selection)
    cmlkb_first_s = time.perf_counter() - t0
    expected, derivations, records = [], 0, 0
    t0 = time.perf_counter()
    for c in cases:
        evaluation = evaluate_case(c, kb, selection)
        expected.append(cmlkb_slice(evaluation.result))
        records += len(evaluation.inference.records)
        derivations += sum(len(r.derivations) for r in evaluation.inference.derived())
        del evaluation
    cmlkb_ms = (time.perf_counter() - t0) / n * 1000

    # (a) hand-coded Python
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        got = [python_slice(c, t) for c in cases]
        runs.append((time.perf_counter() - t0) / n * 1000)
    wrong = _compare("python", cases, got, expected)
    if wrong:
        raise BaselineDisagrees(wrong)

    # (b) owlready2 + HermiT
    owl = OwlBaseline(t)
    if owl_per_case or owl_batches:
        owl.slices([shape(cases[0], t)])
    per_case = cases[:owl_per_case]
    t0 = time.perf_counter()
    got = [owl.slices([shape(c, t)])[0] for c in per_case]
    owl_one_ms = (time.perf_counter() - t0) / len(per_case) * 1000 if per_case else None
    wrong += _compare("owl", per_case, got, expected)
    batches = []
    for size in owl_batches:
        batch = cases[:size]
        t0 = time.perf_counter()
        got = owl.slices([shape(c, t) for c in batch])
        ms = (time.perf_counter() - t0) / len(batch) * 1000
        batches.append({"n": len(batch), "ms": ms, **owl.last_timing})
        wrong += _compare("owl", batch, got, expected)
    if wrong:
        raise BaselineDisagrees(wrong)

    python_ms = statistics.median(runs)
    return {
        "n": n,
        "guideline": t.guideline,
        "agreement": _summary(
            expected, n, max([len(per_case), *(len(cases[:b]) for b in owl_batches)])
        ),
        "tables_s": tables_s,
        "cmlkb_first_s": cmlkb_first_s,
        "cmlkb_ms": cmlkb_ms,
        "cmlkb_records_per_case": records / n,
        "cmlkb_derivations_per_case": derivations / n,
        "python_ms": python_ms,
        "owl_per_case_ms": owl_one_ms,
        "owl_per_case_n": len(per_case),
        "owl_batches": batches,
        "cmlkb_over_python": cmlkb_ms / python_ms,
    }


def table(m: dict[str, Any]) -> str:
    """`measure`'s figures as a small Markdown table."""
    rows = [
        ("hand-coded Python (the limit)", m["n"], m["python_ms"]),
        (
            f"cmlkb evaluate_case (whole result: {m['cmlkb_derivations_per_case']:.0f} "
            "derivations/case)",
            m["n"],
            m["cmlkb_ms"],
        ),
    ]
    rows += [
        ("owlready2 + HermiT, all N cases in one call", b["n"], b["ms"]) for b in m["owl_batches"]
    ]
    if m["owl_per_case_ms"] is not None:
        rows.append(
            ("owlready2 + HermiT, one call per case", m["owl_per_case_n"], m["owl_per_case_ms"])
        )
    a = m["agreement"]
    out = [
        f"Slice: ELN milestone category of the latest result ({m['guideline']}) and the drugs "
        "excluded by a mutation, on the same generated cases.",
        f"Agreement with cmlkb: all {a['python_cases']} cases (hand-coded), first "
        f"{a['owl_cases']} (OWL); cmlkb's categories {a['eln_milestone']}, "
        f"{a['cases_with_exclusions']} cases with an exclusion.",
        "",
        "| way | cases (N) | ms/case | / cmlkb |",
        "|---|---:|---:|---:|",
    ]
    out += [f"| {name} | {n} | {ms:.4g} | {ms / m['cmlkb_ms']:.3g} |" for name, n, ms in rows]
    out.append("")
    out += [
        f"OWL call on {b['n']} cases: building the World {b['build_s']:.2f} s, HermiT "
        f"{b['reasoner_s']:.2f} s (JVM start included), reading back {b['read_s']:.3f} s."
        for b in m["owl_batches"]
    ]
    out.append(
        f"Tables from the knowledge facts {m['tables_s'] * 1000:.1f} ms (once); cmlkb's first "
        f"evaluation (rule compilation) {m['cmlkb_first_s']:.2f} s, not in its ms/case."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--owl-per-case", type=int, default=10)
    parser.add_argument(
        "--owl-batch", type=int, nargs="+", default=[100, 200], help="cases per OWL call"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from generate import as_inputs, generate_cases

    from cmlkb.case.read import normalise
    from cmlkb.knowledge.base import load_knowledge

    kb = load_knowledge()
    cases = [normalise(i.raw, kb) for i in as_inputs(generate_cases(kb, args.n, args.seed))]
    m = measure(kb, cases, owl_per_case=args.owl_per_case, owl_batches=tuple(args.owl_batch))
    print(table(m))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
