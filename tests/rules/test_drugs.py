"""rules/drugs.yaml: every reason for or against each TKI (NCCN v2.2027 CML-5, Zabriskie
2014, labels, ELN 2020 comorbidity statements, interaction tables, sequencing sources).
A drug's status is the strongest effect among its reasons."""

from __future__ import annotations

from tests.casekit import (
    analysis,
    assert_fires,
    assert_no_conclusion,
    assert_not_fires,
    bcr,
    derived,
    history,
    reasons,
    run,
    status,
)

GLOBAL = ("imatinib", "dasatinib", "nilotinib", "bosutinib", "ponatinib", "asciminib")


def mutation_run(kb, *variants, compound=None, **changes):
    changes.setdefault("bcr_abl1", [bcr(6, 5.0)])
    return run(kb, mutation_analyses=[analysis(6, *variants, compound=compound)], **changes)


# drug-reason-mutation ------------------------------------------------------------------------


def test_v299l_excludes_dasatinib_and_bosutinib_not_nilotinib(kb):
    ev = mutation_run(kb, "V299L")
    assert_fires(ev, "drug-reason-mutation")
    assert status(ev, "dasatinib") == "excluded"
    assert status(ev, "bosutinib") == "excluded"
    assert status(ev, "nilotinib") != "excluded"
    assert reasons(ev, "nilotinib", reason="mutation", effect="candidate")


def test_t315i_excludes_imatinib_and_the_2g_tkis(kb):
    ev = mutation_run(kb, "T315I")
    for name in ("imatinib", "dasatinib", "nilotinib", "bosutinib"):
        assert status(ev, name) == "excluded", name
    assert status(ev, "ponatinib") != "excluded"
    assert status(ev, "asciminib") != "excluded"


def test_in_vitro_rows_never_exclude(kb):
    ev = mutation_run(kb, "A337V")
    mutation_reasons = derived(ev, "drug-reason", reason="mutation")
    assert mutation_reasons, "A337V has in-vitro statements"
    assert all(r["effect"] != "excluded" for r in mutation_reasons)
    assert status(ev, "asciminib") == "caution"


def test_every_in_vitro_or_u_tagged_sensitivity_statement_is_not_an_exclusion(kb):
    from cmlkb.reasoning.knowledge_facts import knowledge_facts

    rows = [k.fact for k in knowledge_facts(kb) if k.fact["kind"] == "sensitivity"]
    weak = [r for r in rows if r["basis"] == "in-vitro" or r["evidence"].startswith("U")]
    assert weak
    assert all(r["effect"] != "excluded" for r in weak), [
        r for r in weak if r["effect"] == "excluded"
    ]


def test_t315m_gives_only_cautions(kb):
    ev = mutation_run(kb, "T315M")
    assert all(r["effect"] != "excluded" for r in derived(ev, "drug-reason", reason="mutation"))


def test_negative_analysis_gives_no_mutation_reason(kb):
    ev = mutation_run(kb)
    assert_not_fires(ev, "drug-reason-mutation", "drug-reason-compound-mutation")


# drug-reason-compound-mutation -------------------------------------------------------------


def test_t315i_inclusive_compound_excludes_1g_2g_and_cautions_ponatinib(kb):
    ev = mutation_run(kb, "T315I", "E255K", compound=[["T315I", "E255K"]])
    assert_fires(ev, "drug-reason-compound-mutation")
    for name in ("imatinib", "dasatinib", "nilotinib", "bosutinib"):
        assert status(ev, name) == "excluded", name
    compound = reasons(ev, "ponatinib", reason="mutation", effect="caution")
    assert compound and "compound" in compound[0]["detail"]
    assert status(ev, "ponatinib") == "caution"


def test_same_variants_not_in_a_compound_give_no_compound_reason(kb):
    ev = mutation_run(kb, "T315I", "E255K")
    assert_not_fires(ev, "drug-reason-compound-mutation")
    assert status(ev, "ponatinib") == "candidate"


# drug-reason-transcript ----------------------------------------------------------------------


def test_e13a3_transcript_excludes_asciminib(kb):
    ev = run(kb, diagnosis={"transcript": "e13a3"})
    assert_fires(ev, "drug-reason-transcript")
    assert status(ev, "asciminib") == "excluded"
    assert status(ev, "imatinib") == "candidate"


def test_e14a3_transcript_excludes_asciminib(kb):
    assert status(run(kb, diagnosis={"transcript": "e14a3"}), "asciminib") == "excluded"


def test_e13a2_transcript_gives_no_transcript_reason(kb):
    ev = run(kb, diagnosis={"transcript": "e13a2"})
    assert_not_fires(ev, "drug-reason-transcript")
    assert status(ev, "asciminib") == "candidate"


# drug-reason-comorbidity ---------------------------------------------------------------------


def test_arterial_disease_makes_second_line_ponatinib_avoid_and_nilotinib_caution(kb):
    # on first-line imatinib, a switch is to the second line: ELN's strong contraindication
    # is for ponatinib in second or third line and for nilotinib in the first line only
    ev = run(kb, patient={"comorbidities": ["arterial-occlusive-disease"]})
    assert_fires(ev, "drug-reason-comorbidity")
    assert status(ev, "ponatinib") == "avoid"
    assert status(ev, "nilotinib") == "caution"
    assert status(ev, "bosutinib") == "candidate"


def test_a_narrower_arterial_disease_inherits_the_avoid(kb):
    ev = run(kb, patient={"comorbidities": ["peripheral-arterial-disease"]})
    assert status(ev, "ponatinib") == "avoid"


def test_hypertension_is_only_a_caution_for_ponatinib(kb):
    ev = run(kb, patient={"comorbidities": ["hypertension"]})
    assert status(ev, "ponatinib") == "caution"


def test_long_qt_excludes_nilotinib(kb):
    assert status(run(kb, patient={"comorbidities": ["long-qt"]}), "nilotinib") == "excluded"


def test_no_comorbidity_no_comorbidity_reason(kb):
    ev = run(kb)
    assert_not_fires(ev, "drug-reason-comorbidity")


# drug-reason-interaction ---------------------------------------------------------------------


def test_omeprazole_gives_dasatinib_an_interaction_reason(kb):
    ev = run(kb, comedications=["omeprazole"])
    assert_fires(ev, "drug-reason-interaction")
    assert reasons(ev, "dasatinib", reason="interaction", detail="omeprazole")
    assert status(ev, "dasatinib") == "caution"
    assert "review-interactions" in ev.result["actions"]
    assert not reasons(ev, "imatinib", reason="interaction")


def test_no_comedication_no_interaction_reason(kb):
    ev = run(kb)
    assert_not_fires(ev, "drug-reason-interaction")


# prior failure / intolerance -----------------------------------------------------------------


def test_drug_stopped_for_resistance_is_excluded(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "drug-reason-prior-failure", "failed-drug-stopped")
    assert status(ev, "imatinib") == "excluded"


def test_drug_stopped_for_intolerance_is_caution_not_failure(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "drug-reason-prior-intolerance")
    assert_not_fires(ev, "drug-reason-prior-failure", "failed-drug-stopped")
    assert status(ev, "imatinib") == "caution"


def test_drug_stopped_for_other_reasons_gets_neither(kb):
    ev = run(kb, **history(("imatinib", "other")), bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "drug-reason-prior-intolerance", "drug-reason-prior-failure")
    assert status(ev, "imatinib") == "candidate"


# current failure ------------------------------------------------------------------------------


def test_current_failure_with_extrinsic_causes_excluded_excludes_the_current_drug(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "drug-reason-current-failure-confirmed", "failed-drug-current")
    assert_not_fires(ev, "drug-reason-current-failure-unconfirmed")
    assert status(ev, "imatinib") == "excluded"


def test_current_failure_with_adherence_not_assessed_gives_the_unconfirmed_reason(kb):
    ev = run(kb, adherence=None, bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "drug-reason-current-failure-unconfirmed")
    # not yet true resistance: the drug is not counted as failed for sequencing
    assert_not_fires(ev, "drug-reason-current-failure-confirmed", "failed-drug-current")
    assert reasons(ev, "imatinib", reason="prior-failure", effect="caution")
    assert not reasons(ev, "imatinib", reason="prior-failure", effect="excluded")


def test_current_failure_with_adherence_not_assessed_does_not_exclude_the_drug(kb):
    ev = run(kb, adherence=None, bcr_abl1=[bcr(6, 15.0)])
    assert status(ev, "imatinib") == "caution"


def test_warning_is_no_current_failure(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 5.0)])
    assert_not_fires(
        ev,
        "failed-drug-current",
        "drug-reason-current-failure-confirmed",
        "drug-reason-current-failure-unconfirmed",
    )


# sequencing ----------------------------------------------------------------------------------


def test_after_imatinib_failure_2g_tkis_and_asciminib_are_sequenced_candidates(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "drug-reason-sequencing-after-drug")
    for name in ("dasatinib", "nilotinib", "bosutinib", "asciminib"):
        assert reasons(ev, name, reason="sequencing", detail="after imatinib failure"), name
    # a sequenced drug no longer gets the generic 'approved TKI' reason
    assert_no_conclusion(ev, "drug-reason-approved-tki", drug="dasatinib")
    assert_not_fires(ev, "drug-reason-sequencing-after-generation")


def test_after_2g_failure_ponatinib_and_asciminib_are_preferred(kb):
    ev = run(
        kb, **history(("dasatinib", "resistance"), current="nilotinib"), bcr_abl1=[bcr(6, 0.5)]
    )
    assert_fires(ev, "drug-reason-sequencing-after-generation")
    assert_not_fires(ev, "drug-reason-sequencing-after-drug")
    assert status(ev, "ponatinib") == "preferred"
    assert status(ev, "asciminib") == "preferred"
    assert status(ev, "dasatinib") == "excluded"


def test_no_mutation_found_after_failure_makes_ponatinib_preferred(kb):
    # from the third line on (US label: CP after >= 2 prior TKIs)
    ev = run(
        kb,
        **history(("imatinib", "resistance"), current="dasatinib"),
        bcr_abl1=[bcr(6, 15.0)],
        mutation_analyses=[analysis(6)],
    )
    assert_fires(ev, "no-mutation-after-failure", "drug-reason-sequencing-after-situation")
    assert reasons(ev, "ponatinib", reason="sequencing", effect="preferred")


def test_a_mutation_found_after_failure_is_not_the_no_mutation_situation(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(6, "E255K")])
    assert_not_fires(ev, "no-mutation-after-failure", "drug-reason-sequencing-after-situation")


def test_progression_excludes_imatinib_by_sequencing(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance")),
        bcr_abl1=[bcr(6, 20.0)],
        hematology=[{"date": bcr(6, 0)["date"], "blasts_percent": 20.0}],
    )
    assert_fires(ev, "drug-reason-sequencing-after-event")
    assert reasons(ev, "imatinib", reason="sequencing", effect="excluded", detail="progression")


def test_no_event_no_sequencing_after_event(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(ev, "drug-reason-sequencing-after-event")


def test_two_stopped_tkis_make_the_third_line_situation(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(
        ev, "two-or-more-tkis-failed-or-not-tolerated", "drug-reason-sequencing-after-two-tkis"
    )
    assert reasons(ev, "asciminib", reason="sequencing", detail="after two or more TKIs")
    assert reasons(ev, "ponatinib", reason="sequencing", detail="after two or more TKIs")


def test_one_stopped_tki_is_not_two_tkis(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_not_fires(
        ev,
        "two-or-more-tkis-failed-or-not-tolerated",
        "two-or-more-tkis-including-current",
        "drug-reason-sequencing-after-two-tkis",
    )


_NEQ_AFTER_IN = (
    "BUG (engine/rules.py compile_rule + durable-rules): a reference comparison placed "
    "after an `in` test ($or) in the same condition is ignored by durable-rules, so "
    "`drug: {ne: $a.drug}` after `stop_reason: {in: [...]}` never filters: the same drug "
    "stopped twice (or re-challenged) counts as two TKIs. Fix: emit `in` ($or) clauses last "
    "in compile_rule (measured: the comparison works when it comes before the $or)"
)


def test_the_same_drug_stopped_twice_is_not_two_tkis(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), ("imatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_not_fires(
        ev, "two-or-more-tkis-failed-or-not-tolerated", "drug-reason-sequencing-after-two-tkis"
    )


def test_current_failure_plus_a_prior_intolerance_is_two_tkis(kb):
    ev = run(kb, **history(("imatinib", "intolerance")), bcr_abl1=[bcr(6, 15.0)])
    assert_fires(ev, "two-or-more-tkis-including-current")
    assert_not_fires(ev, "two-or-more-tkis-failed-or-not-tolerated")


def test_current_failure_of_a_rechallenged_drug_is_not_two_tkis(kb):
    ev = run(
        kb, **history(("imatinib", "intolerance"), current="imatinib"), bcr_abl1=[bcr(6, 15.0)]
    )
    assert_fires(ev, "failed-drug-current")
    assert_not_fires(ev, "two-or-more-tkis-including-current")


def test_current_failure_alone_is_not_two_tkis(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "two-or-more-tkis-including-current")


# approved / regional / usable -----------------------------------------------------------------


def test_default_case_every_global_tki_is_a_candidate(kb):
    ev = run(kb)
    assert_fires(ev, "drug-reason-approved-tki", "drug-reason-regional-tki", "usable-drug")
    # ponatinib as a second-line switch in chronic phase is outside its label: a caution
    for name in GLOBAL:
        assert status(ev, name) == ("caution" if name == "ponatinib" else "candidate"), name
    for name in ("flumatinib", "radotinib", "olverembatinib"):
        assert status(ev, name) == "caution", name
    assert_no_conclusion(ev, "drug-reason-regional-tki", drug="imatinib")
    assert_no_conclusion(ev, "drug-reason-approved-tki", drug="flumatinib")


def no_tki_left(kb):
    """T315I-inclusive compound (imatinib, 2G excluded), ponatinib failed, e13a3
    transcript (asciminib excluded): every approved TKI excluded."""
    changes = history(("imatinib", "resistance"), ("ponatinib", "resistance"), current="dasatinib")
    changes["diagnosis"]["transcript"] = "e13a3"
    return run(
        kb,
        **changes,
        bcr_abl1=[bcr(6, 20.0)],
        mutation_analyses=[analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
    )


def test_no_usable_drug_when_every_approved_tki_is_excluded(kb):
    ev = no_tki_left(kb)
    for name in GLOBAL:
        assert status(ev, name) == "excluded", name
    assert_not_fires(ev, "usable-drug")
    assert_fires(ev, "transplant-trigger-no-tki-left")


def test_usable_drug_is_not_concluded_for_an_excluded_drug(kb):
    ev = run(kb, **history(("imatinib", "resistance")), bcr_abl1=[bcr(6, 0.5)])
    assert_no_conclusion(ev, "usable-drug", drug="imatinib")
    assert derived(ev, "usable-drug", drug="ponatinib")


# issue 9 item 1: a resistance mutation on the current TKI is biological resistance -----


def test_t315i_on_imatinib_counts_imatinib_as_failed_whatever_the_adherence(kb):
    ev = mutation_run(kb, "T315I", adherence=None)
    assert_fires(ev, "failed-drug-current-mutation")
    assert_not_fires(ev, "failed-drug-current")  # extrinsic causes are not excluded
    assert derived(ev, "failed-drug", drug="imatinib", current=True)
    # sequenced after imatinib failure although adherence was never assessed
    assert reasons(ev, "dasatinib", reason="sequencing")


def test_a_mutation_that_spares_the_current_drug_is_no_failed_drug(kb):
    # F317L: nilotinib stays effective (NCCN CML-5), so nilotinib has not failed.
    ev = mutation_run(
        kb,
        "F317L",
        adherence=None,
        therapies=[
            {"drug": "nilotinib", "dose_mg": 300, "frequency": "BID", "start": "2022-01-03"}
        ],
    )
    assert_not_fires(ev, "failed-drug-current-mutation")


# plain TKI options ---------------------------------------------------------------------


def test_a_candidate_without_caution_is_a_plain_tki(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "plain-tki")
    assert derived(ev, "plain-tki", drug="dasatinib")


def test_an_excluded_or_cautioned_drug_is_no_plain_tki(kb):
    ev = mutation_run(kb, "T315I", "E255K", compound=[["T315I", "E255K"]])
    assert_no_conclusion(ev, "plain-tki", drug="dasatinib")
    assert_no_conclusion(ev, "plain-tki", drug="ponatinib")
    assert_no_conclusion(ev, "plain-tki", drug="asciminib")


# issue 9 item 7: each drug named once in the two-or-more-TKIs situation -----------------


def test_two_or_more_tkis_names_each_drug_once(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 5.0)],
    )
    details = sorted(f["detail"] for f in derived(ev, "situation", code="two-or-more-tki-failures"))
    assert details == ["dasatinib stopped for intolerance", "imatinib stopped for resistance"]


# issue 9 item 3: line of therapy ---------------------------------------------------------------


def _line_facts(ev, drug_name):
    return [f["prior"] for f in derived(ev, "line-of-therapy", drug=drug_name)]


def test_first_line_current_drug_has_no_prior_tki_and_the_others_one(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_fires(ev, "line-of-therapy-current-first-line", "line-of-therapy-next")
    assert_not_fires(ev, "line-of-therapy-current-later-line", "line-of-therapy-off-therapy")
    assert _line_facts(ev, "imatinib") == [0]
    assert _line_facts(ev, "dasatinib") == [1]


def test_third_line_current_drug_counts_the_therapies_before_it(kb):
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "intolerance"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_fires(ev, "line-of-therapy-current-later-line")
    assert_not_fires(ev, "line-of-therapy-current-first-line")
    assert _line_facts(ev, "bosutinib") == [2]
    assert _line_facts(ev, "ponatinib") == [3]


def test_off_therapy_every_drug_is_in_the_line_after_the_last(kb):
    ev = run(kb, **history(("imatinib", "tfr"), current=None), bcr_abl1=[bcr(13, 0.5)])
    assert_fires(ev, "line-of-therapy-off-therapy")
    assert_not_fires(ev, "line-of-therapy-next", "line-of-therapy-current-first-line")
    assert _line_facts(ev, "imatinib") == [1]
    assert _line_facts(ev, "nilotinib") == [1]


def test_arterial_disease_nilotinib_avoid_first_line_caution_as_a_switch(kb):
    # current nilotinib in the first line: the ELN first-line contraindication applies
    ev = run(
        kb,
        **history(current="nilotinib"),
        patient={"comorbidities": ["arterial-occlusive-disease"]},
    )
    assert status(ev, "nilotinib") == "avoid"
    # imatinib first line: nilotinib would be a second-line switch -> caution only
    ev = run(kb, patient={"comorbidities": ["arterial-occlusive-disease"]})
    assert_fires(ev, "drug-reason-comorbidity")
    assert status(ev, "nilotinib") == "caution"
    assert not reasons(ev, "nilotinib", reason="comorbidity", effect="avoid")


def test_arterial_disease_ponatinib_avoid_only_in_second_or_third_line(kb):
    comorbid = {"comorbidities": ["arterial-occlusive-disease"]}
    # second line (switch from first-line imatinib)
    assert status(run(kb, patient=comorbid), "ponatinib") == "avoid"
    # fourth line: three therapies before
    ev = run(
        kb,
        **history(("imatinib", "resistance"), ("dasatinib", "intolerance"), current="bosutinib"),
        patient=comorbid,
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert not reasons(ev, "ponatinib", reason="comorbidity", effect="avoid")
    assert reasons(ev, "ponatinib", reason="comorbidity", effect="caution")
    # first line: current ponatinib
    ev = run(kb, **history(current="ponatinib"), patient=comorbid)
    assert not reasons(ev, "ponatinib", reason="comorbidity", effect="avoid")
    assert reasons(ev, "ponatinib", reason="comorbidity", effect="caution")


def test_pulmonary_disease_dasatinib_avoid_first_line_only(kb):
    comorbid = {"comorbidities": ["pleural-effusion"]}
    assert status(run(kb, **history(current="dasatinib"), patient=comorbid), "dasatinib") == (
        "avoid"
    )
    ev = run(kb, patient=comorbid)
    assert status(ev, "dasatinib") == "caution"
    assert not reasons(ev, "dasatinib", reason="comorbidity", effect="avoid")


def test_no_mutation_after_first_line_imatinib_failure_does_not_prefer_ponatinib(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(6)])
    assert_fires(ev, "no-mutation-after-failure")
    assert_no_conclusion(ev, "drug-reason-sequencing-after-situation", drug="ponatinib")
    assert not reasons(ev, "ponatinib", effect="preferred")
    assert reasons(ev, "ponatinib", reason="sequencing", effect="caution")
    assert status(ev, "ponatinib") == "caution"
    assert status(ev, "dasatinib") == "candidate"


def test_no_mutation_after_failure_in_the_second_line_makes_ponatinib_preferred(kb):
    ev = run(
        kb,
        **history(("imatinib", "intolerance"), current="nilotinib"),
        bcr_abl1=[bcr(6, 15.0)],
        mutation_analyses=[analysis(6)],
    )
    assert_fires(ev, "no-mutation-after-failure", "drug-reason-sequencing-after-situation")
    assert reasons(ev, "ponatinib", reason="sequencing", effect="preferred")


def test_t315i_lifts_the_second_line_ponatinib_caution(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)], mutation_analyses=[analysis(6, "T315I")])
    assert_no_conclusion(ev, "drug-reason-sequencing-after-drug", drug="ponatinib")
    assert status(ev, "ponatinib") == "candidate"


def test_ponatinib_caution_after_imatinib_failure_is_for_the_second_line_only(kb):
    # imatinib failed in the second line (first line dasatinib not tolerated): third line
    ev = run(
        kb,
        **history(("dasatinib", "intolerance"), current="imatinib"),
        bcr_abl1=[bcr(6, 15.0)],
    )
    assert_fires(ev, "drug-reason-sequencing-after-drug")
    assert_no_conclusion(ev, "drug-reason-sequencing-after-drug", drug="ponatinib")
    assert status(ev, "ponatinib") != "caution"


def test_asciminib_label_indication_first_line_and_third_line(kb):
    ev = run(kb, **history(current="asciminib"))
    assert_fires(ev, "drug-reason-label-indication-line")
    assert reasons(
        ev,
        "asciminib",
        detail="US label: newly diagnosed chronic phase (accelerated approval 29 Oct 2024)",
    )
    # third line, with no sequencing statement placing asciminib (earlier stops: other)
    ev = run(
        kb,
        **history(("imatinib", "other"), ("dasatinib", "other"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    label = "US label: chronic phase previously treated with two or more TKIs (2021)"
    assert reasons(ev, "asciminib", reason="sequencing", effect="candidate", detail=label)


def test_a_sequencing_preference_is_not_outranked_by_the_label_candidate(kb):
    # after first-line dasatinib failure, asciminib (third line here) stays preferred
    ev = run(
        kb,
        **history(("imatinib", "other"), ("dasatinib", "resistance"), current="nilotinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_no_conclusion(ev, "drug-reason-label-indication-line", drug="asciminib")
    assert status(ev, "asciminib") == "preferred"


def test_asciminib_has_no_label_indication_reason_in_the_second_line(kb):
    ev = run(kb, bcr_abl1=[bcr(6, 0.5)])
    assert_no_conclusion(ev, "drug-reason-label-indication-line", drug="asciminib")
    assert_not_fires(ev, "drug-reason-label-indication-variant")


def test_ponatinib_label_restriction_in_the_first_and_second_line(kb):
    ev = run(kb)  # first-line imatinib, no failure: ponatinib would be a second-line switch
    assert_fires(ev, "drug-reason-label-indication-line")
    assert reasons(ev, "ponatinib", reason="sequencing", effect="caution")
    assert status(ev, "ponatinib") == "caution"
    # third line: the restriction does not apply
    ev = run(
        kb,
        **history(("imatinib", "other"), ("dasatinib", "other"), current="bosutinib"),
        bcr_abl1=[bcr(6, 0.5)],
    )
    assert_no_conclusion(ev, "drug-reason-label-indication-line", drug="ponatinib")
    assert status(ev, "ponatinib") == "candidate"


def test_t315i_lifts_the_ponatinib_label_restriction(kb):
    ev = mutation_run(kb, "T315I", **history(current="asciminib"))
    assert_no_conclusion(ev, "drug-reason-label-indication-line", drug="ponatinib")
    assert status(ev, "ponatinib") == "candidate"


def test_ponatinib_label_restriction_gives_way_to_the_2g_failure_preference(kb):
    ev = run(
        kb, **history(("dasatinib", "resistance"), current="nilotinib"), bcr_abl1=[bcr(6, 0.5)]
    )
    assert_no_conclusion(ev, "drug-reason-label-indication-line", drug="ponatinib")
    assert status(ev, "ponatinib") == "preferred"


def test_t315i_gives_asciminib_its_label_indication(kb):
    ev = mutation_run(kb, "T315I", **history(current="asciminib"))
    assert_fires(ev, "drug-reason-label-indication-variant")
    assert reasons(
        ev, "asciminib", detail="US label: chronic phase with the T315I mutation, 200 mg BID (2021)"
    )


def test_label_indication_does_not_apply_in_blast_phase(kb):
    ev = mutation_run(
        kb,
        "T315I",
        **history(current="asciminib"),
        hematology=[{"date": bcr(6, 0)["date"], "blasts_percent": 35.0}],
    )
    assert_not_fires(ev, "drug-reason-label-indication-variant")


# issue 9 item 4: T315I and every second-generation TKI; T315I-inclusive compounds ------------


def test_t315i_excludes_the_regional_2g_tkis_too(kb):
    ev = mutation_run(kb, "T315I")
    for name in ("radotinib", "flumatinib"):
        assert status(ev, name) == "excluded", name
        assert reasons(ev, name, reason="mutation", effect="excluded", detail="T315I")


def test_another_mutation_does_not_exclude_the_regional_2g_tkis(kb):
    ev = mutation_run(kb, "F317L")
    for name in ("radotinib", "flumatinib"):
        assert not reasons(ev, name, reason="mutation", effect="excluded"), name


def test_t315i_compound_asciminib_avoid_and_trial_preferred(kb):
    ev = mutation_run(kb, "T315I", "E255K", compound=[["T315I", "E255K"]])
    assert status(ev, "asciminib") == "avoid"
    for name in ("radotinib", "flumatinib"):
        assert status(ev, name) == "excluded", name
    options = {o["option"]: o["status"] for o in ev.result["options"]}
    assert options.get("clinical-trial") == "preferred"
    assert options.get("allogeneic-sct") in ("preferred", "candidate")
    assert ev.result["transplant"]["consider"]


def test_single_t315i_is_not_the_compound_trial_preference(kb):
    ev = mutation_run(kb, "T315I")
    assert status(ev, "asciminib") == "candidate"
    options = {o["option"]: o["status"] for o in ev.result["options"]}
    assert options.get("clinical-trial") != "preferred"


def test_second_line_ponatinib_caution_is_for_chronic_phase_only(kb):
    # blast phase on first-line imatinib: the chronic-phase label restriction does not apply
    ev = run(
        kb,
        bcr_abl1=[bcr(6, 20.0)],
        hematology=[{"date": bcr(6, 0)["date"], "blasts_percent": 35.0}],
    )
    assert_fires(ev, "phase-scope-advanced")
    assert_no_conclusion(ev, "drug-reason-sequencing-after-drug", drug="ponatinib")
    ev = run(kb, bcr_abl1=[bcr(6, 15.0)])
    assert_not_fires(ev, "phase-scope-advanced")
    assert reasons(ev, "ponatinib", reason="sequencing", effect="caution")
