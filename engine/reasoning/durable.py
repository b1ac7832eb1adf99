"""The one module that imports durable-rules: it runs compiled rulesets to a fixpoint.

It talks to durable-rules' C engine (`durable_rules_engine`) directly. The package's
Python layer (`durable.engine.Host`) is not used: per fact and per action it makes JSON
round trips, wraps each match in a `Closure` and rewrites the engine state after every
action (`update_state`), none of which we need, since our actions only record matches.

durable-rules 2.0.28 is unmaintained and has measured traps (shared/engine-notes C1, C6);
each is handled here:
- not thread-safe, lazy-init race (#2, #3): every call into the engine is serialised by
  one lock; no Host is created, so there is nothing to initialise lazily;
- at most 1,024 live states, `delete_state` can crash (#4, C6): one state per ruleset and
  knowledge digest, primed once with the knowledge facts and reused; after each run every
  fact the run asserted is retracted, so no state leaks between cases; a run that fails
  drops its state so a half-cleaned state is never reused; memory the C engine keeps per
  run is returned by deleting the state every RECYCLE_AFTER runs (only complete, primed
  states are deleted; proven at 100,000 runs by the slow tests);
- no truth maintenance (#7): each evaluation asserts its facts afresh and derived facts
  are kept in our own derivation records, not in engine memory;
- events consumed by the first rule (#8): only facts are used, never events;
- raw float comparisons, JSON rejects exponents (#9, #10): facts carry integers only
  (lab values are scaled integers, see rules/facts.yaml), checked before asserting;
- rulesets immutable and never freed (#12): one ruleset per group of strata, named by the
  digest of its compiled definition, registered once per process and reused;
- exceptions in actions swallowed (#13): durable-rules runs no action of ours; the
  matches are read from the engine (`start_action_for_state`) and concluded here, in the
  caller's thread, so an error surfaces at once and the run fails closed;
- background dispatch threads, `Host.assert_facts` losing actions (#15, C6): there is no
  Host, hence no timer thread; pending matches are read synchronously after each batch
  of facts, whatever the engine answered for the facts no rule matched;
- identity of facts is content (#14): every fact carries a unique `fid`, sent as the
  engine's message id; a fact the engine has already seen fails the run;
- a fact costs one comparison per kind of the ruleset (see KIND_PROPERTY): conditions
  test a property named after the kind instead;
- a negation is judged when a match completes and never revisited, and a fact bound in
  a match is not seen by the other conditions of that rule, negations included
  (tests/engine/test_durable_adapter.py): the reasoner makes a negation wait behind a
  gate (`barriers` of `run`; rules.negation_gates) and shows it copies of facts of a kind
  the same rule binds (rules.copied_kinds).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import durable_rules_engine as _engine

from cmlkb.errors import CmlkbError

Fact = dict[str, Any]
Match = tuple[str, dict[str, str]]  # (rule id, alias -> fid of the fact it matched)

_lock = threading.RLock()
_handles: dict[str, int] = {}  # ruleset name -> engine handle
_state = {"sid": 1}
_primed: dict[tuple[str, str], str] = {}  # (ruleset, knowledge digest) -> state id
_runs: dict[tuple[str, str], int] = {}  # runs made in the primed state

# durable-rules' C engine keeps memory per run inside a state even when every fact of the
# run is retracted (bench/REPORT.md). A state is therefore deleted and primed afresh after
# this many runs, which keeps memory flat (tests/engine/test_durable_adapter.py runs this
# at 100,000 runs).
RECYCLE_AFTER = 1000

# The engine's answers to an assert (rules.h): 1 = no rule wants some fact of the batch
# (it is not stored: nothing to do), 2 = a fact with this id is already in the state.
_OK, _NOT_HANDLED, _OBSERVED = 0, 1, 2


# durable-rules finds the tests a fact may pass through a table keyed by property name
# (32 buckets, linear probing: events.c handleAlpha): were every condition to test the
# property `kind`, each fact would be compared with every kind of the ruleset in turn.
# So each fact also carries a property named after its kind, and each condition's
# `{"kind": K}` becomes a test on that property.
KIND_PROPERTY = "@"


def _kind_test(expression: Any) -> Any:
    """`{"kind": K}` (alone or within an `$and`) as a test on the property `@K`."""
    if isinstance(expression, dict) and set(expression) == {"kind"}:
        return {KIND_PROPERTY + str(expression["kind"]): 1}
    if isinstance(expression, dict) and set(expression) == {"$and"}:
        return {"$and": [_kind_test(c) for c in expression["$and"]]}
    return expression


def _mentions_kind(value: Any, aliases: set[str]) -> bool:
    """Whether an expression still tests the field `kind` or refers to it ($a.kind)."""
    if isinstance(value, list):
        return any(_mentions_kind(v, aliases) for v in value)
    if not isinstance(value, dict):
        return False
    if "kind" in value or any(k in aliases and v == "kind" for k, v in value.items()):
        return True
    return any(_mentions_kind(v, aliases) for v in value.values())


def _engine_definitions(definitions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        rule: {
            **definition,
            "all": [
                {alias: _kind_test(expression) for alias, expression in term.items()}
                for term in definition["all"]
            ],
        }
        for rule, definition in definitions.items()
    }


def register(definitions: dict[str, dict[str, Any]]) -> str:
    """Register a ruleset (rule id -> compiled definition); return its name. A condition
    tests a fact's kind only as `{"kind": K}` (the engine does not see the field)."""
    engine = _engine_definitions(definitions)
    for rule, definition in engine.items():
        aliases = {alias for term in definition["all"] for alias in term}
        if _mentions_kind(definition["all"], aliases):
            raise CmlkbError(
                f"rule {rule} tests or refers to the field `kind` other than as {{kind: K}}; "
                "the rule engine does not see that field"
            )
    canonical = json.dumps(engine, sort_keys=True)
    name = "cmlkb_" + hashlib.sha256(canonical.encode()).hexdigest()[:16]
    with _lock:
        if name not in _handles:
            try:
                _handles[name] = _engine.create_ruleset(name, canonical)
            except Exception as exc:
                raise CmlkbError(f"the rule engine refused a group of rules: {exc}") from exc
    return name


def _check_value(fact: Fact) -> None:
    for key, value in fact.items():
        if isinstance(value, float):
            raise CmlkbError(
                f"fact {fact.get('kind')}.{key} is a float ({value!r}); facts carry scaled "
                "integers only (rules/facts.yaml)"
            )


def _assert(handle: int, facts: Sequence[Fact], sid: str) -> int:
    """Assert a batch of facts into state `sid`; return the state's offset (for reading
    its matches). Facts no rule wants are dropped by the engine."""
    sent = []
    for fact in facts:
        if float in set(map(type, fact.values())):  # the common case, at C speed
            _check_value(fact)
        # the engine's form: the fid as its message id, the kind as a property (see
        # KIND_PROPERTY), nothing else twice (every property costs the engine)
        message = fact.copy()
        message["id"] = message.pop("fid")
        message[KIND_PROPERTY + message.pop("kind")] = 1
        message["sid"] = sid
        sent.append(message)
    code, offset = _engine.assert_facts(handle, json.dumps(sent))
    if code == _OBSERVED:
        raise CmlkbError("a fact was asserted twice in one engine state (duplicate fid)")
    if code not in (_OK, _NOT_HANDLED):
        raise CmlkbError(f"the rule engine answered {code} to an assert")
    return int(offset)


def _retract(handle: int, facts: Sequence[Fact], sid: str) -> None:
    if facts:  # a retraction needs only the state and the message id
        _engine.retract_facts(handle, json.dumps([{"sid": sid, "id": f["fid"]} for f in facts]))


def _matches(handle: int, offset: int) -> list[Match]:
    """Every match the engine holds for the state, each taken off its agenda."""
    result = _engine.start_action_for_state(handle, offset)
    if not result:
        return []
    messages: list[str] = []
    message: str | None = result[1]
    try:
        while message:
            messages.append(message)
            message = _engine.complete_and_start_action(handle, offset)
    except BaseException:
        _engine.abandon_action(handle, offset)
        raise
    out: list[Match] = []
    for action in json.loads("[" + ",".join(messages) + "]"):  # one parse for them all
        if len(action) != 1:
            raise CmlkbError(f"the rule engine returned {len(action)} rules in one match")
        for rule, matched in action.items():
            out.append((rule, {alias: fact["id"] for alias, fact in matched.items()}))
    return out


def _fixpoint(
    handle: int,
    sid: str,
    batch: list[Fact],
    conclude: Callable[[Match], list[Fact]],
    asserted: list[Fact],
    offset: int,
) -> int:
    """Assert `batch`, then what `conclude` derives from the matches, until nothing new
    is derived; every fact asserted is added to `asserted`. Returns the state's offset."""
    while batch:
        offset = _assert(handle, batch, sid)
        asserted.extend(batch)
        batch = [new for match in _matches(handle, offset) for new in conclude(match)]
    return offset


def prime(ruleset: str, key: str, background: Iterable[Fact]) -> None:
    """Assert constant background facts (the knowledge) once, into an engine state kept
    for (ruleset, key): every later `run` with that key starts from them, so the
    knowledge is not sent through the engine again for each case. No rule may fire on
    background facts alone (the linter requires a case fact in every rule)."""
    with _lock:
        if (ruleset, key) in _primed:
            return
        handle = _handles[ruleset]
        sid = str(_state["sid"])
        _state["sid"] += 1
        facts = list(background)
        try:
            if facts:
                fired = _matches(handle, _assert(handle, facts, sid))
                if fired:
                    rules = ", ".join(sorted({rule for rule, _ in fired}))
                    raise CmlkbError(
                        f"rules fired on knowledge alone, without a case fact: {rules}"
                    )
        except CmlkbError:
            raise
        except Exception as exc:
            raise CmlkbError(f"the rule engine failed loading the knowledge: {exc}") from exc
        _primed[(ruleset, key)] = sid


def _recycle(handle: int, ruleset: str, key: str) -> None:
    """Delete a primed state (only ever one whose every run completed and was retracted);
    the next `prime` builds a fresh one."""
    sid = _primed.pop((ruleset, key))
    _runs.pop((ruleset, key), None)
    with contextlib.suppress(Exception):  # a state no fact reached does not exist there
        _engine.delete_state(handle, sid)


def run(
    ruleset: str,
    key: str,
    facts: Iterable[Fact],
    conclude: Callable[[Match], list[Fact]],
    barriers: Sequence[Fact] = (),
) -> None:
    """Assert `facts` into the state primed for (ruleset, key), and every fact `conclude`
    derives from a match, until nothing new fires (a fixpoint); then each of `barriers`
    in turn, each followed by its own fixpoint (a rule that matches a barrier cannot fire
    before it: see reasoner). Then retract them all, leaving the state as primed. A run
    that fails discards the state: the next `prime` starts a fresh one, so a half-cleaned
    state is never reused."""
    with _lock:
        if (ruleset, key) not in _primed:
            raise CmlkbError(f"ruleset {ruleset} was not primed with its knowledge")
        handle = _handles[ruleset]
        sid = _primed[(ruleset, key)]
        asserted: list[Fact] = []  # the case's facts and what was derived from them
        gates: list[Fact] = []  # the barriers
        offset = -1
        try:
            offset = _fixpoint(handle, sid, list(facts), conclude, asserted, offset)
            for barrier in barriers:
                offset = _assert(handle, [barrier], sid)
                gates.append(barrier)
                new = [f for match in _matches(handle, offset) for f in conclude(match)]
                offset = _fixpoint(handle, sid, new, conclude, asserted, offset)
            # barriers first: no rule waiting for one can match while the rest is retracted
            _retract(handle, gates, sid)
            _retract(handle, asserted, sid)
            # a retraction can satisfy a negation: such matches are artefacts of clean-up
            if offset >= 0:
                _matches(handle, offset)
            _runs[(ruleset, key)] = _runs.get((ruleset, key), 0) + 1
            if _runs[(ruleset, key)] >= RECYCLE_AFTER:
                _recycle(handle, ruleset, key)
        except CmlkbError:
            _primed.pop((ruleset, key), None)
            _runs.pop((ruleset, key), None)
            raise
        except Exception as exc:
            _primed.pop((ruleset, key), None)
            _runs.pop((ruleset, key), None)
            raise CmlkbError(f"the rule engine failed: {exc}") from exc
