"""Fixtures of the validation tests: `kb`, the knowledge base cases are checked against
(see kb_fixture.py), and `cli_kb`, which makes the CLI use it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cmlkb.knowledge import KnowledgeBase

_spec = importlib.util.spec_from_file_location(
    "cmlkb_case_kb_fixture", Path(__file__).parent / "kb_fixture.py"
)
assert _spec and _spec.loader
kb_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kb_fixture)
EXAMPLES = kb_fixture.EXAMPLES


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return kb_fixture.case_kb(tmp_path_factory.mktemp("case-kb"))


@pytest.fixture()
def cli_kb(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    """Make `cmlkb validate` and `cmlkb vocab` use the test knowledge base."""
    monkeypatch.setattr("cmlkb.validation.load_knowledge", lambda: kb)
    monkeypatch.setattr("cmlkb.vocab.load_knowledge", lambda: kb)
    return kb
