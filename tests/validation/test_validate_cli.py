"""`cmlkb validate` and `cmlkb vocab`: exit codes, plain messages, JSON reports, no
traceback; the vocabularies come from the knowledge base."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

from cmlkb.case.read import load_case_files
from cmlkb.case.validation import validate
from cmlkb.interfaces.cli import main
from cmlkb.knowledge.base import load_knowledge, load_knowledge_from
from cmlkb.knowledge.vocab import vocabularies

VALID = Path(__file__).parents[1] / "shapes" / "case" / "valid"
EXAMPLES = Path(__file__).parents[2] / "examples" / "cases"
EXAMPLE_FILES = sorted(EXAMPLES.glob("0[1-6]-*.json"))  # the six shared examples


def _write(tmp_path: Path, name: str, case: object) -> Path:
    f = tmp_path / name
    f.write_text(json.dumps(case))
    return f


def _base() -> dict:
    return json.loads((VALID / "full-case.json").read_text())


def test_examples_validate_clean_exit_0(cli_kb, capsys) -> None:
    assert main(["validate", *map(str, EXAMPLE_FILES)]) == 0
    out = capsys.readouterr().out
    assert "6 case(s) checked: 6 valid, 0 invalid" in out


def test_every_problem_of_every_file_is_reported(cli_kb, capsys, tmp_path) -> None:
    a = _base()
    a["id"] = "case-a"
    a["therapies"][0]["drug"] = "imatinb"
    a["patient"]["age_years"] = -3
    b = _base()
    b["id"] = "case-b"
    b["bcr_abl1"][0]["is_percent"] = "high"
    files = [_write(tmp_path, "a.json", a), _write(tmp_path, "b.json", b), EXAMPLE_FILES[0]]
    assert main(["validate", *map(str, files)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert any(x.startswith('case-a (a.json): therapies[0].drug: found "imatinb"') for x in lines)
    assert any("imatinib" in x for x in lines if "therapies[0].drug" in x)
    assert any(x.startswith("case-a (a.json): patient.age_years: found -3") for x in lines)
    assert any(x.startswith("case-b (b.json): bcr_abl1[0].is_percent") for x in lines)
    assert "3 case(s) checked: 1 valid, 2 invalid" in lines[-1]


def test_json_format_is_the_report_as_data(cli_kb, capsys, tmp_path) -> None:
    case = _base()
    case["therapies"][1]["start"] = "2024-13-01"
    f = _write(tmp_path, "bad.json", case)
    assert main(["validate", "--format", "json", str(f), str(EXAMPLE_FILES[0])]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["checked"] == 2
    assert report["valid"] == ["example-optimal-responder"]
    [problem] = report["problems"]
    assert problem["case_id"] == "shape-base" and problem["source"] == "bad.json"
    assert problem["path"] == "therapies[1].start" and problem["found"] == '"2024-13-01"'
    assert "YYYY-MM-DD" in problem["expected"] and problem["severity"] == "violation"


def test_warnings_alone_exit_0(cli_kb, capsys, tmp_path) -> None:
    case = _base()
    del case["adherence"]
    assert main(["validate", str(_write(tmp_path, "w.json", case))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: shape-base (w.json): adherence: found nothing")


def test_duplicate_case_ids_across_files(kb, tmp_path) -> None:
    f1 = _write(tmp_path, "one.json", _base())
    f2 = _write(tmp_path, "two.json", _base())
    report = validate(load_case_files([f1, f2]), kb)
    assert not report.ok
    [problem] = report.violations
    assert (problem.source, problem.path) == ("two.json", "id")
    assert "one.json" in problem.expected


def test_jsonl_batch_names_the_line(cli_kb, capsys, tmp_path) -> None:
    good, bad = _base(), _base()
    bad["id"] = "line-2"
    bad["diagnosis"]["phase"] = "acute"
    f = tmp_path / "batch.jsonl"
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    assert main(["validate", str(f)]) == 2
    out = capsys.readouterr().out
    assert 'line-2 (batch.jsonl:2): diagnosis.phase: found "acute"' in out


def test_validation_does_not_change_the_input(kb) -> None:
    cases = load_case_files(EXAMPLE_FILES)
    before = copy.deepcopy([c.raw for c in cases])
    report = validate(cases, kb)
    assert [c.raw for c in cases] == before
    assert sorted(report.cases) == sorted(c.case_id for c in cases)


def test_all_examples_validate_clean() -> None:
    """Every shipped example, the six shared ones and the later ones, is valid. (How fast
    validation is, is measured by `make bench`, not asserted here.)"""
    report = validate(load_case_files(sorted(EXAMPLES.glob("*.json"))), load_knowledge())
    assert report.ok, report.problems


def test_subprocess_user_error_has_no_traceback(tmp_path) -> None:
    f = tmp_path / "broken.json"
    f.write_text("{not json")
    exe = Path(sys.executable).parent / "cmlkb"
    done = subprocess.run(
        [str(exe), "validate", str(f)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    line = "(no id) (broken.json): the case: found not valid JSON: Expecting property name"
    assert line in done.stdout


# -- vocabularies ------------------------------------------------------------------------


def test_vocabularies_come_from_the_knowledge_base(kb) -> None:
    vocabs = vocabularies(kb)
    assert {
        "drugs",
        "mutations",
        "comorbidities",
        "goals",
        "comedications",
        "abnormalities",
        "transcripts",
        "actions",
        "stop-reasons",
        "sexes",
        "adherence-statuses",
        "elts-risks",
        "phases",
    } <= set(vocabs)
    t315i = next(t for t in vocabs["mutations"] if t["code"] == "T315I")
    assert t315i["hgvs_protein"] == "p.Thr315Ile"
    assert "imatinib" in {t["code"] for t in vocabs["drugs"]}


def test_a_comorbidity_added_in_turtle_is_accepted(kb, tmp_path) -> None:
    case = _base()
    case["patient"]["comorbidities"] = ["made-up-condition"]
    f = _write(tmp_path, "c.json", case)
    assert not validate(load_case_files([f]), kb).ok
    root = tmp_path / "kb"
    for folder in ("ontology", "rules", "queries"):
        shutil.copytree(kb.root / folder, root / folder)
    (root / "ontology" / "knowledge" / "extra.ttl").write_text(
        "@prefix cml: <https://w3id.org/cmlkb/ontology#> .\n"
        "@prefix kb: <https://w3id.org/cmlkb/kb/> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        'kb:made-up-condition a cml:Comorbidity ; skos:notation "made-up-condition" .\n'
    )
    extended = load_knowledge_from(root)
    assert validate(load_case_files([f]), extended).ok


def test_vocab_command_text_and_json(cli_kb, capsys) -> None:
    assert main(["vocab"]) == 0
    text = capsys.readouterr().out
    assert "comorbidities (patient.comorbidities)" in text
    assert "T315I  p.Thr315Ile" in text
    assert main(["vocab", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "diabetes" in {t["code"] for t in data["comorbidities"]}
    assert all(set(t) >= {"code", "label", "plain_label", "definition"} for t in data["goals"])
