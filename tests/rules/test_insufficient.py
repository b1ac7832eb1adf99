"""rules/insufficient.yaml: conclusions that cannot be drawn, and the data that would settle
them (unknown is not normal)."""

from __future__ import annotations

from tests.casekit import (
    START,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    history,
    plus_days,
    run,
)


def missing(ev):
    return {i["missing"] for i in ev.result["insufficient_data"]}


def test_no_result_at_all(kb):
    ev = run(kb, bcr_abl1=[])
    assert_fires(ev, "insufficient-no-result")
    assert ev.result["response"]["eln"] is None


def test_a_result_settles_no_result(kb):
    assert_not_fires(run(kb, bcr_abl1=[bcr(6, 0.5)]), "insufficient-no-result")


def test_result_184_days_old_is_stale(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], assessed_on=plus_days(at(12), 184))
    assert_fires(ev, "insufficient-stale-result")


def test_result_183_days_old_is_not_stale(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], assessed_on=plus_days(at(12), 183))
    assert_not_fires(ev, "insufficient-stale-result")


def test_missed_3_month_milestone(kb):
    ev = run(kb, bcr_abl1=[bcr(7, 0.5)])
    assert_fires(ev, "insufficient-missed-milestone")
    assert any("between months 2 and 4.5" in m for m in missing(ev))


def test_every_passed_milestone_has_a_result(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 5.0), bcr(6, 0.5), bcr(12, 0.05), bcr(14, 0.04)])
    assert_not_fires(ev, "insufficient-missed-milestone")


def test_unconfirmed_3_month_failure_is_insufficient(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0)])
    assert_fires(ev, "insufficient-unconfirmed")


def test_3_month_value_at_10_percent_needs_no_confirmation(kb):
    assert_not_fires(run(kb, bcr_abl1=[bcr(3, 10.0)]), "insufficient-unconfirmed")


def test_adherence_not_assessed_is_insufficient(kb):
    ev = run(kb, adherence=None, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "insufficient-adherence")
    assert "an adherence assessment" in missing(ev)


def test_adherence_assessed_as_unknown_is_not_never_assessed(kb):
    ev = run(kb, adherence={"assessed_on": START, "status": "unknown"}, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "insufficient-adherence")


def test_dose_not_recorded_is_insufficient(kb):
    ev = run(kb, therapies=[{"drug": "imatinib", "start": START}], bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "insufficient-dose")
    assert any("therapies[0].dose_mg" in m for m in missing(ev))


def test_recorded_dose_is_sufficient(kb):
    assert_not_fires(run(kb, bcr_abl1=[bcr(6, 0.5)]), "insufficient-dose")


def test_required_testing_not_done_leaves_the_mutation_status_unknown(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "insufficient-mutation-status")


def test_considered_testing_does_not_make_the_mutation_status_insufficient(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_not_fires(ev, "insufficient-mutation-status")


def test_undetectable_with_too_few_copies_is_insufficient(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=9999)])
    assert_fires(ev, "insufficient-undetectable-sensitivity")
    assert ev.result["response"]["molecular_response"] is None


def test_undetectable_with_enough_copies_is_sufficient(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=10000)])
    assert_not_fires(ev, "insufficient-undetectable-sensitivity")


def test_no_eln_milestone_applies_to_a_result_before_3_months(kb):
    ev = run(kb, bcr_abl1=[bcr(1, 40.0)])
    assert_fires(ev, "insufficient-no-milestone-applies")
    assert any(
        i["conclusion"] == "ELN category under eln-2020" for i in ev.result["insufficient_data"]
    )


def test_eln_2013_has_no_milestone_in_third_line(kb):
    from tests.casekit import history

    ev = run(
        kb,
        guideline="eln-2013",
        bcr_abl1=[bcr(6, 0.5)],
        **history(("imatinib", "resistance"), ("dasatinib", "resistance"), current="ponatinib"),
    )
    assert_fires(ev, "insufficient-no-milestone-applies")
    assert ev.result["response"]["eln"] is None


def test_a_milestone_category_settles_it(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "insufficient-no-milestone-applies")


def test_adherence_unknown_is_insufficient_data(kb):
    ev = run(kb, adherence={"assessed_on": START, "status": "unknown"})
    assert_fires(ev, "insufficient-adherence-unknown")
    assert_not_fires(ev, "insufficient-adherence")


def test_adherence_not_assessed_is_not_the_unknown_result(kb):
    ev = run(kb, adherence=None)
    assert_not_fires(ev, "insufficient-adherence-unknown")
    assert_fires(ev, "insufficient-adherence")


# insufficient-missed-milestone: overdue results (issue 9 item 10) ------------------------


def test_6_month_result_overdue_at_8_months_is_listed(kb):
    # 8 months on therapy, the last result at 3 months: nothing between months 5 and 7.
    ev = run(kb, bcr_abl1=[bcr(3, 5.0)], assessed_on=at(8))
    assert_fires(ev, "insufficient-missed-milestone")
    assert any(
        i["conclusion"] == "ELN response at 6 months"
        and "between months 4.5 and 9" in i["missing"]
        and "due by month 7" in i["missing"]
        for i in ev.result["insufficient_data"]
    )


def test_6_month_result_not_yet_overdue_at_6_and_a_half_months(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 5.0)], assessed_on=at(6.5))
    assert_not_fires(ev, "insufficient-missed-milestone")


def test_missed_6_month_milestone_is_listed_although_a_later_result_exists(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 5.0), bcr(12, 0.05)])
    assert_fires(ev, "insufficient-missed-milestone")
    concluded = {i["conclusion"] for i in ev.result["insufficient_data"]}
    assert concluded == {"ELN response at 6 months"}


def test_late_6_month_result_inside_the_window_settles_the_milestone(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 5.0), bcr(8, 0.8)], assessed_on=at(8.5))
    assert_not_fires(ev, "insufficient-missed-milestone")


def test_missed_milestone_of_a_previous_therapy_is_not_listed(kb):
    # The current therapy started 2 months ago: no milestone of it is due yet, and the
    # first therapy's milestones are not the current one's.
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(2, 0.5)])
    assert_not_fires(ev, "insufficient-missed-milestone")


def test_no_missed_milestone_off_therapy(kb):
    ev = run(
        kb,
        **history(("imatinib", "tfr"), current=None),
        bcr_abl1=[bcr(-1, 0.005)],
        assessed_on=at(6),
    )
    assert_not_fires(ev, "insufficient-missed-milestone")


# atypical or unrecorded transcript (issue 9 item 9) --------------------------------------


def test_atypical_transcript_says_what_would_settle_the_response(kb):
    ev = run(kb, diagnosis={"transcript": "e19a2"}, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "insufficient-atypical-transcript")
    assert_not_fires(ev, "insufficient-no-milestone-applies", "insufficient-transcript-unknown")
    (item,) = [
        i for i in ev.result["insufficient_data"] if "International Scale" in i["conclusion"]
    ]
    assert "bone marrow cytogenetics" in item["missing"]
    assert "specific to the e19a2 transcript" in item["missing"]


def test_typical_transcript_is_not_insufficient(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "insufficient-atypical-transcript", "insufficient-transcript-unknown")


def test_unrecorded_transcript_is_listed_beside_the_category(kb):
    from tests.casekit import evaluate, make_raw, validated

    raw = make_raw(bcr_abl1=[bcr(6, 15.0)])
    del raw["diagnosis"]["transcript"]
    ev = evaluate(kb, validated(kb, raw))
    assert_fires(ev, "insufficient-transcript-unknown")
    assert ev.result["response"]["eln"] == "failure"
    assert any(
        i["missing"] == "the BCR::ABL1 transcript type (diagnosis.transcript)"
        for i in ev.result["insufficient_data"]
    )
