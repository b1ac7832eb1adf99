"""rules/transplant.yaml: reasons to consider allogeneic transplant
(NCCN CML-6, Niederwieser 2022)."""

from __future__ import annotations

from tests.casekit import (
    analysis,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    history,
    run,
)


def triggers(ev):
    return {f["trigger"] for f in derived(ev, "transplant-reason")}


def test_two_tkis_failed_is_a_transplant_trigger(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "resistance"), current="ponatinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(ev, "transplant-trigger-situation")
    assert "two-or-more-tki-failures" in triggers(ev)
    assert ev.result["transplant"]["consider"] is True


def test_one_tki_failed_first_line_is_no_transplant_trigger(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "transplant-trigger-situation", "transplant-trigger-2g-failure")
    assert ev.result["transplant"]["consider"] is False


def test_progression_is_a_transplant_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 16}])
    assert_fires(ev, "transplant-trigger-event")
    assert "progression" in triggers(ev)


def test_high_risk_aca_on_treatment_is_a_transplant_trigger(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(12, 0.05)],
        cytogenetics=[{"date": at(12), "metaphases": 20, "abnormalities": ["-7"]}],
    )
    assert "high-risk-aca-on-treatment" in triggers(ev)


def test_loss_of_mmr_is_no_transplant_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert_not_fires(ev, "transplant-trigger-event")
    assert triggers(ev) == set()


def test_2g_tki_failure_is_a_transplant_trigger(kb):
    ev = run(
        kb, **history(("dasatinib", "resistance"), current="asciminib"), bcr_abl1=[bcr(6, 0.5)]
    )
    assert_fires(ev, "transplant-trigger-2g-failure")
    assert "2g-tki-failure" in triggers(ev)


def test_current_2g_failure_is_a_transplant_trigger(kb):
    ev = run(
        kb, **history(("imatinib", "intolerance"), current="nilotinib"), bcr_abl1=[bcr(6, 15.0)]
    )
    assert_fires(ev, "transplant-trigger-2g-failure")


def test_t315i_is_a_transplant_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "T315I")])
    assert_fires(ev, "transplant-trigger-variant")
    assert_not_fires(ev, "transplant-trigger-compound-variant")
    assert "t315i" in triggers(ev)


def test_other_mutation_is_no_variant_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "E255K")])
    assert_not_fires(ev, "transplant-trigger-variant", "transplant-trigger-compound-variant")


def test_t315i_inclusive_compound_is_a_transplant_trigger(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )
    assert_fires(ev, "transplant-trigger-compound-variant")
    assert "t315i-compound" in triggers(ev)


def test_compound_without_t315i_is_no_compound_trigger(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "E255K", "F317L", compound=[["E255K", "F317L"]])],
    )
    assert_not_fires(ev, "transplant-trigger-compound-variant")


def test_some_tki_left_is_no_no_tki_left_trigger(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "transplant-trigger-no-tki-left")


def test_intolerance_of_two_tkis_is_a_transplant_trigger(kb):
    # Issue 9 item 7: with an optimal response on the third TKI past intolerances are
    # context only (test_two_intolerances_then_optimal_on_a_third_is_no_transplant); a
    # warning on the third keeps the trigger (was: optimal 0.5 % at 6 months).
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 5.0)],
    )
    assert_fires(ev, "transplant-trigger-multi-intolerance")
    assert "multi-tki-intolerance" in triggers(ev)


def test_intolerance_of_the_same_tki_twice_is_not_multi_intolerance(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("imatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_not_fires(ev, "transplant-trigger-multi-intolerance")


# issue 9 item 7: the present, and each reason once ---------------------------------------


def test_two_intolerances_then_optimal_on_a_third_is_no_transplant(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(ev, "transplant-history-context")
    assert_not_fires(ev, "transplant-trigger-multi-intolerance", "transplant-trigger-situation")
    assert ev.result["transplant"]["consider"] is False
    assert not {"evaluate-allo-sct", "hla-typing"} & set(ev.result["actions"])


def test_a_tki_stopped_for_resistance_keeps_the_history_trigger_when_optimal(kb):
    # Judgement call: resistance to two TKIs keeps transplant in view (responses to a
    # third TKI are often not durable); only intolerance history becomes context.
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_not_fires(ev, "transplant-history-context")
    assert "two-or-more-tki-failures" in triggers(ev)


def test_transplant_reasons_are_listed_once_with_each_drug_once(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 5.0)],
    )
    listed = ev.result["transplant"]["reasons"]
    assert sorted(r["trigger"] for r in listed) == [
        "multi-tki-intolerance",
        "two-or-more-tki-failures",
    ]
    by_trigger = {r["trigger"]: r["detail"] for r in listed}
    assert by_trigger["multi-tki-intolerance"] == "dasatinib not tolerated; imatinib not tolerated"
    detail = by_trigger["two-or-more-tki-failures"]
    assert detail.count("imatinib") == 1 and detail.count("dasatinib") == 1


# issue 9 item 1: no plain TKI left when the current one must change ---------------------


def test_compound_t315i_on_imatinib_leaves_no_plain_tki(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(6, 5.0)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )
    assert_fires(ev, "transplant-trigger-no-plain-tki")
    assert "no-tki-left" in triggers(ev)


def test_t315i_alone_leaves_asciminib_as_a_plain_tki(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], mutation_analyses=[analysis(6, "T315I")])
    assert_not_fires(ev, "transplant-trigger-no-plain-tki")


# advanced phase at diagnosis (issue 9 item 14) ------------------------------------------


def test_accelerated_phase_at_diagnosis_calls_for_hla_typing_and_transplant_evaluation(kb):
    ev = run(kb, diagnosis={"phase": "accelerated"}, bcr_abl1=[bcr(0, 80.0), bcr(3, 20.0)])
    assert_fires(ev, "transplant-trigger-accelerated-phase-at-diagnosis")
    assert "accelerated-phase-at-diagnosis" in triggers(ev)
    assert ev.result["transplant"]["consider"] is True
    assert {"hla-typing", "evaluate-allo-sct"} <= set(ev.result["actions"])


def test_accelerated_phase_at_diagnosis_in_optimal_response_is_not_flagged(kb):
    ev = run(kb, diagnosis={"phase": "accelerated"}, bcr_abl1=[bcr(12, 0.05)])
    assert ev.result["response"]["eln"] == "optimal"
    assert_not_fires(ev, "transplant-trigger-accelerated-phase-at-diagnosis")
    assert ev.result["transplant"]["consider"] is False


def test_blast_phase_at_diagnosis_transplant_once_remission_is_reached(kb):
    ev = run(kb, diagnosis={"phase": "blast"}, bcr_abl1=[bcr(0, 150.0), bcr(2, 120.0)])
    assert_fires(ev, "transplant-trigger-blast-phase-at-diagnosis")
    (reason,) = [
        r for r in ev.result["transplant"]["reasons"] if r["trigger"] == "blast-phase-in-remission"
    ]
    assert "once remission" in reason["detail"]
    assert {"hla-typing", "evaluate-allo-sct"} <= set(ev.result["actions"])
    assert_not_fires(ev, "transplant-trigger-accelerated-phase-at-diagnosis")


def test_chronic_phase_at_diagnosis_is_no_advanced_phase_transplant_trigger(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 20.0)])
    assert_not_fires(
        ev,
        "transplant-trigger-accelerated-phase-at-diagnosis",
        "transplant-trigger-blast-phase-at-diagnosis",
    )
