"""rules/tfr.yaml: treatment-free remission - loss of MMR after stopping (restart within 4
weeks) and no MMR 3-6 months after restarting (test for mutations)
(ELN 2020 TFR table; Soverini 2019)."""

from __future__ import annotations

from tests.casekit import (
    actions,
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    by_rule,
    derived,
    history,
    reasons,
    run,
    status,
)

STOP = "2023-01-02"  # the TFR stop: imatinib ran the 12 months before


def tfr(*results, **changes):
    return dict(
        history(("imatinib", "tfr"), current=None, current_start=STOP),
        bcr_abl1=list(results),
        **changes,
    )


def test_loss_of_mmr_after_stopping_restarts_the_same_tki(kb):
    ev = run(kb, **tfr(bcr(1, 0.01, start=STOP), bcr(3, 0.2, start=STOP)))
    assert_fires(ev, "tfr-loss-of-mmr", "tfr-restart-same-drug", "action-restart-after-tfr")
    assert {"restart-tki", "increase-monitoring"} <= set(ev.result["actions"])
    assert status(ev, "imatinib") == "preferred"
    assert reasons(ev, "imatinib", reason="sequencing", effect="preferred")
    assert "4 weeks" in derived(ev, "event", code="tfr-loss-of-mmr")[0]["detail"]


def test_exactly_0_1_percent_after_stopping_is_still_mmr(kb):
    ev = run(kb, **tfr(bcr(3, 0.1, start=STOP)))
    assert_not_fires(ev, "tfr-loss-of-mmr", "tfr-restart-same-drug", "action-restart-after-tfr")
    assert "restart-tki" not in ev.result["actions"]


def test_an_earlier_rise_followed_by_mmr_is_not_a_current_relapse(kb):
    ev = run(kb, **tfr(bcr(2, 0.2, start=STOP), bcr(3, 0.05, start=STOP)))
    assert_not_fires(ev, "tfr-loss-of-mmr")


def test_stopping_for_another_reason_is_not_tfr(kb):
    changes = history(("imatinib", "other"), current=None, current_start=STOP)
    ev = run(kb, **changes, bcr_abl1=[bcr(3, 0.5, start=STOP)])
    assert_not_fires(ev, "tfr-loss-of-mmr", "tfr-restart-same-drug")


def restarted(months_on, *results):
    """imatinib stopped in TFR, restarted at STOP; assessed `months_on` months later."""
    changes = history(("imatinib", "tfr"), current="imatinib", current_start=STOP)
    from tests.casekit import at

    return dict(
        changes, bcr_abl1=[bcr(-2, 0.5, start=STOP), *results], assessed_on=at(months_on, STOP)
    )


def test_no_mmr_4_months_after_restarting_requires_testing(kb):
    ev = run(kb, **restarted(4, bcr(3.5, 0.3, start=STOP)))
    assert_fires(ev, "tfr-no-mmr-after-restart")
    assert ev.result["mutation_testing"]["indication"] == "required"


def test_no_mmr_2_months_after_restarting_is_too_early(kb):
    ev = run(kb, **restarted(2, bcr(1.5, 0.3, start=STOP)))
    assert_not_fires(ev, "tfr-no-mmr-after-restart")


def test_mmr_regained_after_restarting_is_no_event(kb):
    ev = run(kb, **restarted(4, bcr(3.5, 0.1, start=STOP)))
    assert_not_fires(ev, "tfr-no-mmr-after-restart")


# --- monitoring schedule off therapy (ELN 2020 TFR table) -------------------------------


def in_tfr(months_off: float, *results):
    """Off therapy since STOP (imatinib stopped in TFR), assessed `months_off` months later."""
    return tfr(*(results or (bcr(1, 0.004, start=STOP),)), assessed_on=at(months_off, STOP))


def test_tfr_monthly_monitoring_in_the_first_six_months(kb):
    ev = run(kb, **in_tfr(4))
    assert_fires(ev, "tfr-monitoring-schedule")
    (fact,) = by_rule(ev, "tfr-monitoring-schedule")
    assert fact["code"] == "tfr-monitoring"
    assert "monthly" in fact["detail"] and "first 6 months" in fact["detail"]
    tfr_out = ev.result["treatment_free_remission"]
    assert tfr_out["monitoring"] == fact["detail"]
    assert 4.0 <= tfr_out["months_since_stop"] <= 4.3
    assert "continue-tki" not in ev.result["actions"]


def test_tfr_every_two_months_in_months_7_to_12(kb):
    ev = run(kb, **in_tfr(9, bcr(8, 0.003, start=STOP)))
    (fact,) = by_rule(ev, "tfr-monitoring-schedule")
    assert "every 2 months" in fact["detail"] and "months 6-12" in fact["detail"]


def test_tfr_every_three_months_after_a_year(kb):
    ev = run(kb, **in_tfr(30, bcr(28, 0.003, start=STOP)))
    (fact,) = by_rule(ev, "tfr-monitoring-schedule")
    assert "every 3 months" in fact["detail"]


def test_tfr_monitoring_without_any_result_after_stopping(kb):
    # In TFR with no result since stopping: still the schedule, never "no data".
    ev = run(kb, **tfr(assessed_on=at(2, STOP)))
    assert_fires(ev, "tfr-monitoring-schedule")
    assert "tfr-monitoring" in actions(ev)


def test_no_tfr_schedule_after_loss_of_mmr(kb):
    ev = run(kb, **tfr(bcr(1, 0.01, start=STOP), bcr(3, 0.2, start=STOP)))
    assert_not_fires(ev, "tfr-monitoring-schedule")
    assert "restart-tki" in actions(ev)
    assert ev.result["treatment_free_remission"]["monitoring"] is None


def test_no_tfr_schedule_when_stopped_for_another_reason(kb):
    changes = history(("imatinib", "intolerance"), current=None, current_start=STOP)
    ev = run(kb, **changes, bcr_abl1=[bcr(3, 0.004, start=STOP)])
    assert_not_fires(ev, "tfr-monitoring-schedule")
    assert "treatment_free_remission" not in ev.result


def test_no_tfr_schedule_after_restarting(kb):
    ev = run(kb, **restarted(4, bcr(3.5, 0.05, start=STOP)))
    assert_not_fires(ev, "tfr-monitoring-schedule")
    assert "treatment_free_remission" not in ev.result
