"""Order and words come from the knowledge, not from Python constants (issue 10): editing a
copy of the knowledge - a status's plain words, the rank order of two statuses, the family
of a response category - changes the outputs, with no code change."""

from __future__ import annotations

import pytest

from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from cmlkb.results.patient import patient_summary
from cmlkb.results.result import _disagree
from cmlkb.results.text import clinician_text, headline
from tests.casekit import START, bcr, evaluate, example, run, validated
from tests.engine.test_knowledge_change import copy_kb, edit

CONCEPTS = ("ontology", "knowledge", "concepts.ttl")

# Example 05 (compound mutation with T315I): a research study is a preferred option, an
# allogeneic transplant a candidate one; example 06 (relapse after TFR): imatinib preferred,
# four TKIs candidates (and they stay so with the two ranks swapped).
OPTIONS_CASE = "05-compound-t315i-transplant"
DRUGS_CASE = "06-tfr-relapse"


@pytest.fixture(scope="module")
def relabelled(tmp_path_factory) -> KnowledgeBase:
    """kb:preferred in the option sense reads 'the first thing to ask about'; a documented
    non-adherence is 'missed doses' in the headline."""
    root = copy_kb(tmp_path_factory.mktemp("kb-label"))
    edit(
        root.joinpath(*CONCEPTS),
        'cml:plainOptionLabel "one of the best choices for you now"@en',
        'cml:plainOptionLabel "the first thing to ask about"@en',
    )
    edit(
        root.joinpath(*CONCEPTS),
        'cml:documentedLabel "non-adherence"@en',
        'cml:documentedLabel "missed doses"@en',
    )
    return load_knowledge_from(root)


@pytest.fixture(scope="module")
def swapped(tmp_path_factory) -> KnowledgeBase:
    """kb:preferred and kb:candidate swap their cml:strengthRank."""
    root = copy_kb(tmp_path_factory.mktemp("kb-rank"))
    path = root.joinpath(*CONCEPTS)
    edit(
        path,
        'skos:notation "candidate" ; cml:strengthRank 2',
        'skos:notation "candidate" ; cml:strengthRank 9',
    )
    edit(
        path,
        'skos:notation "preferred" ; cml:strengthRank 1',
        'skos:notation "preferred" ; cml:strengthRank 2',
    )
    edit(
        path,
        'skos:notation "candidate" ; cml:strengthRank 9',
        'skos:notation "candidate" ; cml:strengthRank 1',
    )
    return load_knowledge_from(root)


@pytest.fixture(scope="module")
def rescaled(tmp_path_factory) -> KnowledgeBase:
    """An unused ELN category of severity 4: the ELN scale runs to 4, not 2."""
    root = copy_kb(tmp_path_factory.mktemp("kb-family"))
    path = root.joinpath(*CONCEPTS)
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\nkb:test-worst a cml:ResponseCategory ; skos:notation "test-worst" ;'
        ' cml:categoryFamily "eln" ; cml:severityRank 4 ; skos:prefLabel "test"@en .\n',
        encoding="utf-8",
    )
    return load_knowledge_from(root)


def _patient(kb: KnowledgeBase, stem: str) -> str:
    ev = evaluate(kb, validated(kb, example(stem)))
    return patient_summary(ev, kb)


def test_option_status_words_come_from_the_knowledge(kb, relabelled):
    shipped = _patient(kb, OPTIONS_CASE)
    edited = _patient(relabelled, OPTIONS_CASE)
    assert "A research study of new treatments: one of the best choices for you now." in shipped
    assert "A research study of new treatments: the first thing to ask about." in edited
    assert "one of the best choices for you now" not in edited
    # only that line changed
    assert shipped.replace(
        "one of the best choices for you now", "the first thing to ask about"
    ) == (edited)


def _option_lines(text: str) -> list[str]:
    part = text.split("Other choices besides a CML pill\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip().split(":")[0] for line in part.splitlines()]


def test_option_order_follows_the_strength_rank(kb, swapped):
    shipped = _option_lines(_patient(kb, OPTIONS_CASE))
    edited = _option_lines(_patient(swapped, OPTIONS_CASE))
    study, donor = "A research study of new treatments", "A stem cell transplant from a donor"
    assert shipped.index(study) < shipped.index(donor)  # preferred before candidate
    assert edited.index(donor) < edited.index(study)  # candidate now ranks below preferred


def _drug_order(kb: KnowledgeBase, stem: str) -> list[tuple[str, str]]:
    ev = evaluate(kb, validated(kb, example(stem)))
    text = clinician_text(ev.result, kb)
    block = text.split("TKIs (status:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [tuple(line.split()[:2]) for line in block if not line.startswith("      ")]


def test_clinician_drug_order_follows_the_strength_rank(kb, swapped):
    shipped = [status for _, status in _drug_order(kb, DRUGS_CASE)]
    edited = [status for _, status in _drug_order(swapped, DRUGS_CASE)]
    assert shipped.index("PREFERRED") < shipped.index("CANDIDATE")
    assert edited.index("CANDIDATE") < edited.index("PREFERRED")


def test_guideline_disagreement_follows_the_category_families(kb, rescaled):
    # ELN failure and NCCN red are both the worst of their scale: they agree.
    assert _disagree(kb, "failure", "red") is False
    # With an ELN scale running to 4, failure (2 of 4) is a class below red (4 of 4).
    assert _disagree(rescaled, "failure", "red") is True
    assert _disagree(kb, "optimal", "green") is _disagree(rescaled, "optimal", "green") is False


def test_headline_names_extrinsic_causes_by_the_knowledge(kb, relabelled):
    def first_words(k: KnowledgeBase) -> str:
        ev = run(
            k,
            adherence={"assessed_on": START, "status": "non-adherent"},
            therapies=[{"drug": "imatinib", "start": START}],
            bcr_abl1=[bcr(6, 15.0)],
        )
        return headline(ev.result, k)

    assert "address non-adherence first" in first_words(kb)
    assert "address missed doses first" in first_words(relabelled)


@pytest.fixture(scope="module")
def regrouped(tmp_path_factory) -> KnowledgeBase:
    """kb:caution in the group 'against': a drug with that status is no longer offered."""
    root = copy_kb(tmp_path_factory.mktemp("kb-group"))
    edit(
        root.joinpath(*CONCEPTS),
        'skos:notation "caution" ; cml:strengthRank 3 ; cml:statusGroup "care" ;',
        'skos:notation "caution" ; cml:strengthRank 3 ; cml:statusGroup "against" ;',
    )
    return load_knowledge_from(root)


def test_which_statuses_are_offered_comes_from_the_knowledge(kb, regrouped):
    def both(stem: str):
        return [evaluate(k, validated(k, example(stem))) for k in (kb, regrouped)]

    # Example 10: no approved TKI left but olverembatinib, a caution.
    shipped, edited = both("10-multi-resistant-trial")
    assert "(left: olverembatinib (with caution))" in headline(shipped.result, kb)
    assert "(with caution)" not in headline(edited.result, regrouped)
    # Example 03: the patient reads which TKIs could be used only with extra care.
    shipped, edited = both("03-imatinib-failure-f317l")
    assert "could be used only with extra care" in patient_summary(shipped, kb)
    assert "could be used only with extra care" not in patient_summary(edited, regrouped)
