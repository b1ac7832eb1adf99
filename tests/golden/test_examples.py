"""Golden evaluations of every shipped example case (examples/cases/*.json), compared
semantically: one expected file per example, tests/golden/expected/<stem>.json.

Each expected file holds
- `reasoning`: why every expectation is right clinically, written by hand (the guidelines,
  labels and statements it rests on); regeneration keeps it;
- `actions_never` (optional): actions the reasoning rules out, written by hand; checked on
  every run, regeneration included (it keeps them and fails if the output has one);
- the clinically relevant part of the result (`semantic` below): response categories,
  resistance, mutation testing, drug statuses and why excluded, dose advice, transplant
  triggers, options, actions, insufficient data. Sets are sorted where order carries no
  meaning.

Regenerate deliberately with `pytest tests/golden --update-golden`, then read the diff and
update each changed file's reasoning before committing (a new file gets the placeholder
reasoning "TO BE CHECKED BY HAND", which fails the suite until it is written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.pipeline import evaluate_case, selection_for, validated_cases

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).parent / "expected"
CASES = sorted((ROOT / "examples" / "cases").glob("*.json"))
PLACEHOLDER = "TO BE CHECKED BY HAND"


def semantic(result: dict[str, Any]) -> dict[str, Any]:
    """The part of a result a clinician checks; sets where order carries no meaning."""
    return {
        "case": result["case"],
        "response": {
            k: result["response"][k]
            for k in (
                "months_on_current_therapy",
                "latest_bcr_abl1_is_percent",
                "molecular_response",
                "eln",
                "nccn",
            )
        },
        "resistance": {k: result["resistance"][k] for k in ("status", "extrinsic_causes_excluded")},
        "mutation_testing": result["mutation_testing"],
        "drugs": {d["drug"]: d["status"] for d in result["drugs"]},
        "excluded_by": {
            d["drug"]: sorted({r["kind"] for r in d["reasons"] if r["effect"] == "excluded"})
            for d in result["drugs"]
            if d["status"] == "excluded"
        },
        "dose_advice": sorted(
            f"{a['drug']} {a['dose_mg']:g} mg {a['frequency']}" for a in result["dose_advice"]
        ),
        "transplant": {
            "consider": result["transplant"]["consider"],
            "triggers": sorted(r["trigger"] for r in result["transplant"]["reasons"]),
        },
        "options": {o["option"]: o["status"] for o in result.get("options", [])},
        "actions": sorted(result["actions"]),
        "insufficient_data": sorted(i["conclusion"] for i in result["insufficient_data"]),
    }


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_example_matches_golden(
    path: Path, kb: KnowledgeBase, request: pytest.FixtureRequest
) -> None:
    (case,) = validated_cases([path], kb)
    got = semantic(evaluate_case(case, kb, selection_for(kb)).result)
    expected_file = EXPECTED / f"{path.stem}.json"
    previous = json.loads(expected_file.read_text()) if expected_file.exists() else {}
    never = set(previous.get("actions_never", []))
    assert not never & set(got["actions"]), "an action the reasoning rules out is proposed"
    if request.config.getoption("--update-golden"):
        hand = {"reasoning": previous.get("reasoning", PLACEHOLDER)}
        if "actions_never" in previous:
            hand["actions_never"] = previous["actions_never"]
        expected_file.write_text(json.dumps({**hand, **got}, indent=2) + "\n")
        pytest.skip("golden file rewritten")
    expected = dict(previous)
    reasoning = expected.pop("reasoning")
    assert reasoning.strip() and reasoning != PLACEHOLDER, "write the reasoning by hand"
    expected.pop("actions_never", None)
    assert got == expected


def test_every_example_has_a_golden_file() -> None:
    assert len(CASES) >= 12
    assert {p.stem for p in CASES} == {p.stem for p in EXPECTED.glob("*.json")}
