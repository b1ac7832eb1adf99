"""Meta-test: every rule of rules/*.yaml has a test where it fires and one where it must
not, and every rule file has its suite (tests/rules/test_<file>.py).

The rule ids are read from the `assert_fires(...)`, `assert_not_fires(...)` and
`assert_no_conclusion(ev, rule, ...)` calls of the suites (by parsing their source, so the
check does not depend on test order); calls inside tests marked xfail do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.casekit import rule_ids

HERE = Path(__file__).resolve().parent


def covered_rule_ids() -> dict[str, str]:
    """Every rule of every rule file (none is exempt)."""
    return rule_ids()


POSITIVE = {"assert_fires"}
NEGATIVE = {"assert_not_fires", "assert_no_conclusion"}


def _is_xfail(node: ast.FunctionDef) -> bool:
    return any("xfail" in ast.unparse(d) for d in node.decorator_list)


def asserted() -> tuple[set[str], set[str]]:
    fires: set[str] = set()
    not_fires: set[str] = set()
    for path in sorted(HERE.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef) or _is_xfail(fn):
                continue
            for call in ast.walk(fn):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                    continue
                literals = [
                    a.value
                    for a in call.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if call.func.id in POSITIVE:
                    fires.update(literals)
                elif call.func.id == "assert_not_fires":
                    not_fires.update(literals)
                elif call.func.id in NEGATIVE:
                    not_fires.update(literals[:1])
    return fires, not_fires


def test_every_rule_has_a_fires_test():
    fires, _ = asserted()
    missing = sorted(set(covered_rule_ids()) - fires)
    assert not missing, f"rules with no test where they fire: {missing}"


def test_every_rule_has_a_must_not_fire_test():
    _, not_fires = asserted()
    missing = sorted(set(covered_rule_ids()) - not_fires)
    assert not missing, f"rules with no test where they must not fire: {missing}"


def test_asserted_rule_ids_exist():
    fires, not_fires = asserted()
    unknown = sorted((fires | not_fires) - set(rule_ids()))
    assert not unknown, f"tests name rules that no rule file defines: {unknown}"


def test_every_rule_file_has_a_suite():
    stems = set(covered_rule_ids().values())
    missing = sorted(s for s in stems if not (HERE / f"test_{s}.py").is_file())
    assert not missing, f"rule files without tests/rules/test_<file>.py: {missing}"
