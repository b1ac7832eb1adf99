"""Replay and impact read everything from an explicit knowledge root: the stored one, or
the one the command line chose. The environment is neither read for the knowledge nor
changed (issue 10): a stored evaluation made with a changed copy of the knowledge replays
identically with CMLKB_HOME unset, after the copy itself is gone, while os.environ refuses
every write; impact with today's knowledge shows what the copy's facts.yaml changed."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cmlkb.interfaces.audit import evaluate_again
from cmlkb.interfaces.cli import knowledge_root, main
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from cmlkb.knowledge.paths import default_root
from cmlkb.pipeline import evaluate_case, selection_for, validated_cases
from cmlkb.provenance.audit import impact, replay
from cmlkb.provenance.store import open_store

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
CASE = ROOT / "examples" / "cases" / "09-dasatinib-v299l-no-escalation.json"


def changed_copy(target: Path) -> Path:
    """The knowledge with months scaled x 1 instead of x 100 in rules/facts.yaml: months
    on therapy are rounded up to whole months, so 12.1 months counts as 13 (past the NCCN
    12-month milestone). Only facts.yaml changes: the Turtle is the shipped one."""
    for folder in ("ontology", "rules", "queries"):
        shutil.copytree(ROOT / folder, target / folder)
    facts = target / "rules" / "facts.yaml"
    text, count = re.subn(
        r"^  months: 100 .*$", "  months: 1  # test copy", facts.read_text(), flags=re.M
    )
    assert count == 1
    facts.write_text(text, encoding="utf-8")
    return target


def evaluate(kb: KnowledgeBase) -> Any:
    case = validated_cases([CASE], kb)[0]
    return evaluate_case(case, kb, selection_for(kb))


@contextmanager
def environment_guard() -> Iterator[list[str]]:
    """For the duration: os.environ refuses every write; yields the keys read from it."""
    read: list[str] = []
    environ_type = type(os.environ)
    original = environ_type.__getitem__

    def getitem(env: Any, key: str) -> Any:
        read.append(key)
        return original(env, key)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"os.environ was modified: {args[1:]!r}")

    patches = {
        (environ_type, "__getitem__"): getitem,
        (environ_type, "__setitem__"): refuse,
        (environ_type, "__delitem__"): refuse,
        (os, "putenv"): refuse,
        (os, "unsetenv"): refuse,
    }
    saved = {(owner, name): getattr(owner, name) for owner, name in patches}
    before = dict(os.environ)
    try:
        for (owner, name), value in patches.items():
            setattr(owner, name, value)
        yield read
    finally:
        for (owner, name), value in saved.items():
            setattr(owner, name, value)
    assert dict(os.environ) == before


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    """A store holding one evaluation made with the changed copy, and the copy removed."""
    base = tmp_path_factory.mktemp("replay-root")
    copy = changed_copy(base / "kb")
    kb = load_knowledge_from(copy)
    evaluation = evaluate(kb)
    with open_store(base / "store") as store:
        store.add(evaluation, kb)
    shutil.rmtree(copy)
    return base / "store", evaluation.evaluation_id, evaluation.result


def test_the_copy_answers_differently_from_the_checkout(kb, stored) -> None:
    _, _, result = stored
    today = evaluate(kb).result
    assert today["response"]["nccn"] == "orange"
    assert today["response"]["months_on_current_therapy"] == 12.1
    # the copy's scale is used for the facts and for the reported months alike
    assert result["response"]["nccn"] is None
    assert result["response"]["months_on_current_therapy"] == 13.0


def test_replay_uses_the_stored_root_without_the_environment(stored, monkeypatch) -> None:
    path, ident, _ = stored
    monkeypatch.delenv("CMLKB_HOME", raising=False)
    with environment_guard() as read, open_store(path) as store:
        report = replay(store, ident, evaluate_again)
    assert report.identical, report.as_json()
    assert "CMLKB_HOME" not in read


def test_impact_with_todays_knowledge_shows_the_change(kb, stored, monkeypatch) -> None:
    path, ident, result = stored
    monkeypatch.delenv("CMLKB_HOME", raising=False)
    with environment_guard() as read, open_store(path) as store:
        reports = impact(store, result["knowledge"]["digest"], kb, evaluate_again)
    assert [r.evaluation_id for r in reports] == [ident]
    changes = {c.path: (c.before, c.after) for c in reports[0].changes}
    assert changes["response.nccn"] == (None, "orange")
    assert changes["response.months_on_current_therapy"] == (13.0, 12.1)
    assert "CMLKB_HOME" not in read


def test_replay_command_without_cmlkb_home(stored, monkeypatch, capsys) -> None:
    path, ident, _ = stored
    monkeypatch.delenv("CMLKB_HOME", raising=False)
    with environment_guard():
        code = main(["replay", ident, "--store", str(path), "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


def test_cmlkb_home_is_a_front_door_option(tmp_path, monkeypatch, capsys) -> None:
    """The command line alone reads CMLKB_HOME, and evaluates with the knowledge there."""
    copy = changed_copy(tmp_path / "kb")
    assert knowledge_root({}) == default_root() == ROOT
    assert knowledge_root({"CMLKB_HOME": str(copy)}) == copy
    monkeypatch.setenv("CMLKB_HOME", str(copy))
    assert main(["evaluate", str(CASE), "--no-store", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    result = out[0] if isinstance(out, list) else out
    assert result["response"]["nccn"] is None


# Modules that may read the environment: the command line (CMLKB_HOME, CMLKB_STORE,
# CMLKB_DEBUG) and anything under an interfaces/ package; no other module.
ENVIRONMENT_READERS: set[str] = set()


def test_no_domain_module_reads_or_changes_the_environment() -> None:
    for path in sorted(ENGINE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        assert not re.search(r"os\.environ\[[^]]+\]\s*=|putenv|environ\.(pop|update|set)", text), (
            f"{name} changes the environment"
        )
        if path.name in ENVIRONMENT_READERS or "interfaces" in path.parts:
            continue
        assert not re.search(r"os\.environ|getenv", text), f"{name} reads the environment"
