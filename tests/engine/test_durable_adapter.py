"""cmlkb.reasoning.durable, the one module that talks to durable-rules: every run leaves the engine
state empty, failures fail closed, and the clean-up holds over 100,000 runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from cmlkb.errors import CmlkbError
from cmlkb.reasoning import durable

PAIR = {
    "pair": {
        "all": [
            {"a": {"kind": "left"}},
            {"b": {"$and": [{"kind": "right"}, {"key": {"a": "key"}}]}},
        ]
    }
}
ABSENT = {"absent": {"all": [{"a": {"kind": "probe"}}, {"n0$not": {"kind": "blocker"}}]}}


KEY = "adapter-tests"  # the background (knowledge) key: these rulesets have none


def collect(ruleset, facts):
    durable.prime(ruleset, KEY, [])
    matches = []

    def conclude(match):
        matches.append(match)
        return []

    durable.run(ruleset, KEY, facts, conclude)
    return matches


def test_a_run_leaves_no_fact_behind_for_the_next_run():
    ruleset = durable.register(PAIR)
    assert collect(ruleset, [{"kind": "left", "key": 1, "fid": "a1"}]) == []
    # had the left fact survived the first run, this right fact would complete a match
    assert collect(ruleset, [{"kind": "right", "key": 1, "fid": "b1"}]) == []
    both = collect(
        ruleset, [{"kind": "left", "key": 2, "fid": "a2"}, {"kind": "right", "key": 2, "fid": "b2"}]
    )
    assert [m[0] for m in both] == ["pair"]


def test_negation_sees_only_the_facts_of_its_own_run():
    ruleset = durable.register(ABSENT)
    blocked = collect(ruleset, [{"kind": "blocker", "fid": "x"}, {"kind": "probe", "fid": "p"}])
    assert blocked == []
    # the blocker of the previous run is gone: the probe now matches
    assert [m[0] for m in collect(ruleset, [{"kind": "probe", "fid": "p2"}])] == ["absent"]


def test_registering_the_same_stratum_twice_reuses_it():
    assert durable.register(PAIR) == durable.register(PAIR)


def test_float_fact_fails_closed_naming_the_field():
    ruleset = durable.register(PAIR)
    with pytest.raises(CmlkbError, match=r"left\.key is a float"):
        collect(ruleset, [{"kind": "left", "key": 0.5, "fid": "f"}])
    assert [
        m[0]
        for m in collect(
            ruleset,
            [{"kind": "left", "key": 3, "fid": "a"}, {"kind": "right", "key": 3, "fid": "b"}],
        )
    ] == ["pair"]


def test_error_in_conclude_fails_closed_and_next_run_is_clean():
    ruleset = durable.register(PAIR)

    def boom(match):
        raise CmlkbError("boom")

    durable.prime(ruleset, KEY, [])
    with pytest.raises(CmlkbError, match="boom"):
        durable.run(
            ruleset,
            KEY,
            [{"kind": "left", "key": 4, "fid": "a"}, {"kind": "right", "key": 4, "fid": "b"}],
            boom,
        )
    assert collect(ruleset, [{"kind": "right", "key": 4, "fid": "b"}]) == []


@pytest.mark.xfail(
    strict=True,
    reason=(
        "durable-rules 2.0.28 bug, worked around in compile_rule (in tests last): inside one "
        "$and, a reference comparison ($neq/$gt/$lt against an earlier alias) that comes "
        "AFTER an $or clause is ignored; the same comparison before the $or works. Rules "
        "two-or-more-tkis-failed-or-not-tolerated and two-or-more-tkis-including-current "
        "(`stop_reason: {in: ...}` then `drug: {ne: ...}`) are affected. Fix: emit `in` "
        "clauses last"
    ),
)
def test_reference_comparison_after_an_or_clause_filters():
    ruleset = durable.register(
        {
            "neq-after-or": {
                "all": [
                    {"a": {"kind": "w"}},
                    {
                        "b": {
                            "$and": [
                                {"kind": "w"},
                                {"$or": [{"s": "p"}, {"s": "q"}]},
                                {"$neq": {"x": {"a": "x"}}},
                            ]
                        }
                    },
                ]
            }
        }
    )
    assert (
        collect(
            ruleset,
            [
                {"kind": "w", "x": 5, "s": "p", "fid": "1"},
                {"kind": "w", "x": 5, "s": "p", "fid": "2"},
            ],
        )
        == []
    )


def test_reference_comparison_before_an_or_clause_filters():
    ruleset = durable.register(
        {
            "neq-before-or": {
                "all": [
                    {"a": {"kind": "w"}},
                    {
                        "b": {
                            "$and": [
                                {"kind": "w"},
                                {"$neq": {"x": {"a": "x"}}},
                                {"$or": [{"s": "p"}, {"s": "q"}]},
                            ]
                        }
                    },
                ]
            }
        }
    )
    assert (
        collect(
            ruleset,
            [
                {"kind": "w", "x": 5, "s": "p", "fid": "1"},
                {"kind": "w", "x": 5, "s": "p", "fid": "2"},
            ],
        )
        == []
    )


HUNDRED_K = textwrap.dedent("""
    import resource, sys
    from cmlkb.reasoning import durable
    from cmlkb.knowledge.base import load_knowledge
    from cmlkb.reasoning.reasoner import compiled_rules
    from cmlkb.reasoning.rules import gate_fact
    N = int(sys.argv[1])
    # the shipped rules as infer() runs them: one rule group, its gates after the facts
    kb = load_knowledge()
    group = compiled_rules(kb).groups[0]  # primed with the shipped knowledge
    ruleset = group.ruleset
    barriers = [gate_fact(level) for level in group.gates]
    bcr = {"kind": "bcr", "fid": "r", "idx": 0, "quantified": True, "is": 50000,
           "value": 50000, "on_current": True, "latest": True, "day": 1, "gene": "ABL1",
           "copies": -1}
    facts = group.engine_facts(bcr)
    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    matched = 0
    per_run = set()
    def conclude(m):
        global matched
        matched += 1
        return []
    for i in range(N):
        # as infer() does: a no-op while primed, a fresh state after each recycling
        durable.prime(ruleset, kb.digest, group.background)
        before = matched
        durable.run(ruleset, kb.digest, facts, conclude, barriers)
        per_run.add(matched - before)
        if i == N // 10:
            early = rss()
    late = rss()
    # "testing not indicated" for 0.05 %, every run (nothing else follows from a lone
    # result: the rules that would need the case fact never match)
    assert per_run == {1}, per_run
    print(matched, early, late)
""")


@pytest.mark.slow
def test_100000_runs_keep_memory_flat_and_match_every_time(tmp_path):
    """100,000 runs of the compiled shipped rules with their gates (the adapter path of
    every evaluation) in a fresh process: each run matches exactly once (no leaked state
    adds or hides matches), and peak memory after the first 10 % of runs grows < 20 MB."""
    script = tmp_path / "hundred_k.py"
    script.write_text(HUNDRED_K, encoding="utf-8")
    n = 100_000
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, str(script), str(n)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    matched, early, late = (int(x) for x in out.stdout.split())
    assert matched == n  # every run: testing is not indicated at 0.05 %
    assert late - early < 20 * 1024, (early, late)  # ru_maxrss is in KiB on Linux
    print(f"100k durable runs: {time.monotonic() - started:.0f} s, rss {early}->{late} KiB")


FULL = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    from cmlkb.case.read import load_case_files
    from cmlkb.pipeline import evaluate_case, selection_for
    from cmlkb.knowledge.base import load_knowledge
    from cmlkb.case.validation import validate
    from cmlkb.reasoning import durable
    durable.RECYCLE_AFTER = 25  # delete and re-prime each state often: hundreds of deletes
    kb = load_knowledge()
    selection = selection_for(kb)
    files = sorted(Path(sys.argv[2]).glob("*.json"))
    cases = list(validate(load_case_files(files), kb).cases.values())
    N = int(sys.argv[1])
    first = {}
    for i in range(N):
        case = cases[i % len(cases)]
        result = evaluate_case(case, kb, selection, evaluation_id="x").result
        first.setdefault(case["id"], result)
        assert result == first[case["id"]], case["id"]
        if i == N // 10:
            early = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(early, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


@pytest.mark.slow
def test_5000_full_evaluations_stay_identical_with_flat_memory(tmp_path):
    """5,000 full evaluations of the example cases in turn, each engine state deleted and
    primed afresh every 25 runs (about 1,200 state deletions): each case's result never
    changes, nothing crashes, and peak memory after the first 10 % grows < 8 MB. (The
    100,000-run check is the adapter test above.)"""
    script = tmp_path / "full.py"
    script.write_text(FULL, encoding="utf-8")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(
        [sys.executable, str(script), "5000", os.path.join(root, "examples", "cases")],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    early, late = (int(x) for x in out.stdout.split())
    assert late - early < 8 * 1024, (early, late)


def test_priming_refuses_a_rule_that_fires_on_knowledge_alone():
    """Knowledge is asserted once per process: a rule matching knowledge facts alone would
    fire once at start-up instead of for each case (the linter forbids such rules)."""
    ruleset = durable.register(
        {"knowledge-only": {"all": [{"k": {"kind": "knowledge-only-probe"}}]}}
    )
    with pytest.raises(CmlkbError, match=r"knowledge alone.*knowledge-only"):
        durable.prime(ruleset, "refuse", [{"kind": "knowledge-only-probe", "fid": "k0"}])


def test_a_run_keeps_the_primed_knowledge_and_drops_its_own_facts():
    ruleset = durable.register(PAIR)
    durable.prime(ruleset, "kept", [{"kind": "left", "key": 7, "fid": "k0"}])
    for _ in range(3):  # the primed left fact pairs with each run's right fact, every time
        assert [
            m[0] for m in collect_keyed(ruleset, "kept", [{"kind": "right", "key": 7, "fid": "f0"}])
        ] == ["pair"]


def collect_keyed(ruleset, key, facts):
    matches = []

    def conclude(match):
        matches.append(match)
        return []

    durable.run(ruleset, key, facts, conclude)
    return matches


def _below_every_dose(negated_kind: str) -> str:
    return durable.register(
        {
            "below-every-dose": {
                "all": [
                    {"t": {"kind": "therapy"}},
                    {"s": {"kind": "dose"}},
                    {
                        "n2$not": {
                            "$and": [{"kind": negated_kind}, {"$lte": {"daily": {"t": "daily"}}}]
                        }
                    },
                ]
            }
        }
    )


def test_a_fact_bound_in_a_match_satisfies_no_other_condition_of_the_rule():
    """durable-rules behaviour the reasoner works around (rules.copied_kinds): a fact the
    rule already bound is not seen by another condition of the same rule, not even by a
    negation. The only dose has daily 400 <= 400, yet `not dose` holds, because that
    dose is the one bound to `s`; a copy of it under another kind is seen."""
    therapy = {"kind": "therapy", "daily": 400, "fid": "t"}
    dose = {"kind": "dose", "daily": 400, "fid": "d1"}
    same_kind = collect(_below_every_dose("dose"), [therapy, dose])
    assert [m[0] for m in same_kind] == ["below-every-dose"]
    copy = dict(dose, kind="dose@negated", fid="d1@negated")
    assert collect(_below_every_dose("dose@negated"), [copy, therapy, dose]) == []


GATED = {
    "derive": {"all": [{"a": {"kind": "left"}}]},
    "absent": {
        "all": [
            {"@stratum": {"$and": [{"kind": "@stratum"}, {"level": 0}]}},
            {"p": {"kind": "probe"}},
            {"n2$not": {"kind": "mid"}},
        ]
    },
}


def test_a_rule_waiting_for_a_barrier_sees_what_was_derived_before_it():
    """A negation waits for its gate (rules.negation_gates): asserted after the fixpoint
    of the facts, the gate lets the negation see every fact derived from them."""
    ruleset = durable.register(GATED)
    durable.prime(ruleset, KEY, [])
    fired: list[str] = []

    def derive_mid(match):
        fired.append(match[0])
        return [{"kind": "mid", "fid": "m"}] if match[0] == "derive" else []

    gate = {"kind": "@stratum", "level": 0, "fid": "g0"}
    left, probe = {"kind": "left", "fid": "l"}, {"kind": "probe", "fid": "p"}
    durable.run(ruleset, KEY, [left, probe], derive_mid, barriers=[gate])
    assert fired == ["derive"]  # the derived mid blocks `absent`
    fired.clear()
    durable.run(ruleset, KEY, [probe], derive_mid, barriers=[gate])
    assert fired == ["absent"]  # nothing blocks it: it fires once, after the gate
    fired.clear()
    durable.run(ruleset, KEY, [left, probe], derive_mid)
    assert fired == ["derive"]  # without its gate the rule cannot fire at all


def test_a_fact_asserted_twice_fails_the_run():
    """Facts are identified by their fid (the engine's message id): a second fact with the
    same fid would be dropped by the engine as already seen; the run fails instead."""
    ruleset = durable.register(PAIR)
    durable.prime(ruleset, KEY, [])
    with pytest.raises(CmlkbError, match="asserted twice"):
        durable.run(
            ruleset,
            KEY,
            [{"kind": "left", "key": 5, "fid": "x"}, {"kind": "left", "key": 6, "fid": "x"}],
            lambda m: [],
        )
    again = [{"kind": "left", "key": 5, "fid": "x"}, {"kind": "right", "key": 5, "fid": "y"}]
    assert [m[0] for m in collect(ruleset, again)] == ["pair"]


def test_a_rule_using_the_kind_field_otherwise_than_as_its_kind_is_refused():
    """The engine sees a fact's kind as a property of its own (durable.KIND_PROPERTY), not
    as the field `kind`: a rule reading that field would silently never match."""
    with pytest.raises(CmlkbError, match=r"rule compare-kinds .* field `kind`"):
        durable.register(
            {
                "compare-kinds": {
                    "all": [
                        {"a": {"kind": "left"}},
                        {"b": {"$and": [{"kind": "right"}, {"$neq": {"tag": {"a": "kind"}}}]}},
                    ]
                }
            }
        )
    # the word as a value is no reference
    ruleset = durable.register(
        {"word": {"all": [{"a": {"$and": [{"kind": "left"}, {"tag": "kind"}]}}]}}
    )
    assert [m[0] for m in collect(ruleset, [{"kind": "left", "tag": "kind", "fid": "w"}])] == [
        "word"
    ]
