"""Patient and clinician text for treatment-free remission, advanced phase and results
above 100 % IS (issue 9 items 12 and 14): built with the rule suites' case kit."""

from __future__ import annotations

import pytest

from cmlkb.results.patient import flesch_kincaid_grade, patient_summary
from cmlkb.results.text import clinician_text
from tests.casekit import at, bcr, history, run

STOP = "2023-01-02"
MAX_GRADE = 8.0  # as tests/patient/test_patient.py


def texts(kb, **changes):
    ev = run(kb, **changes)
    return patient_summary(ev, kb), clinician_text(ev.result, kb)


def in_tfr(months_off, *results):
    return dict(
        history(("imatinib", "tfr"), current=None, current_start=STOP),
        bcr_abl1=list(results) or [bcr(1, 0.004, start=STOP)],
        assessed_on=at(months_off, STOP),
    )


def test_tfr_texts_say_the_patient_is_in_tfr_with_the_schedule(kb):
    patient, clinician = texts(kb, **in_tfr(4))
    assert "treatment-free remission" in patient
    assert "set schedule" in patient
    assert "off therapy in treatment-free remission" in clinician.splitlines()[1]
    assert "monthly" in clinician.splitlines()[1]
    assert "no data" not in clinician
    assert "no milestone of this edition applies" not in clinician
    assert flesch_kincaid_grade(patient) <= MAX_GRADE


def test_tfr_relapse_texts_say_the_level_went_up(kb):
    patient, clinician = texts(kb, **in_tfr(3, bcr(1, 0.01, start=STOP), bcr(3, 0.2, start=STOP)))
    assert "gone up again" in patient
    assert "set schedule" not in patient
    assert "loss of MMR after stopping" in clinician.splitlines()[1]
    assert "restart the TKI" in clinician.splitlines()[1]


def test_on_therapy_texts_do_not_mention_tfr(kb):
    patient, clinician = texts(kb, bcr_abl1=[bcr(12, 0.05)])
    assert "treatment-free remission" not in patient
    assert "treatment-free remission" not in clinician


@pytest.mark.parametrize("phase", ["accelerated", "blast"])
def test_advanced_phase_at_diagnosis_is_never_called_slow(kb, phase):
    patient, _ = texts(kb, diagnosis={"phase": phase}, bcr_abl1=[bcr(0, 150.0), bcr(2, 90.0)])
    assert "slow" not in patient
    assert "already at" in patient
    if phase == "blast":
        assert "most advanced stage" in patient
    assert flesch_kincaid_grade(patient) <= MAX_GRADE


def test_progression_on_therapy_is_never_called_slow(kb):
    patient, _ = texts(
        kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 35.0}]
    )
    assert "slow" not in patient
    assert "later stage" in patient


def test_accelerated_phase_from_the_blast_count_is_worded_as_accelerated(kb):
    patient, _ = texts(
        kb, bcr_abl1=[bcr(6, 20.0)], hematology=[{"date": at(6), "blasts_percent": 18.0}]
    )
    assert "more active stage" in patient
    assert "most advanced stage" not in patient


def test_chronic_phase_is_called_slow(kb):
    patient, _ = texts(kb, bcr_abl1=[bcr(6, 0.5)])
    assert "slow type of blood cancer" in patient


def test_result_above_100_percent_is_explained(kb):
    patient, _ = texts(kb, bcr_abl1=[bcr(3, 140.0)])
    assert "Your latest result was 140 percent." in patient
    assert "above 100 percent" in patient and "standard level" in patient
    assert flesch_kincaid_grade(patient) <= MAX_GRADE


def test_result_of_100_percent_or_less_needs_no_explanation(kb):
    patient, _ = texts(kb, bcr_abl1=[bcr(3, 100.0)])
    assert "above 100 percent" not in patient
