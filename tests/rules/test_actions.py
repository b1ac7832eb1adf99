"""rules/actions.yaml: the recommended actions and dose advice."""

from __future__ import annotations

from cmlkb.results.text import headline
from tests.casekit import (
    START,
    analysis,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    history,
    run,
)


def acts(ev):
    return set(ev.result["actions"])


def test_continue_when_optimal(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "action-continue-when-optimal")
    assert_not_fires(ev, "action-warning", "action-switch-at-confirmed-failure")
    assert acts(ev) == {"continue-tki"}


def test_warning_continues_and_monitors_more_closely(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_fires(ev, "action-warning")
    assert_not_fires(ev, "action-continue-when-optimal", "action-cytogenetics-at-failure")
    assert {"continue-tki", "increase-monitoring"} <= acts(ev)


def test_confirmed_failure_switches_and_asks_for_marrow_cytogenetics(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "action-switch-at-confirmed-failure", "action-cytogenetics-at-failure")
    assert {"switch-tki", "marrow-cytogenetics"} <= acts(ev)
    assert "continue-tki" not in acts(ev)


def test_failure_with_adherence_not_assessed_switches_once_adherence_is_confirmed(kb):
    # Issue 9 item 2: missing data (adherence never assessed) qualify the switch, they do
    # not erase it (was: no switch-tki at all). The confirmed-failure rule still waits.
    ev = run(kb, adherence=None, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "action-switch-at-confirmed-failure")
    assert_fires(ev, "action-assess-adherence", "action-cytogenetics-at-failure")
    assert_fires(ev, "action-switch-once-data-confirm")
    assert {"switch-tki", "assess-adherence"} <= acts(ev)


def test_adherent_patient_needs_no_adherence_assessment(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "action-assess-adherence")


def test_non_adherence_asks_to_assess_adherence(kb):
    ev = run(kb, adherence={"assessed_on": START, "status": "non-adherent"})
    assert_fires(ev, "action-assess-adherence")


def test_omeprazole_with_dasatinib_reviews_interactions(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance")),
        comedications=["omeprazole"],
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(ev, "action-review-interactions")
    assert "review-interactions" in acts(ev)


def test_no_comedication_no_interaction_review(kb):
    assert_not_fires(run(kb, bcr_abl1=[bcr(6, 0.5)]), "action-review-interactions")


def test_unconfirmed_3_month_value_asks_for_a_repeat(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0)])
    assert_fires(ev, "action-confirm-result")
    assert "confirm-bcr-abl1" in acts(ev)


def test_3_month_value_at_10_percent_needs_no_repeat(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 10.0)])
    assert_not_fires(ev, "action-confirm-result")


def test_repeat_after_a_newer_result_is_not_asked(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0), bcr(6, 0.5)])
    assert_not_fires(ev, "action-confirm-result")


def test_confirmed_3_month_failure_asks_no_further_repeat_and_does_not_continue(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0), bcr(4.2, 14.0)])
    assert ev.result["response"]["eln"] == "failure"
    assert "switch-tki" in acts(ev)
    assert "confirm-bcr-abl1" not in acts(ev)
    assert "continue-tki" not in acts(ev)


def test_failure_without_analysis_asks_for_mutation_testing(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "action-mutation-testing")
    assert "mutation-testing" in acts(ev)


def test_optimal_response_asks_for_no_mutation_testing(kb):
    assert_not_fires(run(kb, bcr_abl1=[bcr(6, 0.5)]), "action-mutation-testing")


def test_t315i_asks_for_transplant_evaluation_and_hla_typing(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "T315I")])
    assert_fires(ev, "action-transplant")
    assert {"evaluate-allo-sct", "hla-typing"} <= acts(ev)


def test_no_transplant_reason_no_transplant_action(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "action-transplant")
    assert not {"evaluate-allo-sct", "hla-typing"} & acts(ev)


def test_nccn_red_refers_to_a_cml_centre(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert ev.result["response"]["nccn"] == "red"
    assert_fires(ev, "action-refer-at-red")
    assert "refer-cml-centre" in acts(ev)


def test_nccn_orange_does_not_refer(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert ev.result["response"]["nccn"] == "orange"
    assert_not_fires(ev, "action-refer-at-red")


def pona_case(kb, value, dose_changes=None):
    changes = history(("imatinib", "resistance"), current="ponatinib")
    if dose_changes:
        changes["therapies"][-1]["dose_changes"] = dose_changes
    return run(kb, **changes, bcr_abl1=[bcr(6, value)])


def test_ponatinib_45_mg_at_1_percent_is_reduced(kb):
    ev = pona_case(kb, 1.0)
    assert_fires(ev, "action-reduce-dose-on-response")
    assert "reduce-ponatinib-dose" in acts(ev)


def test_ponatinib_45_mg_just_above_1_percent_is_not_reduced(kb):
    ev = pona_case(kb, 1.000001)
    assert_not_fires(ev, "action-reduce-dose-on-response")


# action-reduce-dose-on-response v2 compares the current dose (was the starting dose)
def test_ponatinib_already_reduced_to_15_mg_is_not_reduced_again(kb):
    ev = pona_case(kb, 0.5, dose_changes=[{"date": at(5), "dose_mg": 15}])
    assert "reduce-ponatinib-dose" not in acts(ev)


def test_t315i_gives_asciminib_200_mg_bid_dose_advice(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "T315I")])
    assert_fires(ev, "dose-advice-from-mutation")
    advice = ev.result["dose_advice"]
    assert {"drug": "asciminib", "dose_mg": 200.0, "frequency": "BID", "detail": "T315I"} in advice


def test_mutation_without_a_dose_statement_gives_no_dose_advice(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "E255K")])
    assert_not_fires(ev, "dose-advice-from-mutation")
    assert not derived(ev, "dose-advice")


# issue 9 item 1: an excluded current TKI is changed ------------------------------------


def test_t315i_on_imatinib_switches_even_with_adherence_and_dose_unknown(kb):
    # A resistance mutation is biological resistance: not held back by missing data.
    ev = run(
        kb,
        adherence=None,
        therapies=[{"drug": "imatinib", "start": START}],
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I")],
    )
    assert_fires(ev, "action-switch-when-current-excluded")
    assert_not_fires(ev, "action-switch-at-confirmed-failure", "action-continue-when-optimal")
    assert {"switch-tki", "assess-adherence", "check-dose"} <= acts(ev)
    assert "continue-tki" not in acts(ev)
    assert ev.result["resistance"]["status"] == "primary"
    text = headline(ev.result, kb)
    assert "change imatinib (excluded: T315I)" in text
    assert "biological: T315I excludes imatinib" in text
    assert "once" not in text  # not conditional on the missing data


def test_optimal_response_without_exclusion_keeps_the_current_tki(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "action-switch-when-current-excluded")
    assert "switch-tki" not in acts(ev)


def test_long_qt_on_nilotinib_changes_it_even_when_optimal(kb):
    # Any excluding reason counts (ELN 2020 comorbidity table: nilotinib with long QT).
    ev = run(
        kb,
        patient={"comorbidities": ["long-qt"]},
        therapies=[{"drug": "nilotinib", "dose_mg": 300, "frequency": "BID", "start": START}],
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(ev, "action-switch-when-current-excluded")
    assert_not_fires(ev, "action-continue-when-optimal")
    assert "switch-tki" in acts(ev) and "continue-tki" not in acts(ev)
    assert "change nilotinib" in headline(ev.result, kb)


def test_long_qt_on_nilotinib_at_warning_monitors_through_the_switch(kb):
    ev = run(
        kb,
        patient={"comorbidities": ["long-qt"]},
        therapies=[{"drug": "nilotinib", "dose_mg": 300, "frequency": "BID", "start": START}],
        bcr_abl1=[bcr(6, 5.0)],
    )
    assert_fires(ev, "action-monitor-at-warning-when-switching")
    assert_not_fires(ev, "action-warning")
    assert {"switch-tki", "increase-monitoring"} <= acts(ev)
    assert "continue-tki" not in acts(ev)


def test_warning_without_exclusion_does_not_monitor_through_a_switch(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_not_fires(ev, "action-monitor-at-warning-when-switching")
    assert_fires(ev, "action-warning")


def test_compound_t315i_headline_leads_with_transplant_and_trial(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )
    assert "switch-tki" in acts(ev)
    assert {"evaluate-allo-sct", "hla-typing", "refer-clinical-trial"} <= acts(ev)
    text = headline(ev.result, kb)
    assert text.startswith("Consider allogeneic transplant and a clinical trial")
    assert "options:" not in text


# issue 9 item 2: missing data qualify a switch, documented causes hold it back ----------


def test_failure_with_dose_not_recorded_switches_once_the_dose_is_confirmed(kb):
    ev = run(kb, therapies=[{"drug": "imatinib", "start": START}], bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "action-switch-once-data-confirm", "action-check-dose")
    assert {"switch-tki", "check-dose"} <= acts(ev)
    assert "switch TKI once the dose is confirmed" in headline(ev.result, kb)
    assert ev.result["resistance"]["extrinsic_causes_unknown"] == ["dose"]


def test_failure_with_adherence_and_dose_unknown_names_both(kb):
    ev = run(
        kb,
        adherence=None,
        therapies=[{"drug": "imatinib", "start": START}],
        bcr_abl1=[bcr(6, 15.0)],
    )
    assert {"switch-tki", "check-dose", "assess-adherence"} <= acts(ev)
    assert "switch TKI once adherence and the dose are confirmed" in headline(ev.result, kb)


def test_documented_non_adherence_holds_the_switch_back(kb):
    ev = run(
        kb,
        adherence={"assessed_on": START, "status": "non-adherent"},
        therapies=[{"drug": "imatinib", "start": START}],
        bcr_abl1=[bcr(6, 15.0)],
    )
    assert_not_fires(ev, "action-switch-once-data-confirm", "action-switch-at-confirmed-failure")
    assert "switch-tki" not in acts(ev)
    assert {"assess-adherence", "check-dose"} <= acts(ev)
    assert "address non-adherence first" in headline(ev.result, kb)


def test_documented_dose_below_the_approved_dose_holds_the_switch_back(kb):
    ev = run(
        kb,
        therapies=[{"drug": "imatinib", "dose_mg": 300, "start": START}],
        bcr_abl1=[bcr(6, 15.0)],
    )
    assert_fires(ev, "action-check-dose")
    assert_not_fires(ev, "action-switch-once-data-confirm")
    assert "switch-tki" not in acts(ev)
    assert "address the dose below the approved dose first" in headline(ev.result, kb)


def test_approved_dose_recorded_asks_for_no_dose_check(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "action-check-dose", "action-switch-once-data-confirm")
    assert "check-dose" not in acts(ev)


def test_patient_text_lists_the_dose_check_and_the_change(kb):
    from cmlkb.results.patient import patient_summary

    ev = run(kb, therapies=[{"drug": "imatinib", "start": START}], bcr_abl1=[bcr(6, 15.0)])
    text = patient_summary(ev, kb)
    assert "check which dose of the medicine is being taken" in text
    assert "change to a different CML medicine" in text
    assert "The change of medicine comes after your care team has checked" in text


def test_patient_text_does_not_delay_a_change_forced_by_a_mutation(kb):
    from cmlkb.results.patient import patient_summary

    ev = run(
        kb,
        therapies=[{"drug": "imatinib", "start": START}],
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I")],
    )
    text = patient_summary(ev, kb)
    assert "change to a different CML medicine" in text
    assert "comes after your care team has checked" not in text


# issue 9 item 5: dose advice only for a usable drug, only when a change is considered ---


def test_no_dose_advice_when_no_change_is_considered(kb):
    # T315I found on dasatinib (stopped); now optimal on ponatinib: no switch, no advice.
    changes = history(("dasatinib", "resistance"), current="ponatinib")
    ev = run(
        kb,
        **changes,
        bcr_abl1=[bcr(6, 0.5)],
        mutation_analyses=[analysis(-1, "T315I")],
    )
    assert "switch-tki" not in acts(ev)
    assert_not_fires(ev, "dose-advice-from-mutation", "dose-advice-for-current-drug")
    assert ev.result["dose_advice"] == []


def test_no_dose_advice_for_an_excluded_drug(kb):
    # e13a3 lacks ABL1 exon 2: asciminib excluded, so no asciminib 200 mg BID advice.
    ev = run(
        kb,
        diagnosis={"transcript": "e13a3"},
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I")],
    )
    assert "switch-tki" in acts(ev)
    assert not [a for a in ev.result["dose_advice"] if a["drug"] == "asciminib"]


def test_current_asciminib_with_t315i_at_warning_gets_the_t315i_dose(kb):
    changes = history(("imatinib", "resistance"), ("dasatinib", "resistance"), current="asciminib")
    ev = run(kb, **changes, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(5, "T315I")])
    assert_fires(ev, "dose-advice-for-current-drug")
    assert {"drug": "asciminib", "dose_mg": 200.0, "frequency": "BID", "detail": "T315I"} in (
        ev.result["dose_advice"]
    )


def test_current_asciminib_with_t315i_in_optimal_response_gets_no_dose_advice(kb):
    changes = history(("imatinib", "resistance"), ("dasatinib", "resistance"), current="asciminib")
    ev = run(kb, **changes, bcr_abl1=[bcr(6, 0.5)], mutation_analyses=[analysis(5, "T315I")])
    assert_not_fires(ev, "dose-advice-for-current-drug")


def test_t315i_with_documented_non_adherence_switches_and_addresses_adherence(kb):
    # Item 1 overrides item 2: the mutation is not held back by a documented cause.
    ev = run(
        kb,
        adherence={"assessed_on": START, "status": "non-adherent"},
        bcr_abl1=[bcr(6, 15.0)],
        mutation_analyses=[analysis(6, "T315I")],
    )
    assert_fires(ev, "action-switch-when-current-excluded")
    assert_not_fires(ev, "action-switch-once-data-confirm")
    assert {"switch-tki", "assess-adherence"} <= acts(ev)
    text = headline(ev.result, kb)
    assert "change imatinib (excluded: T315I)" in text
    assert "address non-adherence too" in text


# action-cytogenetics-atypical-transcript (issue 9 item 9) --------------------------------


def test_atypical_transcript_asks_for_marrow_cytogenetics(kb):
    ev = run(kb, diagnosis={"transcript": "e13a3"}, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "action-cytogenetics-atypical-transcript")
    assert "marrow-cytogenetics" in acts(ev)
    assert "switch-tki" not in acts(ev)


def test_typical_transcript_asks_for_no_cytogenetics_for_the_transcript(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "action-cytogenetics-atypical-transcript")
    assert "marrow-cytogenetics" not in acts(ev)


# A single result that newly changes the picture is repeated (issue 9 item 11) -----------


def confirm_details(ev):
    return [a["detail"] for a in derived(ev, "action", code="confirm-bcr-abl1")]


def test_first_loss_of_mmr_asks_for_a_repeat_before_any_change(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.3)])
    assert_fires(ev, "action-confirm-new-loss-of-response")
    assert_not_fires(ev, "action-confirm-log-rise")
    assert {"confirm-bcr-abl1", "continue-tki", "increase-monitoring"} <= acts(ev)
    (detail,) = confirm_details(ev)
    assert "first result above the MMR threshold" in detail
    assert "before any change of therapy" in detail


def test_second_result_above_mmr_asks_for_no_further_repeat(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(15, 0.3), bcr(18, 0.4)])
    assert_not_fires(ev, "action-confirm-new-loss-of-response", "action-confirm-log-rise")
    assert "confirm-bcr-abl1" not in acts(ev)
    assert "repeat BCR::ABL1" not in headline(ev.result, kb)


def test_headline_says_to_repeat_a_result_that_newly_changes_the_picture(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.3)])
    assert headline(ev.result, kb) == (
        "ELN warning; continue the current TKI; repeat BCR::ABL1 to confirm the latest result."
    )


def test_new_1_log_rise_asks_for_a_repeat_in_1_to_3_months(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.01), bcr(15, 0.05), bcr(18, 0.8)])
    assert_fires(ev, "action-confirm-log-rise", "action-confirm-new-loss-of-response")
    assert any("repeat BCR::ABL1 in 1-3 months" in d for d in confirm_details(ev))
    assert {
        "code": "confirm-bcr-abl1",
        "detail": "BCR::ABL1 rose by at least 1 log to "
        + ev.case["bcr_abl1"][2]["date"]
        + " with loss of MMR: repeat BCR::ABL1 in 1-3 months (NCCN)",
    } in ev.result["action_details"]


def test_1_log_rise_already_seen_on_the_previous_result_is_not_new(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.01), bcr(15, 0.5), bcr(18, 0.6)])
    assert_fires(ev, "log-rise-event")
    assert_not_fires(ev, "action-confirm-log-rise")
    assert "confirm-bcr-abl1" not in acts(ev)


def test_atypical_transcript_gets_no_repeat_for_an_is_loss(kb):
    ev = run(kb, diagnosis={"transcript": "e1a2"}, bcr_abl1=[bcr(12, 0.01), bcr(18, 0.8)])
    assert_not_fires(ev, "action-confirm-new-loss-of-response", "action-confirm-log-rise")
