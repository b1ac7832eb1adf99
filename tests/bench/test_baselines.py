"""The benchmark's baselines (bench/baselines.py) compute the same decision slice as cmlkb
(the ELN milestone category of the latest result, the drugs excluded by a mutation): the
hand-coded one on generated and hand-made cases, the owlready2 + HermiT one on a few (it
needs Java), and both follow an edited copy of the knowledge, so neither can drift from
cmlkb or hold a threshold of its own unnoticed. No timing here (`make bench` measures)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cmlkb.knowledge.base import KnowledgeBase, load_knowledge_from
from cmlkb.pipeline import evaluate_case, selection_for
from tests.benchkit import bench_module
from tests.casekit import (
    START,
    analysis,
    bcr,
    history,
    make_case,
    make_raw,
    plus_days,
    validated,
)

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    return bench_module(name)


@pytest.fixture(scope="module")
def baselines() -> ModuleType:
    return _load("baselines")


@pytest.fixture(scope="module")
def generated(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """50 generated cases, normalised as `cmlkb validate` leaves them."""
    from cmlkb.case.read import normalise

    gen = _load("generate")
    return [normalise(i.raw, kb) for i in gen.as_inputs(gen.generate_cases(kb, 50, seed=0))]


# Hand-made cases for the paths generated cases rarely reach, with the category cmlkb
# gives each (ELN 2020): bounds exactly on a threshold, the 3-month confirmation,
# window edges, undetectable, transcripts, results off the current therapy.
EDGE: dict[str, tuple[dict[str, Any], str | None]] = {
    "3m-unconfirmed": ({"bcr_abl1": [bcr(3, 15.0)]}, "warning"),
    "3m-confirmed": ({"bcr_abl1": [bcr(3, 15.0), bcr(4, 20.0)]}, "failure"),
    "3m-not-confirmed-lower": ({"bcr_abl1": [bcr(3, 15.0), bcr(4, 5.0)]}, "optimal"),
    "3m-on-threshold": ({"bcr_abl1": [bcr(3, 10.0)]}, "optimal"),
    "6m-on-threshold": ({"bcr_abl1": [bcr(6, 1.0)]}, "optimal"),
    "6m-just-above": ({"bcr_abl1": [bcr(6, 1.000001)]}, "warning"),
    "6m-window-start": ({"bcr_abl1": [bcr(4.5, 11.0)]}, "failure"),
    "12m-warning": ({"bcr_abl1": [bcr(12, 0.5)]}, "warning"),
    "24m-undetectable": (
        {"bcr_abl1": [bcr(12, 0.05), bcr(24, None, control_copies=52000)]},
        "optimal",
    ),
    "before-3m-window": ({"bcr_abl1": [bcr(1, 30.0)]}, None),
    "atypical-transcript": (
        {"diagnosis": {"transcript": "e1a2"}, "bcr_abl1": [bcr(6, 20.0)]},
        None,
    ),
    "transcript-not-recorded": ({"bcr_abl1": [bcr(6, 20.0)]}, "failure"),
    "latest-before-current-therapy": (
        {
            **history(("imatinib", "intolerance")),
            "bcr_abl1": [bcr(-1, 0.5)],
            "assessed_on": plus_days(START, 1),
        },
        None,
    ),
    "off-therapy-after-tfr": (
        {
            **history(("imatinib", "tfr"), current=None),
            "bcr_abl1": [bcr(2, 0.2)],
        },
        None,
    ),
    "compound-t315i": (
        {
            "bcr_abl1": [bcr(6, 12.0)],
            "mutation_analyses": [analysis(6, "T315I", "E255K", compound=[["T315I", "E255K"]])],
        },
        "failure",
    ),
    "mutation-earlier-analysis": (
        {
            "bcr_abl1": [bcr(12, 2.0)],
            "mutation_analyses": [analysis(6, "F317L"), analysis(12)],
        },
        "failure",
    ),
}


def _edge_case(kb: KnowledgeBase, name: str) -> dict[str, Any]:
    raw = make_raw(**EDGE[name][0], id=f"edge-{name}")
    if name == "transcript-not-recorded":
        del raw["diagnosis"]["transcript"]
    return validated(kb, raw)


@pytest.fixture(scope="module")
def edge(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [_edge_case(kb, name) for name in EDGE]


def test_edge_cases_reach_the_paths_they_name(baselines, kb, edge) -> None:  # type: ignore[no-untyped-def]
    selection = selection_for(kb)
    got = {
        c["id"]: baselines.cmlkb_slice(evaluate_case(c, kb, selection).result).eln_milestone
        for c in edge
    }
    assert got == {f"edge-{name}": category for name, (_, category) in EDGE.items()}


def test_hand_coded_slice_agrees_with_cmlkb(baselines, kb, generated, edge) -> None:  # type: ignore[no-untyped-def]
    disagreements, summary = baselines.agreement(kb, generated + edge, owl_cases=0)
    assert disagreements == []
    # the agreement covers every category, no category, and exclusions
    assert {"optimal", "warning", "failure", "None"} <= set(summary["eln_milestone"])
    assert summary["cases_with_exclusions"] >= 5
    assert summary["python_cases"] == len(generated) + len(edge)


def test_compound_and_single_mutations_exclude_from_the_knowledge(baselines, kb, edge) -> None:  # type: ignore[no-untyped-def]
    t = baselines.tables(kb)
    compound = next(c for c in edge if c["id"] == "edge-compound-t315i")
    excluded = set(baselines.python_slice(compound, t).excluded_by_mutation)
    expected = set(t.excluded_by_variant["T315I"]) | set(t.excluded_by_variant["E255K"])
    expected |= set(t.excluded_by_compound_member["T315I"])
    assert excluded == expected and "imatinib" in excluded


# -- the baselines follow the knowledge ----------------------------------------------------

NEW_MUTATION = """

mut:Y999C
    a cml:Variant ;
    skos:notation "Y999C" ;
    skos:prefLabel "BCR::ABL1 Y999C (test-only)"@en ;
    cml:hgvsProtein "p.Tyr999Cys" ;
    cml:residue 999 ;
    rdfs:comment "Test-only variant added by tests/bench/test_baselines.py."@en .

stmt:sensitivity-Y999C-asciminib
    a cml:DrugSensitivityStatement ;
    cml:variant mut:Y999C ;
    cml:drug drug:asciminib ;
    cml:effect kb:excluded ;
    cml:evidenceBasis kb:basis-clinical ;
    cml:evidence kb:evidence-V ;
    dcterms:source src:nccn-v2-2027 ;
    cml:locator "test-only" ;
    rdfs:comment "Test-only statement."@en .
"""


@pytest.fixture(scope="module")
def edited_kb(tmp_path_factory) -> KnowledgeBase:  # type: ignore[no-untyped-def]
    """ELN 2020 at 6 months: optimal <= 2 % (was 1 %); a new mutation excluding asciminib."""
    root = tmp_path_factory.mktemp("kb-baselines")
    for folder in ("ontology", "rules", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    ttl = root / "ontology" / "knowledge" / "milestones-eln-2020.ttl"
    text = ttl.read_text(encoding="utf-8")
    optimal = text.index("stmt:milestone-eln-2020-6m-optimal")
    warning = text.index("stmt:milestone-eln-2020-6m-warning")
    failure = text.index("stmt:milestone-eln-2020-6m-failure")
    text = (
        text[:optimal]
        + text[optimal:warning].replace("cml:upperIsPercent 1.0 ;", "cml:upperIsPercent 2.0 ;")
        + text[warning:failure].replace("cml:lowerIsPercent 1.0 ;", "cml:lowerIsPercent 2.0 ;")
        + text[failure:]
    )
    ttl.write_text(text, encoding="utf-8")
    sensitivity = root / "ontology" / "knowledge" / "drug-sensitivity.ttl"
    sensitivity.write_text(sensitivity.read_text(encoding="utf-8") + NEW_MUTATION, "utf-8")
    return load_knowledge_from(root)


def _changed_case(kb: KnowledgeBase) -> dict[str, Any]:
    return make_case(
        kb,
        id="edited-knowledge",
        bcr_abl1=[bcr(6, 1.5)],
        mutation_analyses=[analysis(6, "Y999C")],
    )


def test_hand_coded_slice_follows_the_knowledge(baselines, kb, edited_kb) -> None:  # type: ignore[no-untyped-def]
    case = _changed_case(edited_kb)
    shipped = baselines.python_slice(case, baselines.tables(kb))
    edited = baselines.python_slice(case, baselines.tables(edited_kb))
    assert (shipped.eln_milestone, shipped.excluded_by_mutation) == ("warning", ())
    assert (edited.eln_milestone, edited.excluded_by_mutation) == ("optimal", ("asciminib",))
    disagreements, _ = baselines.agreement(edited_kb, [case], owl_cases=0)
    assert disagreements == []


# -- owlready2 + HermiT ----------------------------------------------------------------------

OWL_EDGE = ("3m-unconfirmed", "3m-confirmed", "6m-on-threshold", "compound-t315i")


@pytest.mark.java
def test_owl_slice_agrees_with_cmlkb(baselines, kb, generated, edge) -> None:  # type: ignore[no-untyped-def]
    picked = [c for c in edge if c["id"].removeprefix("edge-") in OWL_EDGE]
    picked += [c for c in generated if c["diagnosis"].get("transcript") in ("e13a2", "e14a2")][:2]
    disagreements, summary = baselines.agreement(kb, picked, owl_cases=None)
    assert disagreements == []
    assert summary["owl_cases"] == len(picked) == 6
    assert {"warning", "failure", "optimal"} <= set(summary["eln_milestone"])


@pytest.mark.java
def test_owl_slice_follows_the_knowledge(baselines, edited_kb) -> None:  # type: ignore[no-untyped-def]
    case = _changed_case(edited_kb)
    t = baselines.tables(edited_kb)
    [got] = baselines.OwlBaseline(t).slices([baselines.shape(case, t)])
    assert (got.eln_milestone, got.excluded_by_mutation) == ("optimal", ("asciminib",))


@pytest.mark.java
def test_measure_reports_each_way(baselines, kb, edge) -> None:  # type: ignore[no-untyped-def]
    cases = edge[:3]
    m = baselines.measure(kb, cases, owl_per_case=1, owl_batches=(3,), repeat=1)
    assert m["n"] == 3 and m["owl_per_case_n"] == 1
    assert [b["n"] for b in m["owl_batches"]] == [3]
    for key in ("python_ms", "cmlkb_ms", "owl_per_case_ms"):
        assert m[key] > 0
    assert m["cmlkb_derivations_per_case"] > 0
    text = baselines.table(m)
    assert "hand-coded Python" in text and "HermiT" in text and "cmlkb" in text


def test_a_disagreement_stops_the_measurement(baselines, kb, edited_kb) -> None:  # type: ignore[no-untyped-def]
    """A baseline whose tables are not those of the knowledge cmlkb evaluates with (here
    the shipped knowledge's, against cmlkb on the edited copy) is refused, naming the
    case, before any OWL timing."""
    case = _changed_case(edited_kb)
    with pytest.raises(baselines.BaselineDisagrees) as refused:
        baselines.measure(
            edited_kb,
            [case],
            owl_per_case=0,
            owl_batches=(),
            repeat=1,
            baseline_tables=baselines.tables(kb),
        )
    [d] = refused.value.disagreements
    assert (d.case, d.baseline) == ("edited-knowledge", "python")
    assert (d.baseline_slice.eln_milestone, d.cmlkb_slice.eln_milestone) == ("warning", "optimal")
    assert "edited-knowledge" in str(refused.value)
