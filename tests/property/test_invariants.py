"""Property-based tests: invariants of every evaluation over generated valid cases
(therapy sequences, BCR::ABL1 series near the thresholds, mutations from the knowledge
base's variant list, compound mutations, comorbidities, co-medications, adherence,
haematology). Every generated case is validated first (casekit.make_case)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmlkb.knowledge import vocab
from cmlkb.knowledge.base import load_knowledge_from
from cmlkb.results.result import ranks
from tests.casekit import PROJECT_ROOT, analysis, at, bcr, evaluate, history, make_case

KB = load_knowledge_from(PROJECT_ROOT)
GLOBAL = ["imatinib", "dasatinib", "nilotinib", "bosutinib", "ponatinib", "asciminib"]
MUTATIONS = sorted(vocab.codes(KB, "mutations"))
COMORBIDITIES = sorted(vocab.codes(KB, "comorbidities"))
COMEDICATIONS = sorted(vocab.codes(KB, "comedications"))
TRANSCRIPTS = sorted(vocab.codes(KB, "transcripts"))
ACTIONS = vocab.codes(KB, "actions")
# values on and around every IS threshold of the knowledge (0.1, 1, 10 %) and elsewhere
VALUES = [
    0.0005,
    0.001,
    0.0032,
    0.01,
    0.05,
    0.1,
    0.100001,
    0.5,
    1.0,
    1.000001,
    5.0,
    10.0,
    10.000001,
    15.0,
    40.0,
    80.0,
]

settings.register_profile(
    "cmlkb",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def cases(draw):
    stopped = draw(
        st.lists(
            st.tuples(
                st.sampled_from(GLOBAL),
                st.sampled_from(["resistance", "intolerance", "progression", "other"]),
            ),
            max_size=2,
        )
    )
    off = draw(st.booleans()) and draw(st.booleans())
    if off:
        stopped.append((draw(st.sampled_from(GLOBAL)), draw(st.sampled_from(["tfr", "other"]))))
    changes = history(*stopped, current=None if off else draw(st.sampled_from(GLOBAL)))
    if not stopped and off:
        changes = history(current="imatinib")
    months = st.sampled_from([0.5, 1, 2.9, 3, 4.2, 5, 6, 8.9, 9, 12, 13, 15, 18, 24, 30])
    results = []
    for m in sorted(set(draw(st.lists(months, max_size=5)))):
        if draw(st.integers(0, 9)) == 0:
            results.append(
                bcr(
                    m,
                    None,
                    control_copies=draw(st.sampled_from([5000, 9999, 10000, 32000, 100000])),
                )
            )
        else:
            results.append(bcr(m, draw(st.sampled_from(VALUES))))
    changes["bcr_abl1"] = results
    analyses = []
    for m in sorted(set(draw(st.lists(months, max_size=2)))):
        found = draw(st.lists(st.sampled_from(MUTATIONS), max_size=3, unique=True))
        compound = [found[:2]] if len(found) >= 2 and draw(st.booleans()) else None
        analyses.append(analysis(m, *found, compound=compound))
    changes["mutation_analyses"] = analyses
    changes["patient"] = {
        "comorbidities": draw(st.lists(st.sampled_from(COMORBIDITIES), max_size=3, unique=True))
    }
    changes["comedications"] = draw(
        st.lists(st.sampled_from(COMEDICATIONS), max_size=3, unique=True)
    )
    adherence = draw(st.sampled_from([None, "adherent", "adherent", "non-adherent", "unknown"]))
    changes["adherence"] = (
        None
        if adherence is None
        else {"assessed_on": changes["therapies"][0]["start"], "status": adherence}
    )
    changes["diagnosis"] = dict(
        changes["diagnosis"],
        transcript=draw(st.sampled_from(TRANSCRIPTS)),
        elts_risk=draw(st.sampled_from(["low", "intermediate", "high"])),
    )
    if draw(st.integers(0, 4)) == 0:
        changes["hematology"] = [
            {
                "date": at(draw(months)),
                "blasts_percent": draw(st.sampled_from([2.0, 12.0, 16.0, 25.0, 35.0])),
            }
        ]
    return make_case(KB, **changes)


def check_invariants(ev) -> None:
    strength = ranks(KB)["DrugStatus"]
    drugs = ev.result["drugs"]
    kb_drugs = {r.fact["drug"] for r in ev.inference.of_kind("drug")}
    assert sorted(d["drug"] for d in drugs) == sorted(kb_drugs)  # each KB drug once
    usable = {r.fact["drug"] for r in ev.inference.of_kind("usable-drug")}
    for d in drugs:
        effects = {r["effect"] for r in d["reasons"]}
        assert d["reasons"], d["drug"]
        strongest = max(effects, key=lambda e: strength[e])
        assert d["status"] == strongest, d
        if "excluded" in effects:
            assert d["status"] == "excluded", d
            assert d["drug"] not in usable, d
        fact_effects = {
            r.fact["effect"]
            for r in ev.inference.of_kind("drug-reason")
            if r.fact["drug"] == d["drug"]
        }
        assert fact_effects == effects, d["drug"]
    assert set(ev.result["actions"]) <= ACTIONS
    records = ev.inference.records
    for r in ev.inference.derived():
        assert r.derivations, r.fact
        for d in r.derivations:
            assert d.rule_id in ev.inference.rules
            assert all(p in records for p in d.premises), (r.fact, d)


@settings(settings.get_profile("cmlkb"))
@given(cases())
def test_invariants_hold_for_generated_cases(case):
    check_invariants(evaluate(KB, case))


@settings(settings.get_profile("cmlkb"), max_examples=30)
@given(cases())
def test_evaluation_is_deterministic(case):
    one, two = evaluate(KB, case), evaluate(KB, case)

    def comparable(result):
        return json.dumps(
            {k: v for k, v in result.items() if k != "evaluation_id"}, sort_keys=True, default=str
        )

    assert comparable(one.result) == comparable(two.result)
