"""rules/events.yaml: loss of response, resistance mutations, high-risk ACAs, high ELTS, and
the category each event gets under the selected guideline edition (ELN 2020 milestone table)."""

from __future__ import annotations

from tests.casekit import (
    analysis,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    eln,
    history,
    run,
)


def events(ev):
    return {f["code"] for f in derived(ev, "event")}


# loss-of-response --------------------------------------------------------------------------


def test_loss_of_mmr_on_therapy_is_an_eln_2020_warning(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert_fires(ev, "loss-of-response", "event-category")
    # 0.05 -> 0.5 % is also a 1-log rise with loss of MMR (NCCN; no ELN category)
    assert events(ev) == {"loss-of-mmr", "1-log-rise-with-loss-of-mmr"}
    assert derived(
        ev, "finding", family="eln", basis="event", detail="loss-of-mmr", category="warning"
    )
    assert eln(ev) == "warning"


def test_rise_to_exactly_0_1_percent_is_not_loss_of_mmr(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.1)])
    assert_not_fires(ev, "loss-of-response")
    assert events(ev) == set()


def test_mmr_reached_only_on_a_previous_therapy_is_not_lost_on_the_current_one(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), bcr_abl1=[bcr(-3, 0.05), bcr(18, 0.5)])
    assert_not_fires(ev, "loss-of-response")


def test_undetectable_counts_as_reached_and_a_later_rise_loses_it(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=50000), bcr(18, 0.3)])
    assert "loss-of-mmr" in events(ev)


def test_loss_of_ccyr_level_is_failure_and_secondary_resistance(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.5), bcr(18, 2.0)])
    assert events(ev) == {"loss-of-ccyr"}
    assert eln(ev) == "failure"
    assert ev.result["resistance"]["status"] == "secondary"


def test_loss_of_mmr_has_no_category_under_eln_2013_which_needs_confirmation(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert "loss-of-mmr" in events(ev)
    assert not derived(ev, "finding", family="eln", basis="event", detail="loss-of-mmr")


# resistance-mutation-on-current ------------------------------------------------------------


def test_t315i_found_on_imatinib_is_a_resistance_mutation_and_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.8)], mutation_analyses=[analysis(6, "T315I")])
    assert_fires(ev, "resistance-mutation-on-current")
    assert "resistance-mutation" in events(ev)
    assert eln(ev) == "failure"


def test_mutation_that_does_not_exclude_the_current_drug_is_no_resistance_event(kb):
    # V299L excludes dasatinib and bosutinib, not nilotinib (NCCN v2.2027 CML-5)
    ev = run(
        kb,
        **history(("imatinib", "resistance"), current="nilotinib"),
        bcr_abl1=[bcr(6, 0.8)],
        mutation_analyses=[analysis(6, "V299L")],
    )
    assert_not_fires(ev, "resistance-mutation-on-current")
    assert eln(ev) == "optimal"


def test_mutation_found_before_the_current_therapy_is_no_event_on_it(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), current="ponatinib"),
        bcr_abl1=[bcr(6, 0.8)],
        mutation_analyses=[analysis(-1, "T315I")],
    )
    assert_not_fires(ev, "resistance-mutation-on-current")


def test_v299l_on_dasatinib_is_a_resistance_mutation(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance")),
        bcr_abl1=[bcr(6, 0.8)],
        mutation_analyses=[analysis(6, "V299L")],
    )
    assert_fires(ev, "resistance-mutation-on-current")


# resistance-compound-mutation-on-current ---------------------------------------------------


def test_t315i_compound_on_dasatinib_is_a_resistance_mutation(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance")),
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )
    assert_fires(ev, "resistance-compound-mutation-on-current")


def test_t315i_compound_on_ponatinib_gives_caution_not_a_resistance_event(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), current="ponatinib"),
        bcr_abl1=[bcr(6, 0.5)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )
    assert_not_fires(
        ev, "resistance-compound-mutation-on-current", "resistance-mutation-on-current"
    )


# high-risk ACAs ----------------------------------------------------------------------------


def cyto(months, *abnormalities):
    return {
        "date": at(months),
        "ph_positive_percent": 50.0,
        "metaphases": 20,
        "abnormalities": list(abnormalities),
    }


def test_high_risk_aca_on_treatment_is_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto(12, "+8")])
    assert_fires(ev, "high-risk-aca-on-treatment")
    assert "high-risk-aca-on-treatment" in events(ev)
    assert eln(ev) == "failure"


def test_aca_outside_the_eln_2020_high_risk_list_is_no_event(kb):
    # +21 is in the SPIRIT2 grouping but not in the ELN 2020 high-risk list (Clark 2021)
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto(12, "+21")])
    assert_not_fires(ev, "high-risk-aca-on-treatment", "high-risk-aca-at-baseline")
    assert eln(ev) == "optimal"


def test_high_risk_aca_at_diagnosis_is_a_baseline_warning(kb):
    ev = run(
        kb, diagnosis={"additional_chromosomal_abnormalities": ["i(17q)"]}, bcr_abl1=[bcr(1, 50.0)]
    )
    assert_fires(ev, "high-risk-aca-at-baseline", "baseline-event-category")
    assert_not_fires(ev, "high-risk-aca-on-treatment")
    assert derived(ev, "finding", family="eln", basis="baseline", category="warning")


def test_high_risk_aca_before_treatment_in_cytogenetics_is_baseline_not_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(1, 50.0)], cytogenetics=[cyto(-0.3, "+8")])
    assert_not_fires(ev, "high-risk-aca-on-treatment")
    assert_fires(ev, "high-risk-aca-at-baseline")


# high ELTS ---------------------------------------------------------------------------------


def test_high_elts_is_a_baseline_warning(kb):
    ev = run(kb, diagnosis={"elts_risk": "high"})
    assert_fires(ev, "high-elts-at-baseline", "baseline-event-category")
    assert derived(ev, "finding", family="eln", detail="high-elts-baseline", category="warning")


def test_intermediate_elts_is_no_baseline_event(kb):
    ev = run(kb, diagnosis={"elts_risk": "intermediate"})
    assert_not_fires(ev, "high-elts-at-baseline", "baseline-event-category")


# event-category ----------------------------------------------------------------------------


def test_no_event_no_event_category(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)])
    assert_not_fires(ev, "event-category", "baseline-event-category")


# ACAs and Ph-negative cells (issue 9 item 13) -------------------------------------------


def cyto_ph(months, ph, *abnormalities):
    return {**cyto(months, *abnormalities), "ph_positive_percent": ph}


def test_high_risk_aca_in_ph_negative_cells_is_no_high_risk_event(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto_ph(12, 0, "+8")])
    assert_not_fires(ev, "high-risk-aca-on-treatment", "cca-ph-positive-on-treatment")
    assert eln(ev) == "optimal"


def test_high_risk_aca_with_ph_percentage_not_recorded_counts_as_ph_positive(kb):
    entry = cyto(12, "i(17q)")
    entry.pop("ph_positive_percent")
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[entry])
    assert_fires(ev, "high-risk-aca-on-treatment", "cca-ph-positive-on-treatment")


def test_any_aca_in_ph_positive_cells_is_failure_under_eln_2013(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto(12, "+21")])
    assert_fires(ev, "cca-ph-positive-on-treatment", "event-category")
    assert "cca-ph-positive" in events(ev)
    assert eln(ev) == "failure"


def test_ph_positive_aca_event_has_no_eln_2020_category(kb):
    # ELN 2020 grades ACAs by its high-risk list: +21 is not in it
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto(12, "+21")])
    assert_fires(ev, "cca-ph-positive-on-treatment")
    assert_not_fires(ev, "event-category")


def test_aca_at_baseline_is_no_ph_positive_event_on_treatment(kb):
    ev = run(kb, bcr_abl1=[bcr(1, 50.0)], cytogenetics=[cyto(-0.3, "+21")])
    assert_not_fires(ev, "cca-ph-positive-on-treatment")


def test_minus7_in_ph_negative_cells_is_an_eln_2013_warning_with_marrow_cytogenetics(kb):
    ev = run(
        kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto_ph(12, 0, "-7")]
    )
    assert_fires(ev, "cca-ph-negative-chr7", "cca-ph-negative-chr7-cytogenetics")
    assert "ccA-ph-negative-chr7" in events(ev)
    assert eln(ev) == "warning"
    assert "marrow-cytogenetics" in ev.result["actions"]
    assert_not_fires(ev, "high-risk-aca-on-treatment", "cca-ph-positive-on-treatment")
    assert ev.result["resistance"]["status"] != "progression"


def test_7q_deletion_in_ph_negative_cells_under_eln_2020_repeats_cytogenetics_only(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto_ph(12, 0, "7q-")])
    assert_fires(ev, "cca-ph-negative-chr7", "cca-ph-negative-chr7-cytogenetics")
    assert eln(ev) == "optimal"  # ELN 2020 gives CCA/Ph- no category
    assert "marrow-cytogenetics" in ev.result["actions"]


def test_minus7_in_ph_positive_cells_is_not_the_ph_negative_warning(kb):
    ev = run(
        kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto_ph(12, 40, "-7")]
    )
    assert_not_fires(ev, "cca-ph-negative-chr7", "cca-ph-negative-chr7-cytogenetics")
    assert_fires(ev, "cca-ph-positive-on-treatment")
    assert eln(ev) == "failure"


def test_other_aca_in_ph_negative_cells_is_no_chromosome_7_warning(kb):
    ev = run(
        kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05)], cytogenetics=[cyto_ph(12, 0, "+8")]
    )
    assert_not_fires(ev, "cca-ph-negative-chr7", "cca-ph-negative-chr7-cytogenetics")
    assert "marrow-cytogenetics" not in ev.result["actions"]


# confirmed-loss-of-response: ELN 2013 confirmed loss of MMR (issue 9 item 11) -----------


def test_eln_2013_loss_of_mmr_on_two_consecutive_tests_one_above_1_percent_is_failure(kb):
    ev = run(
        kb,
        guideline="eln-2013",
        bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5), bcr(20, 1.5)],
    )
    assert_fires(ev, "confirmed-loss-of-response")
    assert "confirmed-loss-of-mmr" in events(ev)
    assert derived(ev, "finding", family="eln", basis="event", detail="confirmed-loss-of-mmr")
    assert eln(ev) == "failure"
    assert ev.result["resistance"]["status"] == "secondary"


def test_eln_2013_confirmation_with_the_earlier_test_at_1_percent(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05), bcr(18, 1.0), bcr(20, 0.5)])
    assert_fires(ev, "confirmed-loss-of-response-earlier-high")
    assert_not_fires(ev, "confirmed-loss-of-response")
    assert eln(ev) == "failure"


def test_eln_2013_latest_at_1_percent_is_not_the_earlier_high_rule(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5), bcr(20, 1.0)])
    assert_fires(ev, "confirmed-loss-of-response")
    assert_not_fires(ev, "confirmed-loss-of-response-earlier-high")


def test_eln_2013_loss_of_ccyr_read_from_bcr_abl1_alone_is_not_failure(kb):
    # CCyR ~ <= 1 % IS is a rough equivalent (U-high); ELN 2013 defines loss of CCyR on
    # marrow cytogenetics, so a single rise to 2 % after 0.5 % is a warning.
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.5), bcr(18, 2.0)])
    assert "loss-of-ccyr" in events(ev)
    assert not derived(ev, "finding", family="eln", detail="loss-of-ccyr")
    assert eln(ev) == "warning"


def test_eln_2013_two_tests_above_mmr_both_below_1_percent_is_not_confirmed(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5), bcr(20, 0.9)])
    assert_not_fires(ev, "confirmed-loss-of-response")
    assert eln(ev) == "warning"


def test_eln_2013_single_loss_of_mmr_even_above_1_percent_is_not_failure(kb):
    ev = run(kb, guideline="eln-2013", bcr_abl1=[bcr(12, 0.05), bcr(18, 2.0)])
    assert_not_fires(ev, "confirmed-loss-of-response")
    assert "loss-of-mmr" in events(ev)
    assert eln(ev) == "warning"
    assert "confirm-bcr-abl1" in ev.result["actions"]


def test_eln_2013_mmr_regained_between_two_high_results_is_not_confirmed(kb):
    ev = run(
        kb,
        guideline="eln-2013",
        bcr_abl1=[bcr(12, 0.05), bcr(15, 1.5), bcr(18, 0.05), bcr(21, 1.5)],
    )
    assert_not_fires(ev, "confirmed-loss-of-response")
    assert eln(ev) == "warning"


# log-rise-with-loss-of-response / log-rise-event: NCCN 1-log rise with loss of MMR -------


def test_rise_of_more_than_one_log_with_loss_of_mmr_is_an_event(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.01), bcr(18, 0.5)])
    assert_fires(ev, "log-rise-with-loss-of-response", "log-rise-event")
    assert "1-log-rise-with-loss-of-mmr" in events(ev)
    assert ev.result["mutation_testing"]["indication"] == "required"


def test_rise_of_exactly_one_log_counts_and_just_under_does_not(kb):
    assert_fires(run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)]), "log-rise-event")
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.49)])
    assert_not_fires(ev, "log-rise-with-loss-of-response", "log-rise-event")


def test_rise_of_one_log_without_mmr_ever_reached_is_no_event(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5), bcr(12, 8.0)])
    assert_not_fires(ev, "log-rise-with-loss-of-response", "log-rise-event")


def test_rise_seen_on_an_earlier_result_only_is_no_event_now(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.01), bcr(15, 0.5), bcr(18, 0.005)])
    assert_fires(ev, "log-rise-with-loss-of-response")
    assert_not_fires(ev, "log-rise-event")
