"""rules/transplant.yaml: reasons to consider allogeneic transplant
(NCCN CML-6, Niederwieser 2022)."""

from __future__ import annotations

from casekit import (
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
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
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
