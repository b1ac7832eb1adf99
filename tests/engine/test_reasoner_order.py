"""The reasoner drives durable-rules in one ruleset, facts in batches and negations behind
gates (cmlkb.reasoning.reasoner, rules.negation_gates): what it derives, and the order its
records and derivations come in, must not depend on the order the engine reports matches
in (results show the first derivation of a conclusion and the first fact of a merged
reason)."""

from __future__ import annotations

from cmlkb.reasoning import durable, reasoner
from cmlkb.reasoning.rules import load_rulebase, negation_gates
from tests.casekit import EXAMPLES, evaluate, example, validated


def _examples(kb):
    return [validated(kb, example(p.stem)) for p in EXAMPLES]


def _records(ev) -> list[tuple]:
    return [
        (
            r.fid,
            r.origin,
            sorted((k, str(v)) for k, v in r.fact.items()),
            [(d.rule_id, d.rule_version, d.premises) for d in r.derivations],
        )
        for r in ev.inference.records.values()
        if r.origin != "knowledge"
    ]


def _comparable(result):
    return {k: v for k, v in result.items() if k != "evaluation_id"}


def test_matches_reported_in_another_order_give_the_same_records_and_results(kb, monkeypatch):
    cases = _examples(kb)
    before = [evaluate(kb, c) for c in cases]
    real = durable._matches
    batches: list[int] = []

    def reversed_matches(handle, offset):
        found = real(handle, offset)
        batches.append(len(found))
        return found[::-1]

    monkeypatch.setattr(durable, "_matches", reversed_matches)
    after = [evaluate(kb, c) for c in cases]
    assert max(batches) > 1  # the engine did report several matches at once: order changed
    for one, two in zip(before, after, strict=True):
        assert _records(one) == _records(two), one.result["case"]
        assert _comparable(one.result) == _comparable(two.result), one.result["case"]


def test_each_negation_waits_for_every_producer_of_what_it_negates(kb):
    rulebase = load_rulebase(kb)
    gates = negation_gates(rulebase.rules)
    producers: dict[str, list[int]] = {}
    for r in rulebase.rules:
        for kind in r.produces:
            producers.setdefault(kind, []).append(r.stratum)
    assert set(gates) == {r.id for r in rulebase.rules if r.negates}
    for r in rulebase.rules:
        if r.negates:
            below = [s for kind in r.negates for s in producers.get(kind, [])]
            assert all(s < gates[r.id] for s in below), r.id
            assert gates[r.id] <= r.stratum, r.id


def test_strata_share_one_ruleset_until_it_would_hold_too_many_rules():
    def sizes(*strata: int) -> list[int]:
        return [len(g) for g in reasoner._groups([[object()] * n for n in strata])]

    assert sizes(100, 200, 150) == [450]
    assert sizes(300, 250, 40) == [300, 290]  # durable-rules fails above 511


def test_rules_split_over_several_rulesets_derive_the_same(kb, monkeypatch):
    """Past durable-rules' limit on rules per ruleset the strata go into several rulesets,
    run one after the other: the same records, derivations and results as one ruleset."""
    cases = _examples(kb)
    one = [evaluate(kb, c) for c in cases]
    monkeypatch.setattr(reasoner, "MAX_RULES_PER_RULESET", 60)
    monkeypatch.setattr(reasoner, "_compiled", {})
    assert len(reasoner.compiled_rules(kb).groups) > 2
    several = [evaluate(kb, c) for c in cases]
    for a, b in zip(one, several, strict=True):
        assert _records(a) == _records(b), a.result["case"]
        assert _comparable(a.result) == _comparable(b.result), a.result["case"]
