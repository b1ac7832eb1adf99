"""Rule files: loading, linting, stratifying and compiling to durable-rules definitions.

A rule file (rules/*.yaml) holds declarative rules a knowledge engineer edits without
Python. Each rule has a stable id, a version, a title, the guideline it implements
(source, edition, section), conditions over facts (`when`) and conclusions (`then`).
Thresholds, mutation tables and drug facts are not written in rules: conditions join
case facts with knowledge facts (rules/facts.yaml declares both), so a guideline change
is a data change. The syntax is documented in rules/README.md.

Rules may use negation (`not:`). Because durable-rules has no truth maintenance
(engine-notes C1 #7), negation is made sound by stratification, as in Datalog: a rule
that negates a fact kind runs in a later stratum than every rule producing that kind.
The strata share one durable-rules ruleset: a rule with a negation waits for a gate fact
that the reasoner asserts once the strata below it have reached their fixpoint
(negation_gates); rules without negation need no gate.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlkb.case.facts import fact_schema_at
from cmlkb.errors import CmlkbError
from cmlkb.knowledge.base import rule_files
from cmlkb.knowledge.cache import cached
from cmlkb.knowledge.namespaces import SRC
from cmlkb.knowledge.yaml_files import YAMLError, read_yaml

REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
TEMPLATE_REF = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\}")
EXPRESSION = re.compile(
    r"^\$([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*([+-])\s*\$([A-Za-z_]\w*)\.([A-Za-z_]\w*)$"
)
OPERATORS = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
RULE_KEYS = {"id", "version", "title", "guideline", "when", "then", "description", "note"}
GUIDELINE_KEYS = {"source", "edition", "section"}
MAX_RULES_PER_RULESET = 500  # durable-rules fails at 512 (engine-notes C1 #6)


@dataclass(frozen=True)
class Ref:
    """A reference to a field of a fact bound earlier in the same rule: `$alias.field`."""

    alias: str
    field: str


@dataclass(frozen=True)
class Sum:
    """`$a.x + $b.y` or `$a.x - $b.y`: arithmetic over two references (integers)."""

    left: Ref
    op: str
    right: Ref


@dataclass(frozen=True)
class Test:
    field: str
    op: str  # one of OPERATORS keys, or "in"
    value: Any  # literal, Ref, Sum, or a list of literals for "in"


@dataclass(frozen=True)
class Condition:
    alias: str | None  # None for a negated condition
    kind: str
    tests: tuple[Test, ...]
    negated: bool = False


@dataclass
class Rule:
    id: str
    version: str
    title: str
    guideline: dict[str, str]
    conditions: list[Condition]
    conclusions: list[dict[str, Any]]
    file: str
    description: str = ""
    stratum: int = 0

    @functools.cached_property
    def aliases(self) -> tuple[str, ...]:
        """The names of the facts a match binds, in condition order (its premises)."""
        return tuple(c.alias for c in self.conditions if c.alias)

    @functools.cached_property
    def compiled_conclusions(self) -> list[list[tuple[str, int, Any, Any]]]:
        """The conclusions as `conclude` evaluates them (compile_conclusion)."""
        return [compile_conclusion(c) for c in self.conclusions]

    @property
    def produces(self) -> set[str]:
        return {c["kind"] for c in self.conclusions}

    @property
    def consumes(self) -> set[str]:
        return {c.kind for c in self.conditions if not c.negated}

    @property
    def negates(self) -> set[str]:
        return {c.kind for c in self.conditions if c.negated}


@dataclass
class RuleProblem:
    """A mistake in a rule file, named by file and rule id, with what to fix."""

    file: str
    rule: str
    message: str
    severity: str = "violation"

    def __str__(self) -> str:
        return f"{self.file}: rule {self.rule}: {self.message}"


@dataclass
class RuleBase:
    rules: list[Rule]
    strata: list[list[Rule]] = field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


# --------------------------------------------------------------------------- parsing


def parse_value(raw: Any) -> Any:
    if isinstance(raw, str):
        m = REF.match(raw.strip())
        if m:
            return Ref(m.group(1), m.group(2))
        m = EXPRESSION.match(raw.strip())
        if m:
            return Sum(Ref(m.group(1), m.group(2)), m.group(3), Ref(m.group(4), m.group(5)))
    return raw


def parse_pattern(raw: Any, where: str) -> tuple[str, tuple[Test, ...]]:
    if not isinstance(raw, dict) or "kind" not in raw:
        raise ValueError(f"{where}: a condition is a mapping with a 'kind'")
    kind = raw["kind"]
    if not isinstance(kind, str):
        raise ValueError(f"{where}: 'kind' must be a fact kind name")
    tests: list[Test] = []
    for name, spec in raw.items():
        if name == "kind":
            continue
        if isinstance(spec, dict):
            for op, value in spec.items():
                if op == "in":
                    if not isinstance(value, list) or not value:
                        raise ValueError(f"{where}: '{name}: in:' takes a non-empty list")
                    tests.append(Test(name, "in", tuple(value)))
                elif op in OPERATORS:
                    tests.append(Test(name, op, parse_value(value)))
                else:
                    raise ValueError(
                        f"{where}: unknown operator '{op}' on field '{name}' "
                        f"(use one of {', '.join([*OPERATORS, 'in'])})"
                    )
        else:
            tests.append(Test(name, "eq", parse_value(spec)))
    return kind, tuple(tests)


def parse_rule(raw: Any, file: str) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError("each rule is a mapping")
    rid = raw.get("id", "?")
    where = f"rule {rid}"
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(RULE_KEYS)})")
    for key in ("id", "version", "title", "guideline", "when", "then"):
        if key not in raw:
            raise ValueError(f"{where}: missing '{key}'")
    guideline = raw["guideline"]
    if not isinstance(guideline, dict) or not set(guideline) >= GUIDELINE_KEYS:
        raise ValueError(f"{where}: 'guideline' needs source, edition and section")
    conditions: list[Condition] = []
    when = raw["when"]
    if not isinstance(when, list) or not when:
        raise ValueError(f"{where}: 'when' is a non-empty list of conditions")
    for item in when:
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(f"{where}: each condition is '- alias: {{kind: ..., ...}}'")
        alias, pattern = next(iter(item.items()))
        kind, tests = parse_pattern(pattern, f"{where}, condition {alias}")
        if alias == "not":
            conditions.append(Condition(None, kind, tests, negated=True))
        else:
            conditions.append(Condition(str(alias), kind, tests))
    then = raw["then"]
    conclusions = then if isinstance(then, list) else [then]
    for c in conclusions:
        if not isinstance(c, dict) or not isinstance(c.get("kind"), str):
            raise ValueError(f"{where}: each conclusion is a mapping with a 'kind'")
    return Rule(
        id=str(rid),
        version=str(raw["version"]),
        title=str(raw["title"]),
        guideline={k: str(v) for k, v in guideline.items()},
        conditions=conditions,
        conclusions=[dict(c) for c in conclusions],
        file=file,
        description=str(raw.get("description", "")),
    )


def load_rule_files(files: list[Path]) -> tuple[list[Rule], list[RuleProblem]]:
    """Parse rule files; syntax problems are returned, not raised, so `check` lists all."""
    rules: list[Rule] = []
    problems: list[RuleProblem] = []
    for path in files:
        name = path.name
        try:
            doc = read_yaml(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            problems.append(RuleProblem(name, "-", f"not valid YAML: {exc}"))
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
            problems.append(RuleProblem(name, "-", "a rule file is a mapping with a 'rules' list"))
            continue
        for raw in doc["rules"]:
            try:
                rules.append(parse_rule(raw, name))
            except ValueError as exc:
                rid = raw.get("id", "?") if isinstance(raw, dict) else "?"
                problems.append(RuleProblem(name, str(rid), str(exc)))
    return rules, problems


# --------------------------------------------------------------------------- strata


def stratify(rules: list[Rule], base_kinds: set[str]) -> list[list[Rule]]:
    """Assign each rule the lowest stratum such that it runs after every producer of a
    kind it consumes, and strictly after every producer of a kind it negates. Raises
    CmlkbError on a cycle through negation (the rules would have no stable meaning)."""
    producers: dict[str, list[Rule]] = {}
    for r in rules:
        for k in r.produces:
            producers.setdefault(k, []).append(r)
    stratum = {r.id: 0 for r in rules}
    limit = len(rules) + 1
    for _ in range(limit + 1):
        changed = False
        for r in rules:
            need = 0
            for k in r.consumes:
                for p in producers.get(k, []):
                    need = max(need, stratum[p.id])
            for k in r.negates:
                for p in producers.get(k, []):
                    need = max(need, stratum[p.id] + 1)
            if need > stratum[r.id]:
                if need > limit:
                    raise CmlkbError(
                        f"rule {r.id}: negation cycle: it negates a fact kind that depends "
                        "on its own conclusions; split the rule or remove the negation"
                    )
                stratum[r.id] = need
                changed = True
        if not changed:
            break
    for r in rules:
        r.stratum = stratum[r.id]
    count = max(stratum.values(), default=-1) + 1
    return [[r for r in rules if r.stratum == s] for s in range(count)]


# --------------------------------------------------------------------------- compiling


def _ref_definition(ref: Ref) -> dict[str, str]:
    return {ref.alias: ref.field}


def _value_definition(value: Any) -> Any:
    if isinstance(value, Ref):
        return _ref_definition(value)
    if isinstance(value, Sum):
        op = "$add" if value.op == "+" else "$sub"
        return {op: {"$l": _ref_definition(value.left), "$r": _ref_definition(value.right)}}
    return value


def _test_definition(test: Test) -> dict[str, Any]:
    if test.op == "in":
        return {"$or": [{test.field: v} for v in test.value]}
    if test.op == "eq" and not isinstance(test.value, Ref | Sum):
        return {test.field: test.value}
    if test.op == "eq":
        return {test.field: _value_definition(test.value)}
    return {OPERATORS[test.op]: {test.field: _value_definition(test.value)}}


# A gate: a fact the reasoner asserts once every fact a negation may look at is known.
STRATUM_GATE = "@stratum"  # its kind and the alias of its condition (reserved: '@')


def gate_fact(level: int) -> dict[str, Any]:
    """The gate of `level`: asserted after the fixpoint of every stratum below `level`."""
    return {"kind": STRATUM_GATE, "level": level, "fid": f"{STRATUM_GATE}{level}"}


def negation_gates(rules: list[Rule]) -> dict[str, int]:
    """Rule id -> the gate each rule with a negation waits for (rules stratified).

    durable-rules evaluates a negation when the positive facts of a match arrive and never
    takes a match back, so a negation must not be evaluated before every fact of the kind
    it negates is known. A rule with a negation therefore has the gate of level L as its
    first condition, L being one above the highest stratum that produces a negated kind (0
    when the kinds are input kinds); the reasoner asserts gate L after the fixpoint of
    the strata below L. Rules without negation need no gate: they are monotone, and
    firing as soon as their input is there derives the same facts. Strata thus share one
    ruleset and one engine state; only a negation waits."""
    produced_at: dict[str, int] = {}
    for r in rules:
        for kind in r.produces:
            produced_at[kind] = max(produced_at.get(kind, -1), r.stratum)
    return {
        r.id: 1 + max(produced_at.get(kind, -1) for kind in r.negates) for r in rules if r.negates
    }


def negated_kind(kind: str) -> str:
    """The kind under which copies of facts are shown to the negations of `kind` that
    `copied_kinds` names."""
    return kind + "@negated"


def copied_kinds(rules: list[Rule]) -> set[str]:
    """Kinds a rule both binds and negates. durable-rules does not let a fact already
    bound in a match satisfy another condition of the same rule, negations included
    (tests/engine/test_durable_adapter.py), so such a negation would not see the fact
    the rule bound (`not: {kind: dose, daily: {lte: $t.current_daily}}` beside `s:
    {kind: dose}`). Negations of these kinds look at copies of their facts instead."""
    return {kind for r in rules for kind in r.negates & r.consumes}


def compile_rule(
    rule: Rule, gate: int | None = None, copied: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The durable-rules JSON definition of one rule (without its action); `gate`: the
    level of the gate it waits for (negation_gates); `copied`: the kinds whose negations
    look at copies (copied_kinds)."""
    terms: list[dict[str, Any]] = []
    if gate is not None:
        terms.append({STRATUM_GATE: {"$and": [{"kind": STRATUM_GATE}, {"level": gate}]}})
    for i, cond in enumerate(rule.conditions):
        kind = negated_kind(cond.kind) if cond.negated and cond.kind in copied else cond.kind
        # durable-rules ignores a comparison with another fact placed after an `$or` in
        # the same `$and` (tests/engine/test_durable_adapter.py): `in` tests go last.
        tests = sorted(cond.tests, key=lambda t: t.op == "in")
        clauses = [{"kind": kind}] + [_test_definition(t) for t in tests]
        expr = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        name = f"n{i}$not" if cond.negated or cond.alias is None else cond.alias
        terms.append({name: expr})
    return {"all": terms}


def resolve(value: Any, bound: dict[str, dict[str, Any]]) -> Any:
    """Evaluate a conclusion value against the facts a rule matched."""
    if isinstance(value, str):
        m = REF.match(value.strip())
        if m:
            return bound[m.group(1)][m.group(2)]
        if "{$" in value:
            return TEMPLATE_REF.sub(lambda t: str(bound[t.group(1)][t.group(2)]), value)
        return value
    if isinstance(value, list):
        return [resolve(v, bound) for v in value]
    return value


# How each value of a conclusion is made (compile_conclusion): as written, a field of a
# matched fact, a text with fields of matched facts, or anything else through `resolve`.
_LITERAL, _FIELD, _TEXT, _RESOLVE = range(4)


def compile_conclusion(template: dict[str, Any]) -> list[tuple[str, int, Any, Any]]:
    """A conclusion template as plain data that `conclude` evaluates without parsing it
    again; the result is the same as resolving each value (`resolve`)."""
    parts: list[tuple[str, int, Any, Any]] = []
    for key, value in template.items():
        if isinstance(value, str):
            m = REF.match(value.strip())
            if m:
                parts.append((key, _FIELD, m.group(1), m.group(2)))
            elif "{$" in value:
                pieces = TEMPLATE_REF.split(value)  # text, alias, field, text, ...
                refs = [(pieces[i], pieces[i + 1]) for i in range(1, len(pieces), 3)]
                parts.append((key, _TEXT, pieces[0::3], refs))
            else:
                parts.append((key, _LITERAL, value, None))
        elif isinstance(value, list):
            parts.append((key, _RESOLVE, value, None))
        else:
            parts.append((key, _LITERAL, value, None))
    return parts


def conclude(
    parts: list[tuple[str, int, Any, Any]], bound: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The fact a compiled conclusion (compile_conclusion) makes from the matched facts;
    KeyError names a field a matched fact does not have."""
    out: dict[str, Any] = {}
    for key, how, a, b in parts:
        if how == _LITERAL:
            out[key] = a
        elif how == _FIELD:
            out[key] = bound[a][b]
        elif how == _TEXT:
            text = [a[0]]
            for (alias, name), tail in zip(b, a[1:], strict=True):
                text.append(str(bound[alias][name]))
                text.append(tail)
            out[key] = "".join(text)
        else:
            out[key] = resolve(a, bound)
    return out


# --------------------------------------------------------------------------- lint


def _kind_fields(schema: Any, rules: list[Rule]) -> dict[str, set[str]]:
    """Declared fields of every fact kind: case and knowledge kinds from rules/facts.yaml,
    derived kinds from facts.yaml `derived` (or, failing that, from their conclusions)."""
    fields: dict[str, set[str]] = {}
    for section in (schema.case_kinds, schema.knowledge_kinds, schema.derived_kinds):
        for kind, spec in section.items():
            fields[kind] = set((spec or {}).get("fields", {})) | {"kind", "fid"}
    for r in rules:
        for c in r.conclusions:
            fields.setdefault(c["kind"], {"kind", "fid"}).update(c)
    return fields


def lint(rules: list[Rule], schema: Any, source_iris: set[str]) -> list[RuleProblem]:
    """Mistakes a knowledge engineer can make in rule files, each named with its fix."""
    problems: list[RuleProblem] = []
    seen: dict[str, str] = {}
    fields = _kind_fields(schema, rules)
    produced = {k for r in rules for k in r.produces}
    base = set(schema.case_kinds) | set(schema.knowledge_kinds)
    for r in rules:

        def problem(message: str, r: Rule = r, severity: str = "violation") -> None:
            problems.append(RuleProblem(r.file, r.id, message, severity))

        if r.id in seen:
            problem(f"duplicate rule id (also in {seen[r.id]}); ids are stable and unique")
        seen[r.id] = r.file
        if not re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", r.id):
            problem("rule ids are lower-case words joined by hyphens")
        src = r.guideline.get("source", "")
        if src not in source_iris:
            problem(
                f"guideline source '{src}' is not a cml:Source of the knowledge base; "
                "cite one declared in ontology/knowledge/sources.ttl (e.g. src:hochhaus-2020)"
            )
        for k in r.produces:
            if k in base:
                problem(f"concludes '{k}', which is an input fact kind; conclude a new kind")
        if r.consumes and r.consumes <= set(schema.knowledge_kinds):
            problem(
                "every condition is on knowledge facts: add a condition on a case fact (for "
                "instance `- c: {kind: case}`); knowledge is loaded once per process, so a "
                "rule needs a fact of the case to fire for it"
            )
        if r.produces & r.consumes:
            problem(
                f"consumes and concludes the same kind {sorted(r.produces & r.consumes)}; "
                "a rule may not feed on its own conclusions"
            )
        bound: dict[str, str] = {}
        for cond in r.conditions:
            label = cond.alias or "not"
            if cond.kind not in base and cond.kind not in produced:
                problem(
                    f"condition '{label}' uses fact kind '{cond.kind}', which no rule concludes "
                    "and rules/facts.yaml does not declare"
                )
            known = fields.get(cond.kind, set())
            for t in cond.tests:
                if known and t.field not in known:
                    problem(
                        f"condition '{label}': kind '{cond.kind}' has no field '{t.field}' "
                        f"(fields: {', '.join(sorted(known - {'kind', 'fid'}))})"
                    )
                for ref in _refs(t.value):
                    if ref.alias not in bound:
                        problem(
                            f"condition '{label}' refers to ${ref.alias}.{ref.field} before "
                            f"'{ref.alias}' is bound; bind it in an earlier condition"
                        )
                    elif fields.get(bound[ref.alias]) and ref.field not in fields[bound[ref.alias]]:
                        problem(
                            f"${ref.alias}.{ref.field}: kind '{bound[ref.alias]}' has no "
                            f"field '{ref.field}'"
                        )
                literal_numbers = [
                    v
                    for v in (t.value if t.op == "in" else (t.value,))
                    if isinstance(v, int | float) and not isinstance(v, bool) and v not in (-1, 0)
                ]
                if literal_numbers:
                    problem(
                        f"condition '{label}' compares '{t.field}' with the number "
                        f"{literal_numbers[0]}; thresholds belong in the knowledge base, joined "
                        "as a knowledge fact"
                    )
            if cond.alias:
                bound[cond.alias] = cond.kind
        for c in r.conclusions:
            for value in c.values():
                for ref in _conclusion_refs(value):
                    if ref.alias not in bound:
                        problem(
                            f"conclusion refers to ${ref.alias}.{ref.field}, not bound in 'when'"
                        )
                    elif fields.get(bound[ref.alias]) and ref.field not in fields[bound[ref.alias]]:
                        problem(f"conclusion: kind '{bound[ref.alias]}' has no field '{ref.field}'")
            declared = schema.derived_kinds.get(c["kind"])
            if declared is not None:
                wanted = set((declared or {}).get("fields", {}))
                missing, extra = wanted - set(c), set(c) - wanted - {"kind"}
                if missing or extra:
                    problem(
                        f"conclusion of kind '{c['kind']}' must have the fields declared in "
                        f"rules/facts.yaml; missing {sorted(missing)}, unexpected {sorted(extra)}"
                    )
    sizes: dict[int, int] = {}
    for r in rules:
        sizes[r.stratum] = sizes.get(r.stratum, 0) + 1
    for s, n in sizes.items():
        if n > MAX_RULES_PER_RULESET:
            problems.append(
                RuleProblem(
                    "-",
                    "-",
                    f"stratum {s} has {n} rules; durable-rules "
                    f"fails above {MAX_RULES_PER_RULESET}: make rules generic",
                )
            )
    return problems


def _refs(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Sum):
        return [value.left, value.right]
    return []


def _conclusion_refs(value: Any) -> list[Ref]:
    if isinstance(value, str):
        m = REF.match(value.strip())
        if m:
            return [Ref(m.group(1), m.group(2))]
        return [Ref(a, f) for a, f in TEMPLATE_REF.findall(value)]
    if isinstance(value, list):
        return [r for v in value for r in _conclusion_refs(v)]
    return []


def source_iris(kb: Any) -> set[str]:
    """Declared sources as 'src:<name>' strings."""

    rows = kb.select("engine/sources")
    return {"src:" + r["s"][len(str(SRC)) :] for r in rows if r["s"].startswith(str(SRC))}


def lint_rules(kb: Any) -> list[RuleProblem]:
    """Every problem in the rule files of `kb` (syntax, references, strata, style)."""

    schema = fact_schema_at(kb.root)
    rules, problems = load_rule_files(rule_files(kb.root))
    try:
        stratify(rules, set(schema.case_kinds) | set(schema.knowledge_kinds))
    except CmlkbError as exc:
        problems.append(RuleProblem("-", "-", str(exc)))
    return problems + lint(rules, schema, source_iris(kb))


def load_rulebase(kb: Any) -> RuleBase:
    """The rule base of `kb`, stratified; raises CmlkbError naming every violation. Kept
    in the disk cache of `kb`, if it has one (only a rule base without violations is)."""
    return cached(kb, "rules", lambda: _load_rulebase(kb), _encode_rulebase, _decode_rulebase)


def _load_rulebase(kb: Any) -> RuleBase:

    schema = fact_schema_at(kb.root)
    rules, problems = load_rule_files(rule_files(kb.root))
    strata = stratify(rules, set(schema.case_kinds) | set(schema.knowledge_kinds))
    problems += lint(rules, schema, source_iris(kb))
    violations = [p for p in problems if p.severity == "violation"]
    if violations:
        listed = "\n  ".join(str(p) for p in violations[:20])
        raise CmlkbError(
            f"the rule files have {len(violations)} problem(s); run `cmlkb check`:\n  {listed}"
        )
    return RuleBase(rules, strata)


# --------------------------------------------------------------------------- cache


def _encode_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": [value.alias, value.field]}
    if isinstance(value, Sum):
        return {"$sum": [_encode_value(value.left), value.op, _encode_value(value.right)]}
    if isinstance(value, tuple):
        return {"$tuple": list(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "$ref" in value:
        return Ref(*value["$ref"])
    if isinstance(value, dict) and "$sum" in value:
        left, op, right = value["$sum"]
        return Sum(_decode_value(left), op, _decode_value(right))
    if isinstance(value, dict) and "$tuple" in value:
        return tuple(value["$tuple"])
    return value


def _encode_rulebase(rulebase: RuleBase) -> dict[str, Any]:
    """The rule base as JSON data (cmlkb.knowledge.cache); _decode_rulebase reverses it."""
    return {
        "rules": [
            {
                "id": r.id,
                "version": r.version,
                "title": r.title,
                "guideline": r.guideline,
                "conditions": [
                    [
                        c.alias,
                        c.kind,
                        c.negated,
                        [[t.field, t.op, _encode_value(t.value)] for t in c.tests],
                    ]
                    for c in r.conditions
                ],
                "conclusions": r.conclusions,
                "file": r.file,
                "description": r.description,
                "stratum": r.stratum,
            }
            for r in rulebase.rules
        ],
        "strata": [[r.id for r in stratum] for stratum in rulebase.strata],
    }


def _decode_rulebase(data: dict[str, Any]) -> RuleBase:
    rules = [
        Rule(
            id=r["id"],
            version=r["version"],
            title=r["title"],
            guideline=r["guideline"],
            conditions=[
                Condition(
                    alias,
                    kind,
                    tuple(Test(name, op, _decode_value(value)) for name, op, value in tests),
                    negated,
                )
                for alias, kind, negated, tests in r["conditions"]
            ],
            conclusions=r["conclusions"],
            file=r["file"],
            description=r["description"],
            stratum=r["stratum"],
        )
        for r in data["rules"]
    ]
    by_id = {r.id: r for r in rules}
    return RuleBase(rules, [[by_id[rid] for rid in stratum] for stratum in data["strata"]])
