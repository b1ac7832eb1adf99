"""Fixtures of the rule suites. The case builder and the helpers that read what the rules
derived live in tests/casekit.py (imported by the test modules); this file gives them the shipped
knowledge base and checks that the builder's base case is valid."""

from __future__ import annotations

import pytest

from cmlkb.knowledge.base import KnowledgeBase
from tests.casekit import BASE, make_case


@pytest.fixture(scope="session")
def base_case(kb: KnowledgeBase) -> dict:
    """The builder's minimal case, validated (fails loudly if the base itself drifts out of
    the case schema)."""
    case = make_case(kb)
    assert case["id"] == BASE["id"]
    return case
