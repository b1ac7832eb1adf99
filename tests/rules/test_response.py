"""rules/response.yaml: response levels, milestone scopes and categories, current category.

Boundaries are the sources' (Cross 2023; ELN 2020 milestone table): MMR is <= 0.1 % IS
(inclusive), the ELN 2020 6-month optimal band is <= 1 %, a single 3-month value > 10 % is
a warning until a repeat within 1-3 months confirms it as failure.
"""

from __future__ import annotations

import pytest

from tests.casekit import (
    START,
    analysis,
    assert_fires,
    assert_no_conclusion,
    assert_not_fires,
    at,
    bcr,
    by_rule,
    derived,
    eln,
    history,
    run,
)


def levels(ev, idx=0):
    return {f["level"] for f in derived(ev, "response-level", bcr=idx)}


# response-level-quantified ----------------------------------------------------------------


def test_mmr_is_inclusive_at_exactly_0_1_percent(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.1)])
    assert_fires(ev, "response-level-quantified")
    assert levels(ev) == {"MMR"}
    assert ev.result["response"]["molecular_response"] == "MMR"


def test_just_above_0_1_percent_is_not_mmr(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.100001)])  # one unit of the engine's IS scale above
    assert_not_fires(ev, "response-level-quantified")
    assert levels(ev) == set()
    assert ev.result["response"]["molecular_response"] == "none"


def test_value_finer_than_the_scale_above_0_1_percent_is_not_mmr(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.1000001)])
    assert levels(ev) == set()


def test_deep_response_levels_are_cumulative(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.0032)])
    assert levels(ev) == {"MMR", "MR4", "MR4.5"}
    assert ev.result["response"]["molecular_response"] == "MR4.5"


# response-level-undetectable --------------------------------------------------------------


def test_undetectable_with_10000_abl1_copies_is_mr4(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=10000)])
    assert_fires(ev, "response-level-undetectable")
    assert_not_fires(ev, "response-level-quantified")
    assert levels(ev) == {"MR4"}


def test_undetectable_with_9999_abl1_copies_reaches_no_level(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=9999)])
    assert_not_fires(ev, "response-level-undetectable")
    assert levels(ev) == set()


def test_undetectable_gusb_needs_24000_copies_for_mr4(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=23999, control_gene="GUSB")])
    assert levels(ev) == set()
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=24000, control_gene="GUSB")])
    assert_fires(ev, "response-level-undetectable")
    assert levels(ev) == {"MR4"}


def test_undetectable_with_100000_abl1_copies_is_mr5(kb):
    ev = run(kb, bcr_abl1=[bcr(12, None, control_copies=100000)])
    assert levels(ev) == {"MR4", "MR4.5", "MR5"}
    assert ev.result["response"]["molecular_response"] == "MR5"


# milestone scopes ------------------------------------------------------------------------


def scopes(ev):
    return {f["scope"] for f in derived(ev, "milestone-scope")}


def test_scope_any_and_first_line_on_a_first_therapy(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "milestone-scope-any", "milestone-scope-first-line")
    assert scopes(ev) == {"any", "first"}


def test_no_scope_off_therapy(kb):
    ev = run(kb, **history(("imatinib", "tfr"), current=None), bcr_abl1=[bcr(1, 0.01)])
    assert_not_fires(ev, "milestone-scope-any", "milestone-scope-first-line")
    assert scopes(ev) == set()


def test_second_line_is_not_first_line_scope(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "milestone-scope-first-line", "milestone-scope-after-intolerance")
    assert_fires(ev, "milestone-scope-second-after-imatinib-failure")
    assert scopes(ev) == {"any", "second-after-imatinib-failure"}


def test_first_line_scope_after_a_switch_for_intolerance(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "milestone-scope-after-intolerance")
    assert_not_fires(ev, "milestone-scope-second-after-imatinib-failure")
    assert "first" in scopes(ev)


def test_no_first_line_scope_after_intolerance_if_a_drug_also_failed(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("nilotinib", "intolerance")),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_not_fires(ev, "milestone-scope-after-intolerance")
    assert "first" not in scopes(ev)


def test_second_line_scope_only_after_imatinib_failure(kb):
    ev = run(
        kb, **history(("dasatinib", "resistance"), current="nilotinib"), bcr_abl1=[bcr(6, 0.5)]
    )
    assert_not_fires(ev, "milestone-scope-second-after-imatinib-failure")
    assert scopes(ev) == {"any"}


# milestone-category ----------------------------------------------------------------------


def test_6_months_exactly_1_percent_is_optimal_eln_2020(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 1.0)])
    assert_fires(ev, "milestone-category", "current-milestone-finding")
    assert eln(ev) == "optimal"


def test_6_months_just_above_1_percent_is_warning_eln_2020(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 1.000001)])
    assert eln(ev) == "warning"


def test_6_months_above_10_percent_is_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 10.1)])
    assert eln(ev) == "failure"
    assert ev.result["response"]["nccn"] == "red"


def test_12_months_0_1_percent_optimal_and_just_above_warning(kb):
    assert eln(run(kb, bcr_abl1=[bcr(12, 0.1)])) == "optimal"
    assert eln(run(kb, bcr_abl1=[bcr(12, 0.100001)])) == "warning"
    assert eln(run(kb, bcr_abl1=[bcr(12, 1.0)])) == "warning"
    assert eln(run(kb, bcr_abl1=[bcr(12, 1.000001)])) == "failure"


def test_eln_2013_is_selectable_and_reads_the_6_month_bound_exclusively(kb):
    # ELN 2013 6 months: optimal < 1 %, warning 1-10 % (ELN 2013 first-line table)
    case = {"bcr_abl1": [bcr(6, 1.0)]}
    assert eln(run(kb, guideline="eln-2013", **case)) == "warning"
    assert eln(run(kb, guideline="eln-2020", **case)) == "optimal"
    ev = run(kb, guideline="eln-2013", **case)
    assert ev.result["knowledge"]["guideline"] == "eln-2013"


def test_eln_2013_second_line_table_after_imatinib_failure(kb):
    # second line after imatinib failure, 6 months: <= 10 % optimal (ELN 2013, PMC4915804 Table 6)
    case = dict(history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 5.0)])
    assert eln(run(kb, guideline="eln-2013", **case)) == "optimal"
    assert eln(run(kb, guideline="eln-2020", **case)) == "warning"


def test_no_milestone_category_before_the_first_window(kb):
    ev = run(kb, bcr_abl1=[bcr(1, 40.0)])
    assert_not_fires(
        ev, "milestone-category", "milestone-category-unconfirmed", "current-milestone-finding"
    )
    assert eln(ev) is None


def test_result_on_a_previous_therapy_takes_no_milestone_category(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(-6, 20.0)])
    assert_not_fires(ev, "milestone-category", "milestone-category-unconfirmed")


# 3-month confirmation --------------------------------------------------------------------


def test_single_3_month_value_above_10_percent_is_warning_awaiting_confirmation(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0)])
    assert_fires(ev, "milestone-category-unconfirmed")
    assert_not_fires(ev, "milestone-category-confirmed")
    assert eln(ev) == "warning"
    assert derived(ev, "awaiting-confirmation", bcr=0)


def test_3_month_value_of_exactly_10_percent_is_optimal_and_needs_no_repeat(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 10.0)])
    assert_not_fires(ev, "milestone-category-unconfirmed")
    assert eln(ev) == "optimal"


def test_3_month_value_confirmed_within_1_to_3_months_is_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0), bcr(5, 14.0)])
    assert_fires(ev, "milestone-category-confirmed")
    assert derived(ev, "confirmation", bcr=0, by=1)
    assert derived(ev, "finding", family="eln", category="failure", detail="3m", bcr=1)
    assert eln(ev) == "failure"


def test_repeat_more_than_3_months_later_does_not_confirm_the_3_month_value(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0), bcr(7.2, 14.0)])
    assert_not_fires(ev, "milestone-category-confirmed")
    assert not derived(ev, "confirmation")
    assert not derived(ev, "finding", family="eln", category="failure", detail="3m")
    # the 3-month result stays a warning
    assert derived(ev, "finding", family="eln", category="warning", detail="3m", bcr=0)


def test_repeat_at_or_below_10_percent_does_not_confirm(kb):
    ev = run(kb, bcr_abl1=[bcr(3, 15.0), bcr(4.2, 10.0)])
    assert_not_fires(ev, "milestone-category-confirmed")
    assert eln(ev) == "optimal"


def test_repeat_less_than_a_month_later_does_not_confirm(kb):
    ev = run(kb, bcr_abl1=[bcr(2.5, 15.0), bcr(3.3, 14.0)])
    assert_not_fires(ev, "milestone-category-confirmed")
    assert eln(ev) == "warning"


# current category ------------------------------------------------------------------------


def test_current_category_is_that_of_the_latest_result(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0), bcr(12, 0.05)])
    assert eln(ev) == "optimal"
    assert_no_conclusion(ev, "current-milestone-finding", category="failure")


def test_nccn_2027_has_no_category_after_12_months(kb):
    ev = run(kb, bcr_abl1=[bcr(18, 0.05)])
    assert eln(ev) == "optimal"
    assert ev.result["response"]["nccn"] is None
    assert not [f for f in by_rule(ev, "current-milestone-finding") if f["family"] == "nccn"]


def test_current_event_finding_loss_of_mmr(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert_fires(ev, "current-event-finding")
    assert derived(ev, "current-finding", family="eln", basis="event", detail="loss-of-mmr")


def test_no_current_event_finding_without_events(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.04)])
    assert_not_fires(ev, "current-event-finding")


def test_baseline_finding_holds_until_the_first_milestone_result(kb):
    ev = run(kb, diagnosis={"elts_risk": "high"}, bcr_abl1=[bcr(1, 30.0)])
    assert_fires(ev, "current-baseline-finding")
    assert eln(ev) == "warning"
    assert ev.result["response"]["eln_basis"][0]["basis"] == "baseline"


def test_baseline_finding_gives_way_to_a_milestone_result(kb):
    ev = run(kb, diagnosis={"elts_risk": "high"}, bcr_abl1=[bcr(12, 0.05)])
    assert_not_fires(ev, "current-baseline-finding")
    assert eln(ev) == "optimal"


def test_analysis_helper_builds_valid_negative_analysis(kb):
    # the builder's negative analysis validates and is read as negative
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)], mutation_analyses=[analysis(6)])
    assert derived(ev, "analysis", negative=True)
    assert at(6) > START


# Values beyond the scale (issue 9 item 15): bands are open-ended at the top -------------
# The `is` scale saturates at `unbounded` (rules/facts.yaml): 10^6 % IS and anything above
# it take the top band of the time point, never fall out of every band.


def _failure_at_6_months(kb, value):
    ev = run(kb, bcr_abl1=[bcr(3, 5.0), bcr(6, value)])
    assert derived(ev, "finding", family="eln", basis="milestone", bcr=1, category="failure")
    assert eln(ev) == "failure"
    assert ev.result["response"]["nccn"] == "red"
    return ev


def test_6_month_value_of_10_to_the_6_percent_is_failure(kb):
    ev = _failure_at_6_months(kb, 1e6)
    assert_fires(ev, "milestone-category")


def test_6_month_value_of_10_to_the_7_percent_is_failure(kb):
    _failure_at_6_months(kb, 1e7)


def test_6_month_value_just_below_the_top_of_the_scale_is_failure(kb):
    _failure_at_6_months(kb, 999999.999999)


def _validated_report(kb, value_text):
    import json

    from cmlkb.case.read import CaseInput, parse_json
    from cmlkb.case.validation import validate
    from tests.casekit import make_raw

    raw = make_raw(bcr_abl1=[bcr(3, 5.0), bcr(6, 1.5)])
    text = json.dumps(raw).replace('"is_percent": 1.5', f'"is_percent": {value_text}')
    parsed = parse_json(text)
    return parsed["id"], validate([CaseInput("huge.json", parsed, parsed["id"], None)], kb)


def test_largest_value_validation_accepts_is_failure(kb):
    # validation accepts is_percent up to the largest finite double (ontology/case.schema.json
    # maximum), so every output can print it; the engine must neither overflow nor soften
    # the verdict.
    import json

    from tests.casekit import evaluate

    case_id, report = _validated_report(kb, "1.7976931348623157e308")
    assert report.ok
    ev = evaluate(kb, report.cases[case_id])
    assert derived(ev, "finding", family="eln", basis="milestone", bcr=1, category="failure")
    assert eln(ev) == "failure"
    assert ev.result["response"]["nccn"] == "red"
    assert ev.result["response"]["molecular_response"] == "none"
    # the JSON output stays valid JSON (no Infinity)
    json.loads(json.dumps(ev.result, allow_nan=False))


def test_a_value_beyond_the_largest_double_is_refused_with_its_field(kb):
    _, report = _validated_report(kb, "1E+999999")
    assert not report.ok
    assert any(
        p.path == "bcr_abl1[1].is_percent" and "at most" in p.expected for p in report.violations
    )


def test_value_beyond_the_scale_is_not_a_response_level(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 1e7)])
    assert_not_fires(ev, "response-level-quantified")


# Atypical transcripts (issue 9 item 9): the IS milestones do not apply ------------------
# The International Scale quantifies e13a2/e14a2 (knowledge kind measure-transcript); for
# any other transcript no ELN/NCCN category and no MR level is drawn from is_percent.


def _without_transcript(kb, **changes):
    from tests.casekit import evaluate, make_raw, validated

    raw = make_raw(**changes)
    del raw["diagnosis"]["transcript"]
    return evaluate(kb, validated(kb, raw))


@pytest.mark.parametrize("transcript", ["e1a2", "e19a2", "e13a3", "e14a3", "other"])
def test_atypical_transcript_draws_no_category_from_is(kb, transcript):
    ev = run(kb, diagnosis={"transcript": transcript}, bcr_abl1=[bcr(3, 20.0), bcr(6, 15.0)])
    assert_fires(ev, "is-not-applicable-atypical-transcript")
    assert_not_fires(
        ev,
        "is-applies-to-transcript",
        "is-applies-transcript-unknown",
        "milestone-category",
        "milestone-category-unconfirmed",
        "response-level-quantified",
    )
    response = ev.result["response"]
    assert response["eln"] is None and response["nccn"] is None
    assert response["molecular_response"] is None
    assert response["is_not_applicable"]["transcript"] == transcript
    assert response["latest_bcr_abl1_is_percent"] == 15.0
    assert ev.result["resistance"]["status"] == "none"


def test_atypical_transcript_has_no_loss_of_mmr_on_is(kb):
    ev = run(kb, diagnosis={"transcript": "e1a2"}, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert_not_fires(ev, "loss-of-response")
    assert ev.result["response"]["eln"] is None


def test_typical_transcript_applies_the_is(kb):
    ev = run(kb, diagnosis={"transcript": "e13a2"}, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "is-applies-to-transcript", "milestone-category")
    assert_not_fires(ev, "is-not-applicable-atypical-transcript", "is-applies-transcript-unknown")
    assert eln(ev) == "failure"
    assert "is_not_applicable" not in ev.result["response"]


def test_unrecorded_transcript_is_taken_as_typical(kb):
    ev = _without_transcript(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "is-applies-transcript-unknown", "milestone-category")
    assert_not_fires(ev, "is-applies-to-transcript", "is-not-applicable-atypical-transcript")
    assert eln(ev) == "failure"
    assert "is_not_applicable" not in ev.result["response"]
