"""Patient-text tests use the rule suites' case kit (tests/rules/casekit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

RULES_TESTS = str(Path(__file__).resolve().parent.parent / "rules")
if RULES_TESTS not in sys.path:
    sys.path.insert(0, RULES_TESTS)
