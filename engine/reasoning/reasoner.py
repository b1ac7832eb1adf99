"""The reasoner: case facts and knowledge facts through the rules to a fixpoint,
recording for every derived fact the rule that derived it and the facts it used.

Derived facts are kept here, not in engine memory (durable-rules has no truth
maintenance): each evaluation starts from an empty engine state. A conclusion derived
twice from different premises is one fact with two derivations.

How the engine is driven (issue 11): all strata share one durable-rules ruleset and one
engine state primed with the knowledge; each fact is sent once, in batches, carrying only
the fields conditions test; a rule with a negation waits behind the gate of its stratum
(rules.negation_gates), asserted once everything it may negate is known. The engine then
reports matches in an order of its own, so the records and their derivations are put in
one defined order afterwards (`_stratified_order`): the results never depend on it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from cmlkb.case.facts import CaseFact
from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.reasoning import durable
from cmlkb.reasoning.knowledge_facts import KnowledgeFact, knowledge_facts
from cmlkb.reasoning.rules import (
    MAX_RULES_PER_RULESET,
    Condition,
    Ref,
    Rule,
    RuleBase,
    Sum,
    Test,
    compile_rule,
    conclude,
    copied_kinds,
    gate_fact,
    load_rulebase,
    negated_kind,
    negation_gates,
)


@dataclass
class Derivation:
    """One firing: `rule` derived the fact from `premises` (fact ids)."""

    rule_id: str
    rule_version: str
    premises: tuple[str, ...]


@dataclass
class FactRecord:
    """A fact with its origin: 'case' (path), 'knowledge' (iri) or 'derived'."""

    fid: str
    fact: dict[str, Any]
    origin: str
    path: str = ""
    iri: str = ""
    derivations: list[Derivation] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.fact["kind"])


@dataclass
class Inference:
    """Everything an evaluation knows: input facts and what the rules derived from them
    (complete once `infer` returns)."""

    records: dict[str, FactRecord]
    rules: dict[str, Rule]
    # the knowledge records by kind (shared, read-only) and the case's own records
    knowledge_by_kind: dict[str, list[FactRecord]] = field(default_factory=dict, repr=False)
    own: list[FactRecord] | None = field(default=None, repr=False)
    _by_kind: dict[str, list[FactRecord]] | None = field(default=None, repr=False)

    def of_kind(self, kind: str) -> list[FactRecord]:
        """The records of a kind, knowledge first, in the order they were made."""
        if self._by_kind is None:
            by_kind: dict[str, list[FactRecord]] = {}
            if self.own is None:  # built without the split: index every record
                for r in self.records.values():
                    by_kind.setdefault(r.kind, []).append(r)
            else:
                for r in self.own:
                    by_kind.setdefault(r.kind, []).append(r)
                for k, known in self.knowledge_by_kind.items():
                    by_kind[k] = known + by_kind.get(k, [])
            self._by_kind = by_kind
        return self._by_kind.get(kind, [])

    def derived(self) -> list[FactRecord]:
        source = self.records.values() if self.own is None else self.own
        return [r for r in source if r.origin == "derived"]

    def fired_rules(self) -> set[str]:
        return {d.rule_id for r in self.derived() for d in r.derivations}


def _content_key(fact: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    """What makes two facts the same fact: their fields, the fact id aside."""
    if "fid" in fact:
        return frozenset((k, v) for k, v in fact.items() if k != "fid")
    return frozenset(fact.items())


@dataclass
class RuleGroup:
    """Consecutive strata of rules in one durable-rules ruleset (all of them unless the
    rule base outgrows what one ruleset can hold), primed with the knowledge facts its
    rules use. A rule with a negation waits for its gate (rules.negation_gates)."""

    ruleset: str
    rules: list[Rule]
    gates: list[int]  # the gate levels its rules wait for, ascending
    copied: set[str]  # kinds whose negations look at copies (rules.copied_kinds)
    background: list[dict[str, Any]] = field(default_factory=list)
    # engine kind -> the literal tests of each condition on that kind
    literal_tests: dict[str, list[list[Test]]] = field(default_factory=dict)
    # engine kind -> the fields its conditions test or join on
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {r.id for r in self.rules}
        self.barriers = [gate_fact(level) for level in self.gates]
        # kinds some condition takes without a literal test: every such fact is wanted
        self.always = {kind for kind, tests in self.literal_tests.items() if [] in tests}

    def _wants(self, fact: dict[str, Any], kind: str) -> bool:
        if kind in self.always:
            return True
        for condition in self.literal_tests.get(kind, ()):
            for test in condition:
                value = fact.get(test.field)
                if not (value in test.value if test.op == "in" else value == test.value):
                    break
            else:
                return True
        return False

    def engine_facts(self, fact: dict[str, Any]) -> list[dict[str, Any]]:
        """What the engine is sent for a fact: the fact, if some condition of the group
        could match it, and its copy for negations (`copied`), if one could match that;
        a fact failing the literal tests of every condition on its kind is not sent. Each
        carries only the fields the group's conditions test or join on (conclusions are
        made from the full facts, by fact id): the engine's cost grows with every field."""
        kind = fact["kind"]
        out = []
        if self._wants(fact, kind):
            out.append(self._slim(fact, kind, fact["fid"]))
        if kind in self.copied and self._wants(fact, negated_kind(kind)):
            out.append(self._slim(fact, negated_kind(kind), fact["fid"] + "@negated"))
        return out

    def _slim(self, fact: dict[str, Any], kind: str, fid: str) -> dict[str, Any]:
        slim = {"kind": kind, "fid": fid}
        for name in self.fields.get(kind, ()):
            if name in fact:
                slim[name] = fact[name]
        return slim


def _engine_kind(cond: Condition, copied: set[str]) -> str:
    return negated_kind(cond.kind) if cond.negated and cond.kind in copied else cond.kind


def _literal_tests(rules: list[Rule], copied: set[str]) -> dict[str, list[list[Test]]]:
    """Engine kind -> the literal tests of each condition on it, the fewest that decide
    whether some condition could match: a condition whose tests include all of another's
    adds nothing."""
    found: dict[str, set[frozenset[Test]]] = {}
    for rule in rules:
        for cond in rule.conditions:
            literal = frozenset(
                t
                for t in cond.tests
                if t.op == "in"
                or (t.op == "eq" and not isinstance(t.value, Ref | Sum | list | dict))
            )
            found.setdefault(_engine_kind(cond, copied), set()).add(literal)
    return {
        kind: [
            sorted(tests, key=repr)
            for tests in sorted(conditions, key=lambda c: sorted(map(repr, c)))
            if not any(other < tests for other in conditions)
        ]
        for kind, conditions in found.items()
    }


def _engine_fields(rules: list[Rule], copied: set[str]) -> dict[str, tuple[str, ...]]:
    """Engine kind -> the fields conditions test, and the fields later conditions of the
    same rule refer to ($alias.field), sorted."""
    out: dict[str, set[str]] = {}
    for rule in rules:
        bound: dict[str, str] = {}
        for cond in rule.conditions:
            kind = _engine_kind(cond, copied)
            out.setdefault(kind, set()).update(t.field for t in cond.tests)
            for t in cond.tests:
                values = [t.value.left, t.value.right] if isinstance(t.value, Sum) else [t.value]
                for ref in values:
                    if isinstance(ref, Ref):
                        out.setdefault(bound[ref.alias], set()).add(ref.field)
            if cond.alias:
                bound[cond.alias] = kind
    return {kind: tuple(sorted(names)) for kind, names in out.items()}


def _groups(strata: list[list[Rule]]) -> list[list[Rule]]:
    """Consecutive strata packed into as few rulesets as durable-rules can hold (it fails
    above 511 rules in one ruleset: engine-notes C1 #6)."""
    groups: list[list[Rule]] = []
    for rules in strata:
        if groups and len(groups[-1]) + len(rules) <= MAX_RULES_PER_RULESET:
            groups[-1].extend(rules)
        else:
            groups.append(list(rules))
    return groups


@dataclass
class CompiledRules:
    """The rule base in rule groups, and the knowledge as fact records shared by every
    evaluation with this knowledge digest (read-only)."""

    rulebase: RuleBase
    groups: list[RuleGroup]
    knowledge: dict[str, FactRecord]
    knowledge_by_kind: dict[str, list[FactRecord]] = field(default_factory=dict)
    # rule id -> (its stratum, its place in the stratum): the order rules fire in
    rank: dict[str, tuple[int, int]] = field(default_factory=dict)
    # knowledge fact id -> its place, below every case fact (negative)
    knowledge_position: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = self.rulebase.by_id()
        # rule id -> what a match of it needs: the rule, its aliases, stratum and place
        self.plans = {r.id: (r, r.aliases, *self.rank[r.id]) for r in self.rulebase.rules}
        self.knowledge_facts = {fid: r.fact for fid, r in self.knowledge.items()}


_compiled: dict[str, CompiledRules] = {}


def compiled_rules(kb: KnowledgeBase) -> CompiledRules:
    """Compile, register and prime the rule base once per process and knowledge digest
    (durable-rules never frees a ruleset: engine-notes C1 #12)."""
    if kb.digest in _compiled:
        return _compiled[kb.digest]
    rulebase = load_rulebase(kb)
    knowledge = {
        f"k{i}": FactRecord(f"k{i}", dict(kf.fact, fid=f"k{i}"), "knowledge", iri=kf.iri)
        for i, kf in enumerate(knowledge_facts(kb))
    }
    gates = negation_gates(rulebase.rules)
    copied = copied_kinds(rulebase.rules)
    groups = []
    for rules in _groups(rulebase.strata):
        definitions = {r.id: compile_rule(r, gates.get(r.id), copied) for r in rules}
        group = RuleGroup(
            durable.register(definitions),
            rules,
            gates=sorted({gates[r.id] for r in rules if r.id in gates}),
            copied=copied,
            literal_tests=_literal_tests(rules, copied),
            fields=_engine_fields(rules, copied),
        )
        group.background = [f for r in knowledge.values() for f in group.engine_facts(r.fact)]
        durable.prime(group.ruleset, kb.digest, group.background)
        groups.append(group)
    by_kind: dict[str, list[FactRecord]] = {}
    for record in knowledge.values():
        by_kind.setdefault(record.kind, []).append(record)
    _compiled[kb.digest] = CompiledRules(
        rulebase,
        groups,
        knowledge,
        by_kind,
        rank={r.id: (s, i) for s, rules in enumerate(rulebase.strata) for i, r in enumerate(rules)},
        knowledge_position={fid: i - len(knowledge) for i, fid in enumerate(knowledge)},
    )
    return _compiled[kb.digest]


# A match of a rule as the engine reported it: the derivation, the records of its
# conclusions (in the order of the rule's `then`), the rule's stratum and its place in it.
_Firing = tuple[Derivation, list[FactRecord], int, int]


def _stratified_order(
    case: list[FactRecord], firings: list[_Firing], strata: int, known: dict[str, int]
) -> list[FactRecord]:
    """The case's records, then the derived ones, in the order of a breadth-first
    stratified evaluation; each derived record gets its derivations in that order.

    The engine reports matches in an order of its own (it batches facts and merges
    strata), but what is shown for a conclusion derived several ways (its first
    derivation, the first fact of a merged reason) follows the order of the records.
    That order is defined here, from the derivations alone: stratum by stratum, the facts
    in the order they became known, each fact firing the rules it completes (the fact it
    completes a match with is the last-known premise), in rule file order; one rule's
    matches completed by the same fact, the fact in a later condition first, then the
    latest other premises first. It is the order in which the engine produced them when
    each stratum was its own ruleset and facts were sent one at a time, so results do
    not change with how the engine is driven. `strata`: how many there are; `known`:
    the knowledge facts' places (all below the case's)."""
    position = {r.fid: i for i, r in enumerate(case)}
    order = list(case)
    waiting: dict[str, list[int]] = {}  # derived fact id -> firings that need it
    missing: list[int] = []
    places: list[list[int]] = [[] for _ in firings]  # the places of each firing's premises
    ready: dict[int, dict[int, list[int]]] = {}  # stratum -> trigger place -> firings
    triggers: dict[int, list[int]] = {}  # stratum -> heap of trigger places

    def arm(i: int) -> None:
        at = places[i] = [
            position[p] if p in position else known[p] for p in firings[i][0].premises
        ]
        trigger, stratum = max(at), firings[i][2]
        batch = ready.setdefault(stratum, {}).setdefault(trigger, [])
        if not batch:
            heapq.heappush(triggers.setdefault(stratum, []), trigger)
        batch.append(i)

    def tie(i: int) -> tuple[Any, ...]:
        at = places[i]
        return (firings[i][3], -at.index(max(at)), [-p for p in at])

    for i, firing in enumerate(firings):
        pending = 0
        for p in firing[0].premises:
            if p not in position and p not in known:
                waiting.setdefault(p, []).append(i)
                pending += 1
        missing.append(pending)
        if not pending:
            arm(i)
    for stratum in range(strata):
        heap, batches = triggers.get(stratum, []), ready.get(stratum, {})
        while heap:
            batch = batches.pop(heapq.heappop(heap))
            if len(batch) > 1:
                batch.sort(key=tie)
            for i in batch:
                derivation, conclusions = firings[i][0], firings[i][1]
                for record in conclusions:
                    if record.fid not in position:
                        position[record.fid] = len(order)
                        order.append(record)
                        for j in waiting.pop(record.fid, ()):
                            missing[j] -= 1
                            if not missing[j]:
                                arm(j)
                    record.derivations.append(derivation)
    if waiting or any(ready.values()):
        raise CmlkbError("a rule fired on a premise no rule derived (rule engine fault)")
    return order


def infer(kb: KnowledgeBase, facts: list[CaseFact]) -> Inference:
    """Run every rule group over the case facts, joined with the knowledge facts the
    groups were primed with."""
    compiled = compiled_rules(kb)
    rules, plans, knowledge = compiled.rules, compiled.plans, compiled.knowledge_facts
    case = [
        FactRecord(f"f{i}", dict(cf.fact, fid=f"f{i}"), "case", cf.path)
        for i, cf in enumerate(facts)
    ]
    derived: list[FactRecord] = []  # under provisional ids until they are ordered
    by_content: dict[frozenset[tuple[str, Any]], FactRecord] = {
        _content_key(r.fact): r for r in case
    }
    by_fid: dict[str, dict[str, Any]] = {r.fid: r.fact for r in case}
    firings: list[_Firing] = []

    for group in compiled.groups:

        def on_match(match: durable.Match, group: RuleGroup = group) -> list[dict[str, Any]]:
            rule_id, matched = match
            if rule_id not in group.ids:
                raise CmlkbError(f"rule {rule_id} fired outside its rule group")
            rule, aliases, stratum, place = plans[rule_id]
            premises = tuple([matched[alias] for alias in aliases])
            bound = {}
            for alias, fid in zip(aliases, premises, strict=True):
                fact = by_fid.get(fid)
                bound[alias] = knowledge[fid] if fact is None else fact
            conclusions: list[FactRecord] = []
            firings.append(
                (Derivation(rule.id, rule.version, premises), conclusions, stratum, place)
            )
            new: list[dict[str, Any]] = []
            for parts in rule.compiled_conclusions:
                try:
                    fact = conclude(parts, bound)
                except KeyError as exc:
                    raise CmlkbError(
                        f"rule {rule.id}: conclusion refers to a missing field {exc}"
                    ) from exc
                key = frozenset(fact.items())
                record = by_content.get(key)
                if record is None:
                    fid = f"d{len(derived)}"
                    fact["fid"] = fid
                    record = FactRecord(fid, fact, "derived")
                    by_content[key] = record
                    by_fid[fid] = fact
                    derived.append(record)
                    new.extend(group.engine_facts(fact))
                conclusions.append(record)
            return new

        inputs = [f for r in case + derived for f in group.engine_facts(r.fact)]
        # a no-op once primed; primes a fresh state after a failed run dropped the old one
        durable.prime(group.ruleset, kb.digest, group.background)
        durable.run(
            group.ruleset,
            kb.digest,
            inputs,
            on_match,
            barriers=group.barriers,
        )

    own = _stratified_order(
        case, firings, len(compiled.rulebase.strata), compiled.knowledge_position
    )
    final = {r.fid: f"f{i}" for i, r in enumerate(own)}
    for record in own[len(case) :]:
        record.fid = record.fact["fid"] = final[record.fid]
        for d in record.derivations:
            d.premises = tuple(final.get(p, p) for p in d.premises)
    records = dict(compiled.knowledge)
    records.update((r.fid, r) for r in own)
    return Inference(records, rules, knowledge_by_kind=compiled.knowledge_by_kind, own=own)


__all__ = ["Derivation", "FactRecord", "Inference", "KnowledgeFact", "infer"]
