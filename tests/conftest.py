"""Shared test fixtures: the project root, the shipped knowledge base (loaded once), and a
helper that runs the `cmlkb` command in-process and captures its output."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmlkb.interfaces.cli import main
from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help=(
            "rewrite the computed fields of tests/golden/expected/*.json from the current "
            "output, keeping the hand-written reasoning and actions_never (review the diff!)"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "curated: depends on the curated knowledge files in ontology/knowledge/"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked `java` when no Java runtime is on PATH (the OWL reasoner needs it)."""
    if shutil.which("java"):
        return
    skip = pytest.mark.skip(reason="no `java` on PATH: the OWL reasoner (HermiT) cannot run")
    for item in items:
        if "java" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The command line's disk cache (cmlkb.knowledge.cache, under $XDG_CACHE_HOME) in a
    folder of this test session, for in-process and subprocess runs: never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
        mp.delenv("CMLKB_CACHE", raising=False)
        yield


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository folder holding ontology/, rules/, queries/ and engine/."""
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per test session. Do not mutate its graph."""
    return load_knowledge_from(PROJECT_ROOT)


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `cmlkb ARGS...` in-process (cmlkb.cli.main) and capture what it prints."""

    def _run(*args: str) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


@pytest.fixture()
def cli_kb(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    """Make `cmlkb validate` and `cmlkb vocab`, run in-process, use the session's `kb`."""
    monkeypatch.setattr("cmlkb.interfaces.validate.load_knowledge", lambda root=None: kb)
    monkeypatch.setattr("cmlkb.interfaces.vocab.load_knowledge", lambda root=None: kb)
    return kb
