"""Non-TKI options (issue 6): the example cases against hand-checked expectations
(tests/options/expected/*.json, compared as sets), provenance of every option reason, and
variations of the cases that must and must not place an option."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.pipeline import evaluate_case, selection_for

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = sorted((ROOT / "tests" / "options" / "expected").glob("*.json"))
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.json"))


def _evaluate(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    """The contract result of a case (validated first, like `cmlkb evaluate`)."""
    return evaluate_case(_normalised(case, kb), kb, selection_for(kb)).result


def _normalised(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    """Validate and normalise a case dict as `cmlkb evaluate` does (via a temp file)."""
    import tempfile

    from cmlkb.pipeline import validated_cases

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        path.write_text(json.dumps(case), encoding="utf-8")
        return validated_cases([path], kb)[0]


def _load(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "examples" / "cases" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    return {p.name: _evaluate(json.loads(p.read_text(encoding="utf-8")), kb) for p in EXAMPLES}


def _options(result: dict[str, Any]) -> dict[str, str]:
    return {o["option"]: o["status"] for o in result.get("options", [])}


@pytest.mark.parametrize("path", EXPECTED, ids=[p.stem for p in EXPECTED])
def test_example_matches_hand_checked_expectation(path: Path, results) -> None:
    exp = json.loads(path.read_text(encoding="utf-8"))
    assert exp["reasoning"].strip()
    result = results[Path(exp["file"]).name]
    assert result["case"] == exp["case"]
    assert set(_options(result).items()) == set(exp["options"].items())
    drugs = {d["drug"]: d["status"] for d in result["drugs"]}
    assert {k: drugs[k] for k in exp["drugs"]} == exp["drugs"]
    assert result["transplant"]["consider"] is exp["transplant"]
    assert set(exp["actions_include"]) <= set(result["actions"])
    assert not set(exp["actions_exclude"]) & set(result["actions"])


def test_at_least_six_new_examples_are_checked() -> None:
    assert len(EXPECTED) >= 6


def test_every_option_reason_is_explained_and_sourced(results, kb: KnowledgeBase) -> None:
    from cmlkb.reasoning.rules import load_rulebase

    rule_ids = set(load_rulebase(kb).by_id())
    seen = 0
    for result in results.values():
        for option in result.get("options", []):
            for reason in option["reasons"]:
                seen += 1
                assert reason["rule"] and "@" in reason["rule"]
                assert reason["rule"].split("@")[0] in rule_ids
                assert reason["statement"], reason
                assert reason["evidence"] in {"V", "V2", "U-high", "U-med", "U-low", "editorial"}
                assert reason["source"].startswith("src:")
                assert reason["detail"]
    assert seen > 20


def test_autologous_transplant_is_never_recommended(results) -> None:
    for name, result in results.items():
        options = _options(result)
        assert options.get("autologous-sct") not in ("candidate", "preferred"), name
        if result["transplant"]["consider"]:
            assert options.get("autologous-sct") in ("avoid", "excluded"), name
            assert options.get("allogeneic-sct") == "candidate", name


def test_transplant_option_agrees_with_transplant_section(results) -> None:
    for name, result in results.items():
        assert ("allogeneic-sct" in _options(result)) is result["transplant"]["consider"], name


def test_no_options_for_optimal_responder_and_tfr_restart(results) -> None:
    assert _options(results["01-optimal-responder.json"]) == {}
    assert _options(results["06-tfr-relapse.json"]) == {}


def test_v299l_blocks_dasatinib_escalation(results) -> None:
    result = results["09-dasatinib-v299l-no-escalation.json"]
    escalation = next(o for o in result["options"] if o["option"] == "dose-escalation")
    assert escalation["status"] == "excluded"
    assert any("V299L" in r["detail"] for r in escalation["reasons"])
    assert "escalate-dose" not in result["actions"]


def test_escalation_detail_names_the_label_ceilings(results) -> None:
    result = results["08-imatinib-dose-escalation.json"]
    detail = next(o for o in result["options"] if o["option"] == "dose-escalation")["reasons"][0][
        "detail"
    ]
    assert "600 mg QD" in detail and "400 mg BID" in detail
    ponatinib = results["12-ponatinib-re-escalation.json"]
    detail = next(o for o in ponatinib["options"] if o["option"] == "dose-escalation")["reasons"][
        0
    ]["detail"]
    assert "45 mg QD" in detail


# --- variations that must and must not fire -------------------------------------------


def test_escalation_needs_confirmed_adherence(kb: KnowledgeBase) -> None:
    case = _load("08-imatinib-dose-escalation.json")
    case["adherence"] = {"assessed_on": "2024-07-15", "status": "non-adherent"}
    result = _evaluate(case, kb)
    assert _options(result)["dose-escalation"] == "caution"
    assert "escalate-dose" not in result["actions"]


def test_escalation_after_toxicity_is_a_caution(kb: KnowledgeBase) -> None:
    case = _load("08-imatinib-dose-escalation.json")
    case["therapies"][0]["interruptions"] = [
        {"start": "2024-03-01", "end": "2024-03-20", "reason": "toxicity"}
    ]
    result = _evaluate(case, kb)
    assert _options(result)["dose-escalation"] == "caution"
    assert "escalate-dose" not in result["actions"]


def test_no_escalation_at_the_ceiling(kb: KnowledgeBase) -> None:
    case = _load("08-imatinib-dose-escalation.json")
    case["therapies"][0].update({"dose_mg": 400, "frequency": "BID"})
    result = _evaluate(case, kb)
    assert "dose-escalation" not in _options(result)
    assert "escalate-dose" not in result["actions"]


def test_escalation_only_up_to_the_remaining_ceiling(kb: KnowledgeBase) -> None:
    case = _load("08-imatinib-dose-escalation.json")
    case["therapies"][0]["dose_mg"] = 600
    result = _evaluate(case, kb)
    option = next(o for o in result["options"] if o["option"] == "dose-escalation")
    assert option["status"] == "candidate"
    assert "400 mg BID" in option["reasons"][0]["detail"]
    assert "600 mg QD" not in option["reasons"][0]["detail"]


@pytest.mark.parametrize(("wbc", "placed"), [(100, True), (99.9, False), (35, False)])
def test_hydroxyurea_threshold_is_inclusive(kb: KnowledgeBase, wbc: float, placed: bool) -> None:
    case = _load("07-blast-phase-high-wbc.json")
    case["hematology"][0]["wbc_10e9_per_l"] = wbc
    result = _evaluate(case, kb)
    assert ("hydroxyurea" in _options(result)) is placed
    assert ("cytoreduction-hydroxyurea" in result["actions"]) is placed


def test_no_induction_outside_blast_phase(kb: KnowledgeBase) -> None:
    case = _load("07-blast-phase-high-wbc.json")
    case["hematology"][0]["blasts_percent"] = 18  # accelerated (ELN 15-29 %)
    result = _evaluate(case, kb)
    assert "induction-chemotherapy" not in _options(result)
    assert _options(result)["clinical-trial"] == "candidate"


def test_blast_phase_at_diagnosis_places_induction(kb: KnowledgeBase) -> None:
    case = _load("07-blast-phase-high-wbc.json")
    case["diagnosis"]["phase"] = "blast"
    case["hematology"] = []
    case["bcr_abl1"] = case["bcr_abl1"][:2]
    case["assessed_on"] = "2023-05-10"
    case["adherence"]["assessed_on"] = "2023-05-10"
    result = _evaluate(case, kb)
    assert _options(result)["induction-chemotherapy"] == "candidate"
    assert "induction-chemotherapy" in result["actions"]


# --- issue 9 item 8: options resting only on U-tagged knowledge ---------------------------


def _option(result: dict, code: str) -> dict:
    return next(o for o in result["options"] if o["option"] == code)


def test_unverified_escalation_is_flagged_and_not_proposed(results) -> None:
    result = results["08-imatinib-dose-escalation.json"]
    option = _option(result, "dose-escalation")
    assert option["status"] == "candidate" and option["unverified"] is True
    assert all(r["unverified"] is True for r in option["reasons"])
    assert "escalate-dose" not in result["actions"]
    assert {"action": "escalate-dose", "option": "dose-escalation", "proposed": False} in result[
        "unverified_actions"
    ]
    # a verified option is not flagged
    assert "unverified" not in _option(result, "clinical-trial")


def test_verified_ponatinib_re_escalation_is_proposed(results) -> None:
    result = results["12-ponatinib-re-escalation.json"]
    option = _option(result, "dose-escalation")
    assert "unverified" not in option
    assert any(
        r["rule"].startswith("option-escalation-on-response-drug@") and "unverified" not in r
        for r in option["reasons"]
    )
    assert "escalate-dose" in result["actions"]
    assert not [u for u in result["unverified_actions"] if u["action"] == "escalate-dose"]


def test_the_drug_specific_escalation_is_not_applied_to_another_drug(results) -> None:
    option = _option(results["08-imatinib-dose-escalation.json"], "dose-escalation")
    assert not any(
        r["rule"].startswith("option-escalation-on-response-drug@") for r in option["reasons"]
    )


def test_unverified_low_risk_actions_are_proposed_with_the_flag(results) -> None:
    result = results["07-blast-phase-high-wbc.json"]
    assert _option(result, "hydroxyurea")["unverified"] is True
    assert "cytoreduction-hydroxyurea" in result["actions"]
    assert {
        "action": "cytoreduction-hydroxyurea",
        "option": "hydroxyurea",
        "proposed": True,
    } in result["unverified_actions"]


def test_a_case_without_unverified_options_lists_no_unverified_action(results) -> None:
    assert results["01-optimal-responder.json"]["unverified_actions"] == []


def test_clinician_text_marks_unverified_options_and_actions(kb: KnowledgeBase) -> None:
    from cmlkb.results.text import clinician_text

    result = _evaluate(_load("08-imatinib-dose-escalation.json"), kb)
    text = clinician_text(result)
    assert "dose-escalation          candidate  [UNVERIFIED" in text
    assert "escalate-dose (dose-escalation, not proposed)" in text


# --- T315I-inclusive compound: a trial is preferred (option-preferred-by-trigger) ----------


def test_t315i_compound_prefers_a_trial_over_the_colour_candidate(kb: KnowledgeBase) -> None:
    case = _load("05-compound-t315i-transplant.json")
    result = _evaluate(case, kb)
    trial = _option(result, "clinical-trial")
    assert trial["status"] == "preferred"
    assert not any(r["rule"].startswith("option-by-category@") for r in trial["reasons"])
    assert any(r["rule"].startswith("option-by-transplant-trigger@") for r in trial["reasons"])


def test_without_a_compound_the_colour_still_places_the_trial(results) -> None:
    trial = _option(results["08-imatinib-dose-escalation.json"], "clinical-trial")
    assert trial["status"] == "candidate"
    assert any(r["rule"].startswith("option-by-category@") for r in trial["reasons"])
