"""rules/resistance.yaml: extrinsic causes (Soverini 2026) and the resistance status."""

from __future__ import annotations

from tests.casekit import (
    START,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    history,
    plus_days,
    run,
)


def causes(ev):
    return {f["cause"] for f in derived(ev, "extrinsic")}


def resistance(ev):
    return ev.result["resistance"]


# adherence -------------------------------------------------------------------------------


def test_adherence_not_assessed_is_an_extrinsic_cause_not_excluded(kb):
    ev = run(kb, adherence=None, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "extrinsic-adherence")
    assert_not_fires(ev, "extrinsic-causes-excluded")
    assert causes(ev) == {"adherence"}
    assert resistance(ev)["extrinsic_causes_excluded"] is False
    assert ev.result["insufficient_data"]


def test_non_adherent_and_unknown_are_extrinsic_causes(kb):
    # Issue 9 item 2: non-adherence is a documented cause (its own rule), unknown is
    # missing data (extrinsic-adherence); both leave extrinsic causes not excluded.
    for value, rule in (
        ("non-adherent", "extrinsic-non-adherence"),
        ("unknown", "extrinsic-adherence"),
    ):
        ev = run(kb, adherence={"assessed_on": START, "status": value})
        assert_fires(ev, rule)
        assert causes(ev) == {"adherence"}


def test_adherent_is_no_extrinsic_cause(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "extrinsic-adherence")
    assert_fires(ev, "extrinsic-causes-excluded")
    assert resistance(ev)["extrinsic_causes_excluded"] is True


# interactions ----------------------------------------------------------------------------


def test_omeprazole_with_dasatinib_is_an_extrinsic_cause(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), comedications=["omeprazole"])
    assert_fires(ev, "extrinsic-interaction")
    assert causes(ev) == {"interaction"}


def test_omeprazole_with_imatinib_is_no_extrinsic_cause(kb):
    # ESMO: omeprazole has no effect on imatinib (ESMO acid-reducer table)
    ev = run(kb, comedications=["omeprazole"])
    assert_not_fires(ev, "extrinsic-interaction")
    assert_fires(ev, "extrinsic-causes-excluded")


# dose ------------------------------------------------------------------------------------


def test_imatinib_300_mg_first_line_is_a_dose_reduction(kb):
    ev = run(kb, therapies=[{"drug": "imatinib", "dose_mg": 300, "start": START}])
    assert_fires(ev, "extrinsic-dose-below-standard-first-line")
    assert causes(ev) == {"dose"}


def test_imatinib_400_mg_first_line_is_no_dose_reduction(kb):
    ev = run(kb)
    assert_not_fires(
        ev,
        "extrinsic-dose-below-standard-first-line",
        "extrinsic-dose-below-standard-later-line",
        "extrinsic-dose-not-recorded",
    )


def test_dose_change_down_counts_as_current_dose(kb):
    ev = run(
        kb,
        therapies=[
            {
                "drug": "imatinib",
                "dose_mg": 400,
                "start": START,
                "dose_changes": [{"date": at(2), "dose_mg": 300}],
            }
        ],
    )
    assert_fires(ev, "extrinsic-dose-below-standard-first-line")


def test_nilotinib_300_bid_first_line_is_the_approved_dose(kb):
    ev = run(
        kb, therapies=[{"drug": "nilotinib", "dose_mg": 300, "frequency": "BID", "start": START}]
    )
    assert_not_fires(ev, "extrinsic-dose-below-standard-first-line")


def test_dasatinib_50_mg_second_line_is_a_dose_reduction(kb):
    changes = history(("imatinib", "resistance"))
    changes["therapies"][-1]["dose_mg"] = 50
    ev = run(kb, **changes)
    assert_fires(ev, "extrinsic-dose-below-standard-later-line")
    assert_not_fires(ev, "extrinsic-dose-below-standard-first-line")


def test_dasatinib_100_mg_second_line_is_no_dose_reduction(kb):
    ev = run(kb, **history(("imatinib", "resistance")))
    assert_not_fires(ev, "extrinsic-dose-below-standard-later-line")


def test_dose_not_recorded_cannot_be_excluded(kb):
    ev = run(kb, therapies=[{"drug": "imatinib", "start": START}])
    assert_fires(ev, "extrinsic-dose-not-recorded")
    assert_not_fires(ev, "extrinsic-causes-excluded")


# interruptions ---------------------------------------------------------------------------


def interrupted(end_days_before_assessment):
    assessed = at(12)
    end = plus_days(assessed, -end_days_before_assessment)
    return {
        "therapies": [
            {
                "drug": "imatinib",
                "dose_mg": 400,
                "start": START,
                "interruptions": [{"start": plus_days(end, -14), "end": end, "reason": "toxicity"}],
            }
        ],
        "bcr_abl1": [bcr(12, 0.5)],
        "assessed_on": assessed,
    }


def test_interruption_ending_within_183_days_is_an_extrinsic_cause(kb):
    ev = run(kb, **interrupted(183))
    assert_fires(ev, "extrinsic-recent-interruption")
    assert causes(ev) == {"interruption"}


def test_interruption_ending_184_days_ago_is_not_recent(kb):
    ev = run(kb, **interrupted(184))
    assert_not_fires(ev, "extrinsic-recent-interruption")


# resistance status ----------------------------------------------------------------------


def test_progression_status(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 35.0}])
    assert_fires(ev, "resistance-progression")
    assert resistance(ev)["status"] == "progression"


def test_no_progression_status_without_progression(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)])
    assert_not_fires(ev, "resistance-progression")


def test_primary_resistance_at_a_milestone_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "resistance-primary")
    assert_not_fires(ev, "resistance-secondary")
    assert resistance(ev)["status"] == "primary"


def test_secondary_resistance_after_losing_a_response(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 3.0)])
    assert_fires(ev, "resistance-secondary")
    assert_not_fires(ev, "resistance-primary")
    assert resistance(ev)["status"] == "secondary"


def test_warning_status(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_fires(ev, "resistance-warning")
    assert_not_fires(ev, "resistance-none", "resistance-primary")
    assert resistance(ev)["status"] == "warning"


def test_none_status_when_optimal(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "resistance-none")
    assert_not_fires(ev, "resistance-warning")
    assert resistance(ev)["status"] == "none"


def test_loss_of_mmr_on_therapy_is_an_eln_2020_warning_status(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05), bcr(18, 0.5)])
    assert resistance(ev)["status"] == "warning"
    assert_not_fires(ev, "resistance-secondary")


# issue 9 item 2: documented causes and missing data ------------------------------------


def test_non_adherence_is_a_documented_cause(kb):
    ev = run(kb, adherence={"assessed_on": START, "status": "non-adherent"})
    assert_fires(ev, "extrinsic-non-adherence")
    assert_not_fires(ev, "extrinsic-adherence")
    assert [f["documented"] for f in derived(ev, "extrinsic")] == [True]
    assert resistance(ev)["extrinsic_causes_documented"] == ["adherence"]
    assert resistance(ev)["extrinsic_causes_unknown"] == []


def test_adherence_not_assessed_and_dose_not_recorded_are_missing_data(kb):
    ev = run(kb, adherence=None, therapies=[{"drug": "imatinib", "start": START}])
    assert_not_fires(ev, "extrinsic-non-adherence")
    assert_fires(ev, "extrinsic-adherence", "extrinsic-dose-not-recorded")
    assert {f["documented"] for f in derived(ev, "extrinsic")} == {False}
    assert resistance(ev)["extrinsic_causes_unknown"] == ["adherence", "dose"]
    assert resistance(ev)["extrinsic_causes_documented"] == []


# issue 9 item 6: a labelled response-based dose reduction is not a dose cause ----------


def pona_15(kb, *values):
    changes = history(("imatinib", "resistance"), ("dasatinib", "resistance"), current="ponatinib")
    changes["therapies"][-1]["dose_mg"] = 15
    return run(kb, **changes, bcr_abl1=[bcr(3 * (i + 1), v) for i, v in enumerate(values)])


def test_ponatinib_15_mg_with_latest_at_or_below_1_percent_is_no_dose_cause(kb):
    ev = pona_15(kb, 5.0, 0.8)
    assert_fires(ev, "labelled-dose-after-response")
    assert_not_fires(ev, "extrinsic-dose-below-standard-later-line")
    assert "dose" not in causes(ev)
    assert resistance(ev)["extrinsic_causes_excluded"] is True


def test_ponatinib_15_mg_with_latest_5_percent_is_still_a_dose_cause(kb):
    ev = pona_15(kb, 8.0, 5.0)
    assert_not_fires(ev, "labelled-dose-after-response")
    assert_fires(ev, "extrinsic-dose-below-standard-later-line")
    assert "dose" in causes(ev)
