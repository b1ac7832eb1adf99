"""rules/options.yaml: options other than a TKI switch (contract `options`): a higher dose
of the current TKI, hydroxyurea, induction chemotherapy, allogeneic (never autologous)
transplant, a clinical trial. Every rule fires here and is shown not to fire where it must
not; the example cases 01-12 (examples/cases, validated through the case kit) and
variations of them give the clinical situations. The option statuses of the examples are
also in their goldens (tests/golden/expected)."""

from __future__ import annotations

from typing import Any

import pytest

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.pipeline import Evaluation
from cmlkb.reasoning.rules import load_rulebase
from cmlkb.results.text import clinician_text
from tests.casekit import (
    EXAMPLES,
    assert_fires,
    assert_no_conclusion,
    assert_not_fires,
    bcr,
    evaluate,
    example,
    history,
    run,
    validated,
)

ESCALATION = "08-imatinib-dose-escalation"
BLAST = "07-blast-phase-high-wbc"


def run_raw(kb: KnowledgeBase, raw: dict[str, Any]) -> Evaluation:
    return evaluate(kb, validated(kb, raw))


@pytest.fixture(scope="module")
def examples(kb: KnowledgeBase) -> dict[str, Evaluation]:
    """Every example case, validated and evaluated (stem -> evaluation)."""
    return {p.stem: run_raw(kb, example(p.stem)) for p in EXAMPLES}


def options(ev: Evaluation) -> dict[str, str]:
    return {o["option"]: o["status"] for o in ev.result.get("options", [])}


def option(ev: Evaluation, code: str) -> dict[str, Any]:
    return next(o for o in ev.result["options"] if o["option"] == code)


def acts(ev: Evaluation) -> set[str]:
    return set(ev.result["actions"])


# --- the treatment setting of the current therapy ------------------------------------


def test_first_line_chronic_phase_is_the_newly_diagnosed_setting(examples):
    ev = examples[ESCALATION]
    assert_fires(ev, "escalation-setting-cp-first-line")
    assert_not_fires(
        ev,
        "escalation-setting-cp-later-line",
        "escalation-setting-advanced-found",
        "escalation-setting-advanced-at-diagnosis",
    )
    assert "600 mg QD" in option(ev, "dose-escalation")["reasons"][0]["detail"]


def test_a_later_line_in_chronic_phase_is_the_previously_treated_setting(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), bcr_abl1=[bcr(6, 3.5)])
    assert_fires(ev, "escalation-setting-cp-later-line")
    assert_not_fires(ev, "escalation-setting-cp-first-line", "escalation-setting-advanced-found")


def test_an_advanced_phase_found_sets_the_advanced_setting(examples):
    ev = examples[BLAST]
    assert_fires(ev, "escalation-setting-advanced-found")
    assert_not_fires(
        ev,
        "escalation-setting-cp-first-line",
        "escalation-setting-cp-later-line",
        "escalation-setting-advanced-at-diagnosis",
    )


def test_a_diagnosis_in_blast_phase_sets_the_advanced_setting(kb):
    ev = run_raw(kb, _blast_at_diagnosis())
    assert_fires(ev, "escalation-setting-advanced-at-diagnosis")
    assert_not_fires(ev, "escalation-setting-cp-first-line", "escalation-setting-cp-later-line")


# --- dose escalation --------------------------------------------------------------------


def test_escalation_at_a_warning_with_room_below_the_ceiling(examples):
    ev = examples[ESCALATION]
    assert_fires(ev, "escalation-room", "option-escalation-on-response")
    assert_not_fires(
        ev,
        "option-escalation-on-response-drug",
        "option-escalation-drug-excluded",
        "option-escalation-adherence-unconfirmed",
        "option-escalation-after-toxicity",
    )
    assert options(ev)["dose-escalation"] == "candidate"


def test_escalation_detail_names_the_label_ceilings(examples):
    detail = option(examples[ESCALATION], "dose-escalation")["reasons"][0]["detail"]
    assert "600 mg QD" in detail and "400 mg BID" in detail
    detail = option(examples["12-ponatinib-re-escalation"], "dose-escalation")["reasons"][0][
        "detail"
    ]
    assert "45 mg QD" in detail


def test_escalation_needs_confirmed_adherence(kb):
    raw = example(ESCALATION)
    raw["adherence"] = {"assessed_on": "2024-07-15", "status": "non-adherent"}
    ev = run_raw(kb, raw)
    assert_fires(ev, "option-escalation-adherence-unconfirmed")
    assert_not_fires(ev, "option-escalation-on-response")
    assert options(ev)["dose-escalation"] == "caution"
    assert "escalate-dose" not in acts(ev)
    assert_no_conclusion(ev, "action-for-candidate-option", code="escalate-dose")


def test_escalation_after_toxicity_is_a_caution(kb):
    raw = example(ESCALATION)
    raw["therapies"][0]["interruptions"] = [
        {"start": "2024-03-01", "end": "2024-03-20", "reason": "toxicity"}
    ]
    ev = run_raw(kb, raw)
    assert_fires(ev, "option-escalation-after-toxicity")
    assert_not_fires(ev, "option-escalation-on-response")
    assert options(ev)["dose-escalation"] == "caution"
    assert "escalate-dose" not in acts(ev)


def test_no_escalation_at_the_ceiling(kb):
    raw = example(ESCALATION)
    raw["therapies"][0].update({"dose_mg": 400, "frequency": "BID"})
    ev = run_raw(kb, raw)
    assert_not_fires(ev, "escalation-room", "option-escalation-on-response")
    assert "dose-escalation" not in options(ev)
    assert "escalate-dose" not in acts(ev)


def test_escalation_only_up_to_the_remaining_ceiling(kb):
    raw = example(ESCALATION)
    raw["therapies"][0]["dose_mg"] = 600
    ev = run_raw(kb, raw)
    assert_fires(ev, "escalation-room")
    escalation = option(ev, "dose-escalation")
    assert escalation["status"] == "candidate"
    assert "400 mg BID" in escalation["reasons"][0]["detail"]
    assert "600 mg QD" not in escalation["reasons"][0]["detail"]


def test_v299l_blocks_dasatinib_escalation(examples):
    ev = examples["09-dasatinib-v299l-no-escalation"]
    assert_fires(ev, "option-escalation-drug-excluded")
    assert_not_fires(ev, "option-escalation-on-response", "option-escalation-on-response-drug")
    escalation = option(ev, "dose-escalation")
    assert escalation["status"] == "excluded"
    assert any("V299L" in r["detail"] for r in escalation["reasons"])
    assert "escalate-dose" not in acts(ev)


def test_verified_ponatinib_re_escalation_is_proposed(examples):
    ev = examples["12-ponatinib-re-escalation"]
    assert_fires(ev, "option-escalation-on-response-drug")
    escalation = option(ev, "dose-escalation")
    assert "unverified" not in escalation
    assert any(
        r["rule"].startswith("option-escalation-on-response-drug@") and "unverified" not in r
        for r in escalation["reasons"]
    )
    assert "escalate-dose" in acts(ev)
    assert not [u for u in ev.result["unverified_actions"] if u["action"] == "escalate-dose"]


def test_the_drug_specific_escalation_is_not_applied_to_another_drug(examples):
    ev = examples[ESCALATION]
    assert_not_fires(ev, "option-escalation-on-response-drug")
    assert not any(
        r["rule"].startswith("option-escalation-on-response-drug@")
        for r in option(ev, "dose-escalation")["reasons"]
    )


# --- issue 9 item 8: options resting only on U-tagged knowledge ---------------------------


def test_unverified_escalation_is_flagged_and_not_proposed(examples):
    ev = examples[ESCALATION]
    escalation = option(ev, "dose-escalation")
    assert escalation["status"] == "candidate" and escalation["unverified"] is True
    assert all(r["unverified"] is True for r in escalation["reasons"])
    assert "escalate-dose" not in acts(ev)
    assert {"action": "escalate-dose", "option": "dose-escalation", "proposed": False} in (
        ev.result["unverified_actions"]
    )
    # a verified option is not flagged
    assert "unverified" not in option(ev, "clinical-trial")


def test_unverified_low_risk_actions_are_proposed_with_the_flag(examples):
    ev = examples[BLAST]
    assert option(ev, "hydroxyurea")["unverified"] is True
    assert "cytoreduction-hydroxyurea" in acts(ev)
    assert {
        "action": "cytoreduction-hydroxyurea",
        "option": "hydroxyurea",
        "proposed": True,
    } in ev.result["unverified_actions"]


def test_a_case_without_unverified_options_lists_no_unverified_action(examples):
    assert examples["01-optimal-responder"].result["unverified_actions"] == []


def test_clinician_text_marks_unverified_options_and_actions(examples, kb):
    text = clinician_text(examples[ESCALATION].result, kb)
    assert "dose-escalation          candidate  [UNVERIFIED" in text
    assert "escalate-dose (dose-escalation, not proposed)" in text


# --- transplant, trials: options named by a transplant trigger ---------------------------


def test_a_transplant_trigger_places_allogeneic_transplant_and_never_autologous(examples):
    ev = examples["09-dasatinib-v299l-no-escalation"]
    assert_fires(ev, "option-by-transplant-trigger", "option-autologous-when-transplant")
    assert options(ev)["allogeneic-sct"] == "candidate"
    assert options(ev)["autologous-sct"] == "avoid"


def test_no_transplant_trigger_places_no_transplant_option(examples):
    ev = examples[ESCALATION]
    assert_not_fires(ev, "option-by-transplant-trigger", "option-autologous-when-transplant")
    assert not {"allogeneic-sct", "autologous-sct"} & set(options(ev))


def test_autologous_transplant_is_never_recommended(examples):
    for name, ev in examples.items():
        placed = options(ev)
        assert placed.get("autologous-sct") not in ("candidate", "preferred"), name
        if ev.result["transplant"]["consider"]:
            assert placed.get("autologous-sct") in ("avoid", "excluded"), name
            assert placed.get("allogeneic-sct") == "candidate", name


def test_transplant_option_agrees_with_transplant_section(examples):
    for name, ev in examples.items():
        assert ("allogeneic-sct" in options(ev)) is ev.result["transplant"]["consider"], name


# --- a trial preferred by a T315I-inclusive compound ---------------------------------------


def test_t315i_compound_prefers_a_trial_over_the_colour_candidate(examples):
    ev = examples["05-compound-t315i-transplant"]
    assert_fires(ev, "option-preferred-by-trigger", "option-by-transplant-trigger")
    assert_not_fires(ev, "option-by-category")
    trial = option(ev, "clinical-trial")
    assert trial["status"] == "preferred"
    assert not any(r["rule"].startswith("option-by-category@") for r in trial["reasons"])
    assert any(r["rule"].startswith("option-by-transplant-trigger@") for r in trial["reasons"])


def test_without_a_compound_the_colour_places_the_trial(examples):
    ev = examples[ESCALATION]
    assert_fires(ev, "option-by-category")
    assert_not_fires(ev, "option-preferred-by-trigger")
    trial = option(ev, "clinical-trial")
    assert trial["status"] == "candidate"
    assert any(r["rule"].startswith("option-by-category@") for r in trial["reasons"])


def test_a_transplant_without_a_compound_prefers_nothing(examples):
    assert_not_fires(examples["09-dasatinib-v299l-no-escalation"], "option-preferred-by-trigger")


def test_no_options_for_optimal_responder_and_tfr_restart(examples):
    for name in ("01-optimal-responder", "06-tfr-relapse"):
        ev = examples[name]
        assert options(ev) == {}, name
        assert_not_fires(ev, "option-by-category", "action-for-candidate-option")


# --- options named by a phase ---------------------------------------------------------------


def test_blast_phase_found_places_induction(examples):
    ev = examples[BLAST]
    assert_fires(ev, "option-by-phase-finding", "action-for-candidate-option")
    assert_not_fires(ev, "option-by-phase-at-diagnosis")
    assert options(ev)["induction-chemotherapy"] == "candidate"
    assert "induction-chemotherapy" in acts(ev)


def test_no_induction_outside_blast_phase(kb):
    raw = example(BLAST)
    raw["hematology"][0]["blasts_percent"] = 18  # accelerated (ELN 15-29 %)
    ev = run_raw(kb, raw)
    assert_no_conclusion(ev, "option-by-phase-finding", option="induction-chemotherapy")
    assert "induction-chemotherapy" not in options(ev)
    assert options(ev)["clinical-trial"] == "candidate"


def test_chronic_phase_places_no_option_by_phase(examples):
    assert_not_fires(examples[ESCALATION], "option-by-phase-finding")


def _blast_at_diagnosis() -> dict[str, Any]:
    raw = example(BLAST)
    raw["diagnosis"]["phase"] = "blast"
    raw["hematology"] = []
    raw["bcr_abl1"] = raw["bcr_abl1"][:2]
    raw["assessed_on"] = "2023-05-10"
    raw["adherence"]["assessed_on"] = "2023-05-10"
    return raw


def test_blast_phase_at_diagnosis_places_induction(kb):
    ev = run_raw(kb, _blast_at_diagnosis())
    assert_fires(ev, "option-by-phase-at-diagnosis")
    assert options(ev)["induction-chemotherapy"] == "candidate"
    assert "induction-chemotherapy" in acts(ev)


# --- hydroxyurea at the knowledge's WBC threshold -------------------------------------------


@pytest.mark.parametrize(("wbc", "placed"), [(100, True), (99.9, False), (35, False)])
def test_hydroxyurea_threshold_is_inclusive(kb, wbc: float, placed: bool):
    raw = example(BLAST)
    raw["hematology"][0]["wbc_10e9_per_l"] = wbc
    ev = run_raw(kb, raw)
    if placed:
        assert_fires(ev, "option-by-lab-threshold")
    else:
        assert_not_fires(ev, "option-by-lab-threshold")
    assert ("hydroxyurea" in options(ev)) is placed
    assert ("cytoreduction-hydroxyurea" in acts(ev)) is placed


# --- every option reason is explained and sourced -------------------------------------------


def test_every_option_reason_is_explained_and_sourced(examples, kb):
    rule_ids = set(load_rulebase(kb).by_id())
    seen = 0
    for ev in examples.values():
        for placed in ev.result.get("options", []):
            for reason in placed["reasons"]:
                seen += 1
                assert reason["rule"] and "@" in reason["rule"]
                assert reason["rule"].split("@")[0] in rule_ids
                assert reason["statement"], reason
                assert reason["evidence"] in {"V", "V2", "U-high", "U-med", "U-low", "editorial"}
                assert reason["source"].startswith("src:")
                assert reason["detail"]
    assert seen > 20
