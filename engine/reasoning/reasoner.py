"""The reasoner: case facts and knowledge facts through the rule strata to a fixpoint,
recording for every derived fact the rule that derived it and the facts it used.

Derived facts are kept here, not in engine memory (durable-rules has no truth
maintenance): each evaluation starts from an empty engine state. A conclusion derived
twice from different premises is one fact with two derivations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlkb.case.facts import CaseFact
from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.reasoning import durable
from cmlkb.reasoning.knowledge_facts import KnowledgeFact, knowledge_facts
from cmlkb.reasoning.rules import (
    Ref,
    Rule,
    RuleBase,
    Sum,
    Test,
    compile_rule,
    load_rulebase,
    negated_kind,
    resolve,
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
    _by_kind: dict[str, list[FactRecord]] = field(default_factory=dict, repr=False)

    def of_kind(self, kind: str) -> list[FactRecord]:
        if not self._by_kind:
            for r in self.records.values():
                self._by_kind.setdefault(r.kind, []).append(r)
        return self._by_kind.get(kind, [])

    def derived(self) -> list[FactRecord]:
        return [r for r in self.records.values() if r.origin == "derived"]

    def fired_rules(self) -> set[str]:
        return {d.rule_id for r in self.derived() for d in r.derivations}


def _content_key(fact: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, v) for k, v in fact.items() if k != "fid"))


@dataclass
class Stratum:
    """One stratum of rules, registered as one durable-rules ruleset and primed with the
    knowledge facts its rules use."""

    ruleset: str
    rules: list[Rule]
    consumed: set[str]
    negated: set[str]
    background: list[dict[str, Any]] = field(default_factory=list)
    # kind -> the literal tests of each condition on that kind (positive / negated)
    literal_tests: dict[str, list[list[Test]]] = field(default_factory=dict)
    negated_literal_tests: dict[str, list[list[Test]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {r.id for r in self.rules}

    def wants(self, fact: dict[str, Any], negated: bool = False) -> bool:
        """Whether some condition of the stratum could match the fact: a fact failing the
        literal tests of every condition on its kind is not sent to the engine."""
        tests = (self.negated_literal_tests if negated else self.literal_tests).get(
            fact["kind"], []
        )
        return any(all(_passes(fact, t) for t in condition) for condition in tests)


def _passes(fact: dict[str, Any], test: Test) -> bool:
    value = fact.get(test.field)
    return value in test.value if test.op == "in" else value == test.value


def _literal_tests(rules: list[Rule], negated: bool) -> dict[str, list[list[Test]]]:
    out: dict[str, list[list[Test]]] = {}
    for rule in rules:
        for cond in rule.conditions:
            if cond.negated != negated:
                continue
            literal = [
                t
                for t in cond.tests
                if t.op == "in" or (t.op == "eq" and not isinstance(t.value, Ref | Sum))
            ]
            out.setdefault(cond.kind, []).append(literal)
    return out


@dataclass
class CompiledRules:
    """The rule base in strata, and the knowledge as fact records shared by every
    evaluation with this knowledge digest (read-only)."""

    rulebase: RuleBase
    strata: list[Stratum]
    knowledge: dict[str, FactRecord]


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
    strata = []
    for rules in rulebase.strata:
        definitions = {r.id: compile_rule(r) for r in rules}
        stratum = Stratum(
            durable.register(definitions),
            rules,
            consumed=set().union(*(r.consumes for r in rules)),
            negated=set().union(*(r.negates for r in rules)),
            literal_tests=_literal_tests(rules, negated=False),
            negated_literal_tests=_literal_tests(rules, negated=True),
        )
        stratum.background = [
            dict(r.fact, kind=negated_kind(r.kind))
            for r in knowledge.values()
            if r.kind in stratum.negated
        ] + [r.fact for r in knowledge.values() if r.kind in stratum.consumed]
        durable.prime(stratum.ruleset, kb.digest, stratum.background)
        strata.append(stratum)
    _compiled[kb.digest] = CompiledRules(rulebase, strata, knowledge)
    return _compiled[kb.digest]


def infer(kb: KnowledgeBase, facts: list[CaseFact]) -> Inference:
    """Run every stratum over the case facts, joined with the knowledge facts the strata
    were primed with."""
    compiled = compiled_rules(kb)
    rules = compiled.rulebase.by_id()
    records: dict[str, FactRecord] = dict(compiled.knowledge)
    own: list[FactRecord] = []  # the case's facts and what was derived from them
    by_content: dict[tuple[Any, ...], str] = {}

    def add(fact: dict[str, Any], origin: str, path: str = "") -> FactRecord:
        fid = f"f{len(own)}"
        fact = dict(fact, fid=fid)
        record = FactRecord(fid, fact, origin, path)
        records[fid] = record
        own.append(record)
        by_content[_content_key(fact)] = fid
        return record

    for cf in facts:
        add(cf.fact, "case", path=cf.path)

    for stratum in compiled.strata:

        def conclude(match: durable.Match, stratum: Stratum = stratum) -> list[dict[str, Any]]:
            rule_id, bound = match
            if rule_id not in stratum.ids:
                raise CmlkbError(f"rule {rule_id} fired outside its stratum")
            rule = rules[rule_id]
            premises = tuple(bound[c.alias]["fid"] for c in rule.conditions if c.alias)
            derivation = Derivation(rule.id, rule.version, premises)
            new: list[dict[str, Any]] = []
            for template in rule.conclusions:
                try:
                    fact = {k: resolve(v, bound) for k, v in template.items()}
                except KeyError as exc:
                    raise CmlkbError(
                        f"rule {rule.id}: conclusion refers to a missing field {exc}"
                    ) from exc
                key = _content_key(fact)
                if key in by_content:
                    records[by_content[key]].derivations.append(derivation)
                    continue
                record = add(fact, "derived")
                record.derivations.append(derivation)
                if record.kind in stratum.consumed and stratum.wants(record.fact):
                    new.append(record.fact)
            return new

        current = list(own)
        inputs = [
            dict(r.fact, kind=negated_kind(r.kind))
            for r in current
            if r.kind in stratum.negated and stratum.wants(r.fact, negated=True)
        ]
        inputs += [r.fact for r in current if r.kind in stratum.consumed and stratum.wants(r.fact)]
        # a no-op once primed; primes a fresh state after a failed run dropped the old one
        durable.prime(stratum.ruleset, kb.digest, stratum.background)
        durable.run(stratum.ruleset, kb.digest, inputs, conclude)
    return Inference(records, rules)


__all__ = ["Derivation", "FactRecord", "Inference", "KnowledgeFact", "infer"]
