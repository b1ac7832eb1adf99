"""Reading case files (cmlkb.case.load_case_files) and normalising cases."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from cmlkb.case.read import CaseInput, latest_date, load_case_files, normalise

SHAPES = Path(__file__).parents[1] / "shapes" / "case" / "valid"
EXAMPLES = Path(__file__).parents[2] / "examples" / "cases"


def test_json_file_is_one_case_with_decimal_numbers(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_text('{"id": "c1", "bcr_abl1": [{"date": "2024-01-01", "is_percent": 0.1}]}')
    [case] = load_case_files([f])
    assert case == CaseInput("c.json", case.raw, "c1", None)
    value = case.raw["bcr_abl1"][0]["is_percent"]
    assert isinstance(value, Decimal) and value == Decimal("0.1")


def test_jsonl_is_one_case_per_line_with_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "batch.jsonl"
    f.write_text('{"id": "a"}\n\n{"id": "b"}\nnot json\n')
    cases = load_case_files([f])
    assert [c.source for c in cases] == ["batch.jsonl:1", "batch.jsonl:3", "batch.jsonl:4"]
    assert [c.case_id for c in cases] == ["a", "b", None]
    assert cases[2].parse_error and "not valid JSON" in cases[2].parse_error


def test_bad_content_becomes_a_parse_problem_not_an_exception(tmp_path: Path) -> None:
    files = {
        "empty.json": b"",
        "blank.json": b"  \n",
        "text.json": b"hello",
        "nan.json": b'{"id": "x", "age": NaN}',
        "latin1.json": '{"id": "é"}'.encode("latin-1"),
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "bigint.json": b'{"id": "x", "n": ' + b"9" * 10_000 + b"}",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    cases = load_case_files([tmp_path / n for n in files] + [tmp_path / "missing.json"])
    assert all(c.parse_error and c.raw is None for c in cases), cases
    assert cases[0].parse_error == "an empty file"
    assert "cannot read" in cases[-1].parse_error


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "bom"}).encode())
    assert load_case_files([f])[0].case_id == "bom"


def test_hgvs_twin_normalises_to_the_same_variants_as_short_names(kb) -> None:
    hgvs, short = load_case_files([SHAPES / "hgvs-names.json", SHAPES / "short-names.json"])
    a, b = normalise(hgvs.raw, kb), normalise(short.raw, kb)
    assert hgvs.raw["mutation_analyses"] != short.raw["mutation_analyses"]
    assert a["mutation_analyses"] == b["mutation_analyses"]
    assert [v["protein"] for v in a["mutation_analyses"][0]["variants"]] == ["F317L", "T315I"]
    assert a["mutation_analyses"][0]["compound"] == [["F317L", "T315I"]]


def test_normalise_is_a_copy_keeping_every_other_key(kb) -> None:
    [case] = load_case_files([SHAPES / "hgvs-names.json"])
    before = json.dumps(case.raw, default=str)
    out = normalise(case.raw, kb)
    assert json.dumps(case.raw, default=str) == before
    assert out.keys() == case.raw.keys()
    assert out["therapies"] == case.raw["therapies"]


def test_assessed_on_defaults_to_the_latest_date(kb) -> None:
    raw = {
        "id": "2099-01-01",
        "diagnosis": {"date": "2020-01-01", "phase": "chronic"},
        "therapies": [{"drug": "imatinib", "start": "2020-02-01"}],
        "adherence": {"assessed_on": "2021-05-05", "status": "adherent"},
    }
    assert normalise(raw, kb)["assessed_on"] == "2021-05-05"
    assert latest_date(raw) == "2021-05-05"  # the id is not a date of the case
    assert normalise({**raw, "assessed_on": "2022-01-01"}, kb)["assessed_on"] == "2022-01-01"


def test_unknown_mutation_is_left_for_validation_to_report(kb) -> None:
    raw = {"mutation_analyses": [{"date": "2020-01-01", "variants": [{"protein": "Q999Z"}]}]}
    assert normalise(raw, kb)["mutation_analyses"][0]["variants"][0]["protein"] == "Q999Z"


def test_examples_are_read_from_the_repository() -> None:
    cases = load_case_files(sorted(EXAMPLES.glob("*.json")))
    shared = [c for c in cases if c.source[:2] in {"01", "02", "03", "04", "05", "06"}]
    assert len(shared) == 6 and all(c.parse_error is None and c.case_id for c in cases)
