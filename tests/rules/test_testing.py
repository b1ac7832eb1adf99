"""rules/testing.yaml: mutation-testing indication and whether testing is due
(Cross 2023, Soverini 2019)."""

from __future__ import annotations

from tests.casekit import (
    analysis,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    run,
)


def indication(ev):
    return ev.result["mutation_testing"]["indication"]


def test_eln_failure_requires_testing_with_ngs(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "testing-by-category", "testing-due")
    assert indication(ev) == "required"
    assert ev.result["mutation_testing"]["method"] == "NGS"


def test_eln_warning_makes_testing_a_consideration(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert indication(ev) == "consider"


def test_optimal_response_gives_no_category_testing(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "testing-by-category", "testing-by-event", "testing-due")
    assert indication(ev) == "not-indicated"


def test_loss_of_mmr_requires_testing_although_eln_2020_calls_it_warning(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert_fires(ev, "testing-by-event")
    assert indication(ev) == "required"


def test_advanced_phase_requires_testing(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 35}])
    assert_fires(ev, "testing-by-phase")
    assert indication(ev) == "required"


def test_chronic_phase_finding_gives_no_phase_testing(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)], phase_assessments=[{"date": at(6), "phase": "chronic"}])
    assert_not_fires(ev, "testing-by-phase")


def test_latest_at_exactly_0_1_percent_testing_not_indicated(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.1)])
    assert_fires(ev, "testing-not-indicated-low-level")
    assert derived(ev, "testing", indication="not-indicated")


def test_latest_just_above_0_1_percent_is_above_the_testing_threshold(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.100001)])
    assert_not_fires(ev, "testing-not-indicated-low-level")


def test_a_failure_still_requires_testing_when_the_level_is_low(kb):
    # resistance mutation (failure) while BCR::ABL1 is low: the strongest indication wins
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], mutation_analyses=[analysis(11, "T315I")])
    assert indication(ev) == "required"


def test_testing_is_not_due_once_an_analysis_was_done_after_the_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(6.2, "E255K")])
    assert_fires(ev, "testing-by-category")
    assert_not_fires(ev, "testing-due")
    assert "mutation-testing" not in ev.result["actions"]


def test_an_analysis_before_the_trigger_does_not_answer_it(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(3)])
    assert_fires(ev, "testing-due")
    assert "mutation-testing" in ev.result["actions"]
