"""rules/resistance.yaml: extrinsic causes (Soverini 2026) and the resistance status."""

from __future__ import annotations

from casekit import (
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
    for value in ("non-adherent", "unknown"):
        ev = run(kb, adherence={"assessed_on": START, "status": value})
        assert_fires(ev, "extrinsic-adherence")


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
