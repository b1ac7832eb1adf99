"""Each case is evaluated in its own engine state: no state leaks between cases, whether
they are evaluated one after another, in a loop, or from threads (cmlkb.reasoning.durable serialises
every call into durable-rules with one lock)."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.casekit import analysis, at, bcr, evaluate, history, make_case

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))


def comparable(result: dict[str, Any]) -> str:
    """The result without what differs by design between two evaluations."""
    return json.dumps(
        {k: v for k, v in result.items() if k != "evaluation_id"}, sort_keys=True, default=str
    )


def derivations(ev) -> list[tuple]:
    """Derived facts (without their ids) with the rules that derived them."""
    out = []
    for r in ev.inference.derived():
        fact = tuple(sorted((k, str(v)) for k, v in r.fact.items() if k != "fid"))
        out.append((fact, tuple(sorted(d.rule_id for d in r.derivations))))
    return sorted(out)


def mixed_cases(kb) -> list[dict[str, Any]]:
    """A varied set of valid cases: optimal, warning, failure, mutations, compound, TFR,
    progression, interactions, comorbidities, no result."""
    cases = [
        make_case(kb, bcr_abl1=[bcr(6, 0.5)]),
        make_case(kb, bcr_abl1=[bcr(6, 5.0)]),
        make_case(kb, adherence=None, bcr_abl1=[bcr(6, 15.0)]),
        make_case(kb, bcr_abl1=[bcr(3, 15.0), bcr(4.2, 14.0)]),
        make_case(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "T315I")]),
        make_case(
            kb,
            **history(("imatinib", "resistance")),
            bcr_abl1=[bcr(6, 0.5)],
            mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
        ),
        make_case(kb, **history(("imatinib", "tfr"), current=None), bcr_abl1=[bcr(1, 0.3)]),
        make_case(
            kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 35.0}]
        ),
        make_case(
            kb,
            comedications=["omeprazole"],
            patient={"comorbidities": ["arterial-occlusive-disease"]},
        ),
        make_case(kb, bcr_abl1=[]),
    ]
    from cmlkb.case.read import load_case_files
    from cmlkb.case.validation import validate

    report = validate(load_case_files(EXAMPLES), kb)
    assert report.ok
    return cases + list(report.cases.values())


def test_a_then_b_then_a_gives_identical_results(kb):
    a = make_case(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(6, "V299L")])
    b = make_case(kb, **history(("imatinib", "tfr"), current=None), bcr_abl1=[bcr(1, 0.3)])
    first = evaluate(kb, a)
    other = evaluate(kb, b)
    again = evaluate(kb, a)
    assert comparable(first.result) == comparable(again.result)
    assert derivations(first) == derivations(again)
    assert comparable(other.result) != comparable(first.result)


def test_same_case_twice_differs_only_in_evaluation_id(kb):
    case = make_case(kb, bcr_abl1=[bcr(3, 15.0)], comedications=["omeprazole"])
    one, two = evaluate(kb, case), evaluate(kb, case)
    assert one.evaluation_id != two.evaluation_id
    assert comparable(one.result) == comparable(two.result)
    assert one.input_digest == two.input_digest


def test_a_loop_of_200_mixed_cases_matches_each_case_alone(kb):
    cases = mixed_cases(kb)
    alone = [comparable(evaluate(kb, c).result) for c in cases]
    rng = random.Random(20260)
    order = [rng.randrange(len(cases)) for _ in range(200)]
    for i in order:
        assert comparable(evaluate(kb, cases[i]).result) == alone[i], cases[i]["id"]


def test_evaluations_from_4_threads_match_sequential_ones(kb):
    cases = mixed_cases(kb)
    sequential = [comparable(evaluate(kb, c).result) for c in cases]
    work = [i for _ in range(4) for i in range(len(cases))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda i: (i, comparable(evaluate(kb, cases[i]).result)), work))
    for i, result in threaded:
        assert result == sequential[i], cases[i]["id"]


def test_a_failing_run_does_not_poison_the_next_evaluation(kb):
    """A fact the engine refuses (a float) fails closed; the next case is unaffected."""
    import pytest

    from cmlkb.errors import CmlkbError
    from cmlkb.reasoning import durable
    from cmlkb.reasoning.reasoner import compiled_rules

    case = make_case(kb, bcr_abl1=[bcr(6, 5.0)])
    before = comparable(evaluate(kb, case).result)
    ruleset = compiled_rules(kb).groups[0].ruleset
    with pytest.raises(CmlkbError, match="float"):
        durable.run(
            ruleset, kb.digest, [{"kind": "case", "fid": "x", "assessed_day": 1.5}], lambda m: []
        )
    assert comparable(evaluate(kb, case).result) == before
