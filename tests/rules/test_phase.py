"""rules/phase.yaml: phase from haematology under the selected classification, clinician
phase findings, progression on therapy (ELN, WHO 2016 Arber Table 2): ELN blast phase
>= 30 % blasts,
accelerated 15-29 %; WHO 2016 blast phase >= 20 %, accelerated 10-19 %."""

from __future__ import annotations

from tests.casekit import (
    assert_fires,
    assert_not_fires,
    at,
    bcr,
    derived,
    run,
)


def heme(months, **values):
    return [{"date": at(months), **values}]


def phases(ev, **fields):
    return {f["phase"] for f in derived(ev, "phase-finding", **fields)}


def test_blasts_30_percent_on_therapy_is_blast_phase_and_progression_under_eln(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=heme(6, blasts_percent=30.0))
    assert_fires(ev, "phase-from-haematology", "progression-on-therapy")
    assert phases(ev) == {"blast"}
    assert ev.result["resistance"]["status"] == "progression"
    assert ev.result["mutation_testing"]["indication"] == "required"
    assert ev.result["transplant"]["consider"] is True
    assert {"evaluate-allo-sct", "mutation-testing"} <= set(ev.result["actions"])


def test_blasts_29_9_percent_is_accelerated_under_eln(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=heme(6, blasts_percent=29.9))
    assert phases(ev) == {"accelerated"}
    assert_fires(ev, "progression-on-therapy")


def test_blasts_20_percent_is_blast_phase_under_who_2016_only(kb):
    case = {"bcr_abl1": [bcr(6, 20.0)], "hematology": heme(6, blasts_percent=20.0)}
    assert phases(run(kb, classification="who-2016", **case)) == {"blast"}
    assert phases(run(kb, classification="eln", **case)) == {"accelerated"}


def test_blasts_12_percent_is_progression_under_who_2016_not_under_eln(kb):
    case = {"bcr_abl1": [bcr(6, 5.0)], "hematology": heme(6, blasts_percent=12.0)}
    ev = run(kb, classification="eln", **case)
    assert_not_fires(ev, "phase-from-haematology", "progression-on-therapy")
    assert ev.result["resistance"]["status"] != "progression"
    ev = run(kb, classification="who-2016", **case)
    assert_fires(ev, "progression-on-therapy")
    assert phases(ev) == {"accelerated"}


def test_blasts_14_9_percent_is_chronic_under_eln(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], hematology=heme(6, blasts_percent=14.9))
    assert_not_fires(ev, "phase-from-haematology", "progression-on-therapy")


def test_who_2022_high_risk_chronic_feature_is_not_progression(kb):
    ev = run(
        kb,
        classification="who-2022",
        bcr_abl1=[bcr(6, 5.0)],
        hematology=heme(6, blasts_percent=15.0),
    )
    assert phases(ev) == {"chronic"}
    assert_not_fires(ev, "progression-on-therapy")


def test_clinician_phase_finding_on_therapy_is_progression(kb):
    ev = run(
        kb, bcr_abl1=[bcr(6, 5.0)], phase_assessments=[{"date": at(6), "phase": "accelerated"}]
    )
    assert_fires(ev, "phase-from-assessment", "progression-on-therapy")


def test_chronic_clinician_finding_is_not_progression(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], phase_assessments=[{"date": at(6), "phase": "chronic"}])
    assert_fires(ev, "phase-from-assessment")
    assert_not_fires(ev, "progression-on-therapy")


def test_no_phase_data_no_phase_rules(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_not_fires(ev, "phase-from-assessment", "phase-from-haematology")


def test_advanced_phase_before_treatment_is_not_progression(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)], hematology=heme(-0.3, blasts_percent=16.0))
    assert phases(ev) == {"accelerated"}
    assert_not_fires(ev, "progression-on-therapy")


# advanced phase and its drug reasons ---------------------------------------------------


def test_accelerated_phase_at_diagnosis_applies_the_advanced_phase_setting(kb):
    from tests.casekit import reasons

    ev = run(kb, diagnosis={"phase": "accelerated"}, bcr_abl1=[bcr(6, 5.0)])
    assert_fires(ev, "advanced-phase-at-diagnosis", "drug-reason-phase")
    assert_not_fires(ev, "advanced-phase-found", "progression-on-therapy")
    # NCCN CML-4: 2G-TKIs or ponatinib preferred, imatinib only with caution
    assert reasons(ev, "dasatinib", reason="phase", effect="preferred")
    assert reasons(ev, "imatinib", reason="phase", effect="caution")


def test_chronic_phase_at_diagnosis_is_no_advanced_phase(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_not_fires(ev, "advanced-phase-at-diagnosis", "advanced-phase-found", "drug-reason-phase")


def test_advanced_phase_found_on_therapy(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 20.0)], hematology=heme(6, blasts_percent=16.0))
    assert_fires(ev, "advanced-phase-found", "drug-reason-phase")
    assert_not_fires(ev, "advanced-phase-at-diagnosis")


# ACAs in Ph+ cells on treatment (issue 9 item 13) ---------------------------------------


def cyto(months, ph, *abnormalities):
    return [
        {
            "date": at(months),
            "ph_positive_percent": ph,
            "metaphases": 20,
            "abnormalities": list(abnormalities),
        }
    ]


def test_major_route_aca_in_ph_positive_cells_on_treatment_is_accelerated_under_eln(kb):
    for code in ("+8", "+Ph", "i(17q)", "+19"):
        ev = run(kb, bcr_abl1=[bcr(12, 0.5)], cytogenetics=cyto(12, 35.0, code))
        assert_fires(ev, "phase-from-aca", "progression-on-therapy")
        assert phases(ev) == {"accelerated"}, code
        assert ev.result["resistance"]["status"] == "progression", code
        assert ev.result["transplant"]["consider"] is True


def test_non_major_route_aca_is_no_eln_phase_change(kb):
    # 3q26.2: NCCN adds it to the major route, ELN's phase criterion does not (still an ELN
    # 2020 high-risk ACA: failure, not progression)
    ev = run(kb, bcr_abl1=[bcr(12, 0.5)], cytogenetics=cyto(12, 35.0, "3q26.2"))
    assert_not_fires(ev, "phase-from-aca", "progression-on-therapy")
    assert ev.result["response"]["eln"] == "failure"
    assert ev.result["resistance"]["status"] != "progression"


def test_any_new_ph_positive_aca_is_accelerated_under_who_2016(kb):
    case = {"bcr_abl1": [bcr(12, 0.5)], "cytogenetics": cyto(12, 35.0, "+21")}
    ev = run(kb, classification="who-2016", **case)
    assert_fires(ev, "phase-from-aca", "progression-on-therapy")
    assert ev.result["resistance"]["status"] == "progression"
    assert_not_fires(run(kb, classification="eln", **case), "phase-from-aca")


def test_icc_2022_counts_complex_karyotype(kb):
    case = {"bcr_abl1": [bcr(12, 0.5)], "cytogenetics": cyto(12, 35.0, "complex")}
    ev = run(kb, classification="icc-2022", **case)
    assert_fires(ev, "phase-from-aca")
    assert phases(ev) == {"accelerated"}
    # the ICC 2022 ACA criterion is unverified (U-high): the finding says so
    assert all("U-high" in f["detail"] for f in derived(ev, "phase-finding"))
    assert_not_fires(run(kb, classification="eln", **case), "phase-from-aca")


def test_who_2022_has_no_accelerated_phase_from_an_aca(kb):
    ev = run(
        kb, classification="who-2022", bcr_abl1=[bcr(12, 0.5)], cytogenetics=cyto(12, 35.0, "+8")
    )
    assert_not_fires(ev, "phase-from-aca", "progression-on-therapy")
    assert ev.result["resistance"]["status"] != "progression"


def test_aca_in_ph_negative_cells_changes_no_phase(kb):
    ev = run(kb, bcr_abl1=[bcr(12, 0.05)], cytogenetics=cyto(12, 0, "+8"))
    assert_not_fires(ev, "phase-from-aca", "progression-on-therapy")


def test_major_route_aca_at_diagnosis_is_not_progression(kb):
    ev = run(kb, bcr_abl1=[bcr(1, 50.0)], cytogenetics=cyto(-0.3, 100.0, "+8"))
    assert_not_fires(ev, "phase-from-aca", "progression-on-therapy")


def test_aca_already_present_at_diagnosis_is_not_new_on_treatment(kb):
    ev = run(
        kb,
        classification="who-2016",
        diagnosis={"additional_chromosomal_abnormalities": ["+21"]},
        bcr_abl1=[bcr(12, 0.5)],
        cytogenetics=cyto(12, 35.0, "+21"),
    )
    assert_not_fires(ev, "phase-from-aca", "progression-on-therapy")


def test_aca_in_baseline_cytogenetics_is_not_new_but_another_one_is(kb):
    ev = run(
        kb,
        bcr_abl1=[bcr(12, 0.5)],
        cytogenetics=cyto(-0.3, 100.0, "+8") + cyto(12, 35.0, "+8", "i(17q)"),
    )
    assert phases(ev) == {"accelerated"}
    details = {f["detail"] for f in derived(ev, "phase-finding")}
    assert any("i(17q)" in d for d in details)
    assert not any(d.startswith("+8") for d in details)
