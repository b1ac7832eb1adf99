"""`cmlkb check`: exit 0 on the shipped knowledge, exit 1 on deliberately broken copies,
with a message that names the entity and the fix.

Each broken copy is the shipped ontology/ and rules/ with one defect introduced through
rdflib (so the test does not depend on how the Turtle is laid out). The test compares the
findings of the copy with those of the unbroken knowledge, so it checks the defect is
caught even while the curated data still has other findings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.knowledge.namespaces import CML, DRUG, KB
from cmlkb.reasoning.check import check_knowledge, citation_findings, forbidden_citations


@pytest.fixture(scope="module")
def baseline(kb: KnowledgeBase) -> set[tuple[str, str]]:
    """(check, focus) of every finding on the unbroken knowledge."""
    return {(f.check, f.focus) for f in check_knowledge(kb, reasoner=False)}


def copy_knowledge(project_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(project_root / "ontology", root / "ontology")
    if (project_root / "rules").is_dir():
        shutil.copytree(project_root / "rules", root / "rules")
    return root


def edit_knowledge(root: Path, edit: Callable[[Graph], bool]) -> None:
    """Apply `edit` to each knowledge file's graph until one reports a change; rewrite it."""
    for path in sorted((root / "ontology" / "knowledge").glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        if edit(graph):
            graph.serialize(path, format="turtle")
            return
    pytest.fail("the shipped knowledge has nothing this test can break")


def check_json(run_cli, root: Path) -> tuple[int, list[dict]]:
    result = run_cli("check", "--root", str(root), "--no-reasoner", "--format", "json")
    return result.exit_code, json.loads(result.stdout)["findings"]


def new_findings(findings: list[dict], baseline: set[tuple[str, str]]) -> list[dict]:
    return [f for f in findings if (f["check"], f["focus"]) not in baseline]


def curie(uri: URIRef) -> str:
    return (
        str(uri)
        .replace("https://w3id.org/cmlkb/statement/", "stmt:")
        .replace("https://w3id.org/cmlkb/mutation/", "mut:")
    )


# ---------------------------------------------------------------------------
# Broken copies
# ---------------------------------------------------------------------------


def test_milestone_band_gap(project_root, tmp_path, run_cli, baseline) -> None:
    removed: list[URIRef] = []

    def remove_a_band(graph: Graph) -> bool:
        bands = sorted(
            b
            for b in graph.subjects(RDF.type, CML.MilestoneBand)
            if graph.value(b, CML.guideline) == KB["eln-2020"]
            and graph.value(b, CML.lowerIsPercent) is not None
        )
        if not bands:
            return False
        removed.append(bands[0])
        graph.remove((bands[0], None, None))
        return True

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, remove_a_band)
    code, findings = check_json(run_cli, root)
    assert code == 1
    gaps = [f for f in new_findings(findings, baseline) if f["check"] == "qc:milestone-band-gap"]
    assert gaps, f"removing {removed[0]} left no gap finding"
    assert all(f["severity"] == "violation" and f["focus"].startswith("stmt:") for f in gaps)
    assert "Add the missing band" in gaps[0]["message"]


def test_statement_without_source(project_root, tmp_path, run_cli, baseline) -> None:
    chosen: list[URIRef] = []

    def drop_sources(graph: Graph) -> bool:
        statements = sorted(graph.subjects(RDF.type, CML.DrugSensitivityStatement))
        if not statements:
            return False
        chosen.append(statements[0])
        graph.remove((statements[0], DCTERMS.source, None))
        return True

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, drop_sources)
    code, findings = check_json(run_cli, root)
    assert code == 1
    [finding] = [
        f for f in new_findings(findings, baseline) if f["check"] == "shacl:statement-has-source"
    ]
    assert finding["focus"] == curie(chosen[0])
    assert "add dcterms:source src:" in finding["message"]


def test_typo_in_a_drug_iri(project_root, tmp_path, run_cli, baseline) -> None:
    typo = DRUG["dasatnib"]

    def misspell(graph: Graph) -> bool:
        uses = sorted(graph.subjects(CML.drug, DRUG["dasatinib"]))
        if not uses or (DRUG["dasatinib"], RDF.type, None) in graph:
            return False  # leave the file that declares the drug alone
        graph.remove((uses[0], CML.drug, DRUG["dasatinib"]))
        graph.add((uses[0], CML.drug, typo))
        return True

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, misspell)
    code, findings = check_json(run_cli, root)
    assert code == 1
    new = new_findings(findings, baseline)
    shacl = [f for f in new if f["check"] == "shacl:reference-drug"]
    assert shacl and "drug:dasatnib" in shacl[0]["message"]
    assert "fix the IRI" in shacl[0]["message"]
    assert any(
        f["check"] == "qc:undeclared-reference" and "drug:dasatnib" in f["message"] for f in new
    )


def test_duplicated_id(project_root, tmp_path, run_cli, baseline) -> None:
    pair: list[URIRef] = []

    def duplicate_notation(graph: Graph) -> bool:
        variants = sorted(graph.subjects(RDF.type, CML.Variant))
        if len(variants) < 2:
            return False
        first, second = variants[:2]
        graph.set((second, SKOS.notation, Literal(str(graph.value(first, SKOS.notation)))))
        pair.extend([first, second])
        return True

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, duplicate_notation)
    result = run_cli("check", "--root", str(root), "--no-reasoner")
    assert result.exit_code == 1
    assert "[qc:duplicate-notation]" in result.stdout
    for variant in pair:
        assert curie(variant) in result.stdout
    assert "give each entity its own code" in result.stdout
    assert "VIOLATIONS (" in result.stdout and "FAIL" in result.stdout


def test_broken_copy_in_a_real_subprocess(project_root, tmp_path) -> None:
    def drop_all_titles(graph: Graph) -> bool:
        sources = sorted(graph.subjects(RDF.type, CML.Source))
        for source in sources:
            graph.remove((source, DCTERMS.title, None))
        return bool(sources)

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, drop_all_titles)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmlkb.interfaces.cli",
            "check",
            "--root",
            str(root),
            "--no-reasoner",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["conforms"] is False
    assert any(f["check"] == "shacl:source-has-title" for f in report["findings"])


def test_a_root_without_knowledge_is_an_error(tmp_path, run_cli) -> None:
    result = run_cli("check", "--root", str(tmp_path), "--no-reasoner")
    assert result.exit_code == 1
    assert "no ontology/ folder" in result.stderr


def test_unparsable_knowledge_names_the_file(project_root, tmp_path, run_cli) -> None:
    root = copy_knowledge(project_root, tmp_path)
    (root / "ontology" / "knowledge" / "zz-broken.ttl").write_text("this is not turtle .\n")
    result = run_cli("check", "--root", str(root), "--no-reasoner")
    assert result.exit_code == 1
    assert "zz-broken.ttl" in result.stderr


# ---------------------------------------------------------------------------
# Citations a reader can follow (issue 9 item 16)
# ---------------------------------------------------------------------------


def test_forbidden_citation_patterns() -> None:
    """The curation sheet's locators, register ids and 'from memory' are refused; a
    journal supplement such as 58(S1) and a mutation such as S417Y are not citations."""
    refused = [
        "ELN 2020 milestones (fact sheet 1.2)",
        "Fact sheet 3.2: T315M resistant",
        "NGS is preferred (S11, V)",
        "approved 2024 (V, S19)",
        "as quoted on the HCP page (S25)",
        "U-high, from memory",
        "NCCN v2.2027 CML-4 (as recalled)",
        "see clinical-facts.md section 4.3",
        "renal dose (see open question 14)",
    ]
    for text in refused:
        assert forbidden_citations(text), text
    accepted = [
        "reprinted in Blood Res 2023;58(S1):S29 Table 1",
        "Hochhaus 2020, Leukemia 34:966, doi 10.1038/s41375-020-0776-2",
        "S417Y is an asciminib-pocket variant",
        "U-high: not checked against the label text",
    ]
    for text in accepted:
        assert not forbidden_citations(text), text


def test_a_statement_citing_the_curation_sheet_fails(
    project_root, tmp_path, run_cli, baseline
) -> None:
    chosen: list[URIRef] = []

    def cite_the_sheet(graph: Graph) -> bool:
        statements = sorted(graph.subjects(RDF.type, CML.DrugSensitivityStatement))
        if not statements:
            return False
        chosen.append(statements[0])
        graph.set((statements[0], CML.locator, Literal("NCCN CML-5 (fact sheet 3.2)")))
        graph.add((statements[0], RDFS.comment, Literal("Resistant (U-high, from memory).")))
        return True

    root = copy_knowledge(project_root, tmp_path)
    edit_knowledge(root, cite_the_sheet)
    code, findings = check_json(run_cli, root)
    assert code == 1
    cited = [f for f in new_findings(findings, baseline) if f["check"] == "citations"]
    assert {f["focus"] for f in cited} == {
        f"{curie(chosen[0])} cml:locator",
        f"{curie(chosen[0])} rdfs:comment",
    }
    assert all(f["severity"] == "violation" for f in cited)
    messages = " ".join(f["message"] for f in cited)
    assert "cite the primary source a reader can open" in messages
    assert "say in plain words what is unverified" in messages


def test_a_rule_and_a_query_citing_the_curation_sheet_fail(project_root, tmp_path, run_cli) -> None:
    root = copy_knowledge(project_root, tmp_path)
    shutil.copytree(project_root / "queries", root / "queries")
    rule_file = next(p for p in sorted((root / "rules").glob("*.yaml")) if p.name != "facts.yaml")
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(
        text.replace('section: "', 'section: "(fact sheet 1.2) ', 1), encoding="utf-8"
    )
    query = root / "queries" / "qc" / "source-without-locator.rq"
    query.write_text("# why: register id S8 of the sheet\n" + query.read_text(), encoding="utf-8")
    result = run_cli("check", "--root", str(root), "--no-reasoner")
    assert result.exit_code == 1
    assert f"[citations] rules/{rule_file.name}: " in result.stdout
    assert "[citations] queries/qc/source-without-locator.rq:1" in result.stdout
    assert "name the source itself" in result.stdout


def test_the_shipped_base_cites_no_curation_sheet(kb: KnowledgeBase) -> None:
    assert citation_findings(kb) == []


# ---------------------------------------------------------------------------
# The shipped knowledge
# ---------------------------------------------------------------------------


@pytest.mark.curated
def test_shipped_knowledge_passes(run_cli) -> None:
    result = run_cli("check", "--no-reasoner")
    assert result.exit_code == 0, result.stdout
    assert "OK: no violation." in result.stdout


@pytest.mark.curated
@pytest.mark.java
def test_shipped_knowledge_passes_with_the_reasoner_in_a_subprocess(project_root) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cmlkb.interfaces.cli", "check", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=project_root,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0, [f for f in report["findings"] if f["severity"] == "violation"]
    assert not any(f["check"] == "owl" and f["severity"] != "info" for f in report["findings"])
