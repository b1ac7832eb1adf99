"""The benchmark's case generator (bench/generate.py): valid and deterministic cases.

No timing here: speed is measured by `make bench`, not asserted by tests."""

from __future__ import annotations

import json
from collections import Counter
from types import ModuleType

import pytest

from cmlkb.case.read import case_input
from cmlkb.case.validation import format_text, validate
from cmlkb.knowledge.base import load_knowledge
from tests.benchkit import bench_module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return bench_module("generate")


@pytest.fixture(scope="module")
def kb():  # type: ignore[no-untyped-def]
    return load_knowledge()


def test_same_seed_same_cases(gen: ModuleType, kb) -> None:  # type: ignore[no-untyped-def]
    first = gen.generate_cases(kb, 40, seed=7)
    again = gen.generate_cases(kb, 40, seed=7)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_case_independent_of_count(gen: ModuleType, kb) -> None:  # type: ignore[no-untyped-def]
    short = gen.generate_cases(kb, 5, seed=3)
    long = gen.generate_cases(kb, 20, seed=3)
    assert short == long[:5]
    other = gen.generate_cases(kb, 5, seed=4)
    assert [c["therapies"] for c in other] != [c["therapies"] for c in short]


def test_generated_cases_are_valid(gen: ModuleType, kb) -> None:  # type: ignore[no-untyped-def]
    cases = gen.generate_cases(kb, 48, seed=0)
    inputs = gen.as_inputs(cases)
    # one case per validate call: SHACL cost grows with the batch (see bench/README.md)
    for case in inputs:
        report = validate([case], kb)
        assert report.ok, format_text(report)
        assert case.case_id in report.cases


def test_situations_are_covered(gen: ModuleType, kb) -> None:  # type: ignore[no-untyped-def]
    cases = gen.generate_cases(kb, 300, seed=0)
    seen = Counter(gen.situation_of(c) for c in cases)
    assert set(seen) == {name for name, _ in gen.SITUATIONS}
    assert any(a.get("compound") for c in cases for a in c.get("mutation_analyses", []))
    assert any(c["patient"]["comorbidities"] for c in cases)
    assert any(c["comedications"] for c in cases)
    assert any(t.get("stop_reason") == "tfr" for c in cases for t in c["therapies"])
    known = {
        v.strip()
        for c in cases
        for a in c.get("mutation_analyses", [])
        for v in (x["protein"] for x in a["variants"])
    }
    assert known, "no mutations generated"


def test_invalid_every_k_th_record(gen: ModuleType, kb) -> None:  # type: ignore[no-untyped-def]
    valid = [json.dumps(c) for c in gen.generate_cases(kb, 12, seed=5)]
    lines = gen.cohort_lines(kb, 12, seed=5, invalid_every=3)
    assert gen.cohort_lines(kb, 12, seed=5) == valid
    changed = [n for n, (a, b) in enumerate(zip(valid, lines, strict=True)) if a != b]
    assert changed == [2, 5, 8, 11]
    # each is invalid, each in its own way (the first four kinds, in turn)
    reports = [validate([case_input("cohort.jsonl", lines[n])], kb) for n in changed]
    assert [r.violations[0].path for r in reports] == [
        "",
        "therapies[0].drug",
        "therapies",
        "diagnosis.date",
    ]
    assert "not valid JSON" in reports[0].violations[0].found
