"""The one module that imports durable-rules: it runs compiled rule strata to a fixpoint.

durable-rules 2.0.28 is unmaintained and has measured traps (shared/engine-notes C1, C6);
each is handled here:
- not thread-safe, lazy-init race (#2, #3): one Host per process, created once under a
  lock, and every call into it serialised by the same lock;
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
- rulesets immutable and never freed (#12): one ruleset per stratum, named by the digest
  of its compiled definition, registered once per process and reused;
- exceptions in actions swallowed (#13): actions only record matches; after each assert
  the state is checked for a stored exception and the run fails closed;
- background dispatch threads (#15, C6): the Host's timer threads are not started;
  pending actions are dispatched synchronously after each assert (`_drain`);
- identity of facts is content (#14): every fact carries a unique `fid`; a fact no rule
  of a stratum matches is refused by the engine (MessageNotHandledException) and skipped.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from durable import engine as _engine
from durable.engine import Host, MessageNotHandledException

from cmlkb.errors import CmlkbError

Fact = dict[str, Any]
Match = tuple[str, dict[str, Fact]]  # (rule id, alias -> matched fact)

_lock = threading.RLock()
_host: Host | None = None
_registered: set[str] = set()
_buffer: list[Match] = []
_state = {"sid": 1}
_primed: dict[tuple[str, str], str] = {}  # (ruleset, knowledge digest) -> state id
_runs: dict[tuple[str, str], int] = {}  # runs made in the primed state

# durable-rules' C engine keeps ~3.5 KB per run inside a state even when every fact of the
# run is retracted (Python heap flat, fact and state sizes constant: bench/REPORT.md). A
# state is therefore deleted and primed afresh after this many runs, which keeps memory
# flat (tests/engine/test_durable_adapter.py runs this at 100,000 runs).
RECYCLE_AFTER = 1000


class _QuietHost(Host):
    """A Host without the background dispatch threads (engine-notes C1 #15): they run
    pending actions at random moments on another thread, racing our own calls. Pending
    actions are dispatched here, synchronously, by `_drain`."""

    def _run(self) -> None:
        return None


def _get_host() -> Host:
    global _host
    with _lock:
        if _host is None:
            _host = _QuietHost()
        return _host


def _drain(ruleset_name: str) -> None:
    """Run every action the engine still holds for the ruleset (a negation satisfied
    later than its match, for instance), synchronously, in this thread."""
    rules = _get_host().get_ruleset(ruleset_name)
    errors: list[Any] = []

    def done(error: Any, _state: Any) -> None:
        if error:
            errors.append(error)

    while True:
        result = _engine.durable_rules_engine.start_action(rules._handle)
        if not result:
            break
        rules._flush_actions(
            json.loads(result[0]), {"message": json.loads(result[1])}, result[2], done
        )
    if errors:
        raise CmlkbError(f"a rule action failed: {errors[0]}")


def _recorder(rule_id: str) -> Callable[[Any], None]:
    def action(c: Any) -> None:
        # Only record: conclusions are built outside durable-rules, where errors surface.
        _buffer.append((rule_id, {alias: dict(fact) for alias, fact in c._m.items()}))

    return action


def register(definitions: dict[str, dict[str, Any]]) -> str:
    """Register a stratum (rule id -> compiled definition); return its ruleset name."""
    canonical = json.dumps(definitions, sort_keys=True)
    name = "cmlkb_" + hashlib.sha256(canonical.encode()).hexdigest()[:16]
    with _lock:
        if name not in _registered:
            host = _get_host()
            ruleset = {rid: dict(d, run=_recorder(rid)) for rid, d in definitions.items()}
            try:
                host.register_rulesets({name: ruleset})
            except Exception as exc:
                raise CmlkbError(f"the rule engine refused a stratum of rules: {exc}") from exc
            _registered.add(name)
    return name


def _check_value(fact: Fact) -> None:
    if float not in set(map(type, fact.values())):  # the common case, at C speed
        return
    for key, value in fact.items():
        if isinstance(value, float):
            raise CmlkbError(
                f"fact {fact.get('kind')}.{key} is a float ({value!r}); facts carry scaled "
                "integers only (rules/facts.yaml)"
            )


def _assert(host: Host, ruleset: str, fact: Fact, sid: str) -> Fact | None:
    """Assert one fact; None when no rule of the ruleset wants it."""
    _check_value(fact)
    fact = dict(fact, sid=sid)
    try:
        host.assert_fact(ruleset, fact)
    except MessageNotHandledException:
        return None  # no rule of this stratum matches the fact: nothing to do
    _drain(ruleset)
    return fact


def prime(ruleset: str, key: str, background: Iterable[Fact]) -> None:
    """Assert constant background facts (the knowledge) once, into an engine state kept
    for (ruleset, key): every later `run` with that key starts from them, so the
    knowledge is not sent through the engine again for each case. No rule may fire on
    background facts alone (the linter requires a case fact in every rule)."""
    with _lock:
        if (ruleset, key) in _primed:
            return
        host = _get_host()
        sid = str(_state["sid"])
        _state["sid"] += 1
        try:
            for fact in background:
                _assert(host, ruleset, fact, sid)
            if _buffer:
                fired = sorted({rule for rule, _ in _buffer})
                raise CmlkbError(
                    f"rules fired on knowledge alone, without a case fact: {', '.join(fired)}"
                )
        except CmlkbError:
            _buffer.clear()
            raise
        except Exception as exc:
            _buffer.clear()
            raise CmlkbError(f"the rule engine failed loading the knowledge: {exc}") from exc
        _primed[(ruleset, key)] = sid


def _recycle(host: Host, ruleset: str, key: str) -> None:
    """Delete a primed state (only ever one whose every run completed and was retracted);
    the next `prime` builds a fresh one."""
    sid = _primed.pop((ruleset, key))
    _runs.pop((ruleset, key), None)
    host.delete_state(ruleset, sid)


def run(
    ruleset: str,
    key: str,
    facts: Iterable[Fact],
    conclude: Callable[[Match], list[Fact]],
) -> None:
    """Assert `facts` into the state primed for (ruleset, key), and every fact `conclude`
    derives from a match, until nothing new fires (a fixpoint); then retract them all,
    leaving the state as primed. A run that fails discards the state: the next `prime`
    starts a fresh one, so a half-cleaned state is never reused."""
    with _lock:
        if (ruleset, key) not in _primed:
            raise CmlkbError(f"ruleset {ruleset} was not primed with its knowledge")
        host = _get_host()
        sid = _primed[(ruleset, key)]
        pending: deque[Fact] = deque(facts)
        asserted: list[Fact] = []
        try:
            while pending:
                fact = _assert(host, ruleset, pending.popleft(), sid)
                if fact is None:
                    continue
                asserted.append(fact)
                matches = list(_buffer)
                _buffer.clear()
                for match in matches:
                    pending.extend(conclude(match))
            state = host.get_state(ruleset, sid)
            if "exception" in state:
                raise CmlkbError(f"a rule action failed: {state['exception']}")
            for fact in asserted:
                host.retract_fact(ruleset, fact)
            # Retracting can satisfy a negation: such matches are artefacts of clean-up.
            _drain(ruleset)
            _buffer.clear()
            _runs[(ruleset, key)] = _runs.get((ruleset, key), 0) + 1
            if _runs[(ruleset, key)] >= RECYCLE_AFTER:
                _recycle(host, ruleset, key)
        except CmlkbError:
            _buffer.clear()
            _primed.pop((ruleset, key), None)
            _runs.pop((ruleset, key), None)
            raise
        except Exception as exc:
            _buffer.clear()
            _primed.pop((ruleset, key), None)
            _runs.pop((ruleset, key), None)
            raise CmlkbError(f"the rule engine failed: {exc}") from exc
