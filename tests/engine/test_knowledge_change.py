"""Changing the knowledge files, with no code change, changes the answers: a milestone
threshold edited in Turtle, a mutation and its drug-sensitivity statement added. The
edited copy of ontology/, rules/ and queries/ is loaded as a second knowledge base in the
same process, so this also checks that every engine cache is keyed by kb.digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from tests.casekit import analysis, bcr, evaluate, make_case, status

ROOT = Path(__file__).resolve().parents[2]


def copy_kb(tmp: Path) -> Path:
    for folder in ("ontology", "rules", "queries"):
        shutil.copytree(ROOT / folder, tmp / folder)
    return tmp


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def moved_6m_bound(tmp_path_factory) -> KnowledgeBase:
    """ELN 2020, 6 months: optimal <= 2 % (was 1 %), warning > 2-10 %."""
    root = copy_kb(tmp_path_factory.mktemp("kb-6m"))
    ttl = root / "ontology" / "knowledge" / "milestones-eln-2020.ttl"
    text = ttl.read_text(encoding="utf-8")
    optimal = text.index("stmt:milestone-eln-2020-6m-optimal")
    warning = text.index("stmt:milestone-eln-2020-6m-warning")
    failure = text.index("stmt:milestone-eln-2020-6m-failure")
    text = (
        text[:optimal]
        + text[optimal:warning].replace("cml:upperIsPercent 1.0 ;", "cml:upperIsPercent 2.0 ;")
        + text[warning:failure].replace("cml:lowerIsPercent 1.0 ;", "cml:lowerIsPercent 2.0 ;")
        + text[failure:]
    )
    ttl.write_text(text, encoding="utf-8")
    return load_knowledge_from(root)


NEW_MUTATION = """

mut:Y999C
    a cml:Variant ;
    skos:notation "Y999C" ;
    skos:prefLabel "BCR::ABL1 Y999C (test-only)"@en ;
    cml:hgvsProtein "p.Tyr999Cys" ;
    cml:residue 999 ;
    rdfs:comment "Test-only variant added by tests/engine/test_knowledge_change.py."@en .

stmt:sensitivity-Y999C-asciminib
    a cml:DrugSensitivityStatement ;
    cml:variant mut:Y999C ;
    cml:drug drug:asciminib ;
    cml:effect kb:excluded ;
    cml:evidenceBasis kb:basis-clinical ;
    cml:evidence kb:evidence-V ;
    dcterms:source src:nccn-v2-2027 ;
    cml:locator "test-only" ;
    rdfs:comment "Test-only statement."@en .
"""


@pytest.fixture(scope="module")
def added_mutation(tmp_path_factory) -> KnowledgeBase:
    root = copy_kb(tmp_path_factory.mktemp("kb-mut"))
    path = root / "ontology" / "knowledge" / "drug-sensitivity.ttl"
    path.write_text(path.read_text(encoding="utf-8") + NEW_MUTATION, encoding="utf-8")
    return load_knowledge_from(root)


def test_edited_knowledge_has_its_own_digest(kb, moved_6m_bound, added_mutation):
    assert len({kb.digest, moved_6m_bound.digest, added_mutation.digest}) == 3


def test_moving_the_6_month_bound_changes_the_category(kb, moved_6m_bound):
    shipped = evaluate(kb, make_case(kb, bcr_abl1=[bcr(6, 1.5)]))
    edited = evaluate(moved_6m_bound, make_case(moved_6m_bound, bcr_abl1=[bcr(6, 1.5)]))
    assert shipped.result["response"]["eln"] == "warning"
    assert edited.result["response"]["eln"] == "optimal"
    assert edited.result["knowledge"]["digest"] == moved_6m_bound.digest
    # the new bound is inclusive, the next band starts just above it
    just_above = make_case(moved_6m_bound, bcr_abl1=[bcr(6, 2.000001)])
    assert evaluate(moved_6m_bound, just_above).result["response"]["eln"] == "warning"


def test_the_shipped_knowledge_still_answers_as_before_in_the_same_process(kb, moved_6m_bound):
    evaluate(moved_6m_bound, make_case(moved_6m_bound, bcr_abl1=[bcr(6, 1.5)]))
    again = evaluate(kb, make_case(kb, bcr_abl1=[bcr(6, 1.5)]))
    assert again.result["response"]["eln"] == "warning"


def test_an_added_mutation_row_excludes_its_drug(kb, added_mutation):
    case = make_case(
        added_mutation, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "Y999C")]
    )
    ev = evaluate(added_mutation, case)
    assert status(ev, "asciminib") == "excluded"
    # (ponatinib is a caution here: second line in chronic phase, outside its label)
    assert status(ev, "ponatinib") != "excluded"
    # the shipped knowledge does not know the mutation: the case is invalid there
    with pytest.raises(AssertionError, match="Y999C"):
        make_case(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "Y999C")])


def test_engine_caches_are_keyed_by_digest(kb, moved_6m_bound):
    from cmlkb.reasoning import knowledge_facts, reasoner
    from cmlkb.results import result

    evaluate(kb, make_case(kb, bcr_abl1=[bcr(6, 1.5)]))
    evaluate(moved_6m_bound, make_case(moved_6m_bound, bcr_abl1=[bcr(6, 1.5)]))
    for cache in (reasoner._compiled, knowledge_facts._cache, result._ranks, result._citations):
        assert {kb.digest, moved_6m_bound.digest} <= set(cache)
    bands = [
        k.fact
        for k in knowledge_facts.knowledge_facts(moved_6m_bound)
        if k.fact["kind"] == "band"
        and k.fact["guideline"] == "eln-2020"
        and k.fact["timepoint"] == "6m"
        and k.fact["category"] == "optimal"
    ]
    assert [b["hi"] for b in bands] == [2000000]
