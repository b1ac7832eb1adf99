"""The disk cache of what is derived from the knowledge (cmlkb.knowledge.cache): the
rules and knowledge facts read back are those computed, a file is used only for its own
knowledge digest and engine code, a broken or unwritable cache is never an error, and a
cold `cmlkb evaluate` gives the same answer with the cache, from it, and without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmlkb.case import facts
from cmlkb.interfaces.cli import cache_dir
from cmlkb.knowledge import cache, query_files
from cmlkb.knowledge.base import load_knowledge_from
from cmlkb.reasoning import knowledge_facts, rules
from cmlkb.results import result
from tests.engine.test_knowledge_change import copy_kb

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cases" / "01-optimal-responder.json"


def _fail() -> None:
    raise AssertionError("computed although the disk cache holds the value")


def _same(value):
    return value


def test_a_value_is_written_once_and_read_back(kb, tmp_path):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    assert cache.cached(kb, "probe", lambda: {"a": [1, 2]}, _same, _same) == {"a": [1, 2]}
    assert cache.cached(kb, "probe", _fail, _same, _same) == {"a": [1, 2]}
    [written] = tmp_path.rglob("probe.json")
    assert written.parent.name == kb.digest.split(":")[1][:32]


def test_rules_and_knowledge_facts_read_back_equal_the_computed_ones(kb, tmp_path, monkeypatch):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    fresh_rules = rules.load_rulebase(kb)
    fresh_facts = knowledge_facts.query_knowledge_facts(kb)
    cache.cached(kb, "knowledge-facts", lambda: tuple(fresh_facts), *_facts_codec())
    monkeypatch.setattr(rules, "_load_rulebase", lambda kb: _fail())
    cached_rules = rules.load_rulebase(kb)
    assert cached_rules.rules == fresh_rules.rules
    assert [[r.id for r in s] for s in cached_rules.strata] == [
        [r.id for r in s] for s in fresh_rules.strata
    ]
    assert cache.cached(kb, "knowledge-facts", _fail, *_facts_codec()) == tuple(fresh_facts)


def test_citations_read_back_equal_the_computed_ones(kb, tmp_path, monkeypatch):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    fresh = result._citations_of(kb, query_files.load("explain/statements", kb.root))
    monkeypatch.setattr(result, "_citations", {})
    assert result.citations(kb) == fresh  # computed and written
    monkeypatch.setattr(result, "_citations", {})
    monkeypatch.setattr(result, "_citations_of", lambda kb, query: _fail())
    assert result.citations(kb) == fresh  # read back


def test_the_fact_schema_reads_back_equal_to_the_computed_one(kb, tmp_path, monkeypatch):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    fresh = facts.fact_schema_at(kb.root)
    monkeypatch.setattr(facts, "_schemas", {})
    assert facts.fact_schema(kb) == fresh  # computed and written
    monkeypatch.setattr(facts, "_schemas", {})
    monkeypatch.setattr(facts, "fact_schema_at", lambda root: _fail())
    assert facts.fact_schema(kb) == fresh  # read back


def test_a_value_depending_on_a_query_text_is_not_used_for_another_text(kb, tmp_path):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    assert cache.cached(kb, "probe", lambda: 1, _same, _same, inputs=["SELECT 1"]) == 1
    assert cache.cached(kb, "probe", lambda: 2, _same, _same, inputs=["SELECT 2"]) == 2
    assert cache.cached(kb, "probe", _fail, _same, _same, inputs=["SELECT 2"]) == 2


def _facts_codec():
    return (
        lambda facts: [[f.fact, f.iri] for f in facts],
        lambda rows: tuple(knowledge_facts.KnowledgeFact(dict(f), i) for f, i in rows),
    )


def test_a_file_made_for_another_digest_is_not_used(kb, tmp_path):
    edited = copy_kb(tmp_path / "edited")
    rules_file = edited / "rules" / "actions.yaml"
    rules_file.write_text(rules_file.read_text(encoding="utf-8") + "\n# edited\n", "utf-8")
    one = load_knowledge_from(kb.root, cache_dir=tmp_path / "cache")
    other = load_knowledge_from(edited, cache_dir=tmp_path / "cache")
    assert one.digest != other.digest
    cache.cached(one, "probe", lambda: "made for one", _same, _same)
    [made] = (tmp_path / "cache").rglob("probe.json")
    planted = cache._path(other, "probe")
    planted.parent.mkdir(parents=True)
    planted.write_bytes(made.read_bytes())  # a file of `one` where `other` would look
    assert cache.cached(other, "probe", lambda: "made for other", _same, _same) == "made for other"
    assert json.loads(planted.read_text())["digest"] == other.digest  # written again


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"digest": 1}', b"\xff\xfe"])
def test_an_unreadable_file_is_computed_again_and_replaced(kb, tmp_path, content):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    path = cache._path(kb, "probe")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert cache.cached(kb, "probe", lambda: [3], _same, _same) == [3]
    assert json.loads(path.read_text())["value"] == [3]
    assert cache.cached(kb, "probe", _fail, _same, _same) == [3]


def test_a_value_that_does_not_decode_is_computed_again(kb, tmp_path):
    kb = load_knowledge_from(kb.root, cache_dir=tmp_path)
    cache.cached(kb, "probe", lambda: {"old": "shape"}, _same, _same)
    assert cache.cached(kb, "probe", lambda: 7, _same, lambda value: value["new"]) == 7


def test_a_cache_that_cannot_be_written_is_not_an_error(kb, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    kb = load_knowledge_from(kb.root, cache_dir=blocked)
    assert cache.cached(kb, "probe", lambda: 5, _same, _same) == 5
    assert blocked.read_text() == "x"


def test_no_cache_folder_means_no_disk_cache(kb, tmp_path):
    calls = []
    kb = load_knowledge_from(kb.root)
    for _ in range(2):
        cache.cached(kb, "probe", lambda: calls.append(1), _same, _same)
    assert len(calls) == 2


def test_the_command_line_chooses_the_cache_folder(tmp_path):
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "cmlkb"
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path), "CMLKB_CACHE": "off"}) is None
    home = Path.home() / ".cache" / "cmlkb"
    assert cache_dir({}) == home
    assert cache_dir({"XDG_CACHE_HOME": "relative/path"}) == home  # the XDG rule


def _evaluate(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmlkb.interfaces.cli",
            "evaluate",
            str(EXAMPLE),
            "--no-store",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result.pop("evaluation_id")
    return result


def test_a_cold_evaluation_is_the_same_with_the_cache_from_it_and_without_it(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "home"))
    env.pop("CMLKB_CACHE", None)
    filling = _evaluate(env)
    files = sorted((tmp_path / "home" / "cmlkb").rglob("*.json"))
    assert [p.name for p in files] == [
        "citations.json",
        "fact-schema.json",
        "knowledge-facts.json",
        "rules.json",
    ]
    written = [p.stat().st_mtime_ns for p in files]
    from_cache = _evaluate(env)
    assert [p.stat().st_mtime_ns for p in files] == written  # read, not made again
    off = _evaluate(dict(env, CMLKB_CACHE="off", XDG_CACHE_HOME=str(tmp_path / "off")))
    assert filling == from_cache == off
    assert not (tmp_path / "off").exists()
