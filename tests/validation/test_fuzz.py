"""Property-based tests: malformed cases of every kind get a clear problem and never a
crash or a hang (hypothesis, bounded so the suite stays quick)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmlkb.case.read import CaseInput, load_case_files
from cmlkb.case.validation import validate

BASE = json.loads(
    (Path(__file__).parents[1] / "shapes" / "case" / "valid" / "full-case.json").read_text(),
    parse_float=Decimal,
)
FAST = settings(
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value, parts=()):
    yield list(parts)
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*parts, k))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _paths(v, (*parts, n))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _set(case, path, value):
    node = case
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return case


def _check(report, must_fail: bool = True) -> None:
    for p in report.problems:
        assert p.expected and p.found and p.message
        assert p.severity in ("violation", "warning")
        assert "Traceback" not in p.message
    if must_fail:
        assert not report.ok


@FAST
@given(json_values)
def test_any_json_value_is_reported_not_raised(kb, value) -> None:
    report = validate([CaseInput("fuzz.json", value, None, None)], kb)
    _check(report, must_fail=not isinstance(value, dict) or "id" not in value)


@FAST
@given(st.sampled_from(ALL_PATHS), json_values)
def test_any_field_replaced_by_junk(kb, path, junk) -> None:
    case = _set(copy.deepcopy(BASE), path, junk)
    _check(validate([CaseInput("fuzz.json", case, "shape-base", None)], kb), must_fail=False)


@FAST
@given(st.sampled_from([p for p in ALL_PATHS if isinstance(p[-1], str)]))
def test_any_key_removed(kb, path) -> None:
    case = copy.deepcopy(BASE)
    node = case
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    _check(validate([CaseInput("fuzz.json", case, case.get("id"), None)], kb), must_fail=False)


numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.just(Decimal("1E+999999")),
    st.just(Decimal("-1E-999999")),
)


@FAST
@given(
    st.sampled_from(["is_percent", "vaf_percent", "age_years", "metaphases", "dose_mg"]), numbers
)
def test_huge_and_negative_numbers(kb, field, number) -> None:
    case = copy.deepcopy(BASE)
    where = {
        "is_percent": ["bcr_abl1", 0],
        "vaf_percent": ["mutation_analyses", 0, "variants", 0],
        "age_years": ["patient"],
        "metaphases": ["cytogenetics", 0],
        "dose_mg": ["therapies", 1],
    }
    report = validate(
        [CaseInput("n.json", _set(case, [*where[field], field], number), "shape-base", None)], kb
    )
    _check(report, must_fail=False)
    limits = {"is_percent": (0, None), "vaf_percent": (0, 100), "age_years": (0, 120)}
    low, high = limits.get(field, (None, None))
    if low is not None and (number < low or (high is not None and number > high)):
        assert any(p.path.endswith(field) for p in report.violations)


@FAST
@given(st.dates(), st.dates())
def test_swapped_or_arbitrary_therapy_dates(kb, start, end) -> None:
    case = copy.deepcopy(BASE)
    case["therapies"][0]["start"] = start.isoformat()
    case["therapies"][0]["end"] = end.isoformat()
    report = validate([CaseInput("d.json", case, "shape-base", None)], kb)
    _check(report, must_fail=False)
    if end < start:
        assert any(p.path == "therapies[0].end" for p in report.violations)


@FAST
@given(st.text(min_size=1, max_size=30))
def test_unicode_ids_and_codes(kb, text) -> None:
    case = copy.deepcopy(BASE)
    case["id"] = text
    case["patient"]["comorbidities"] = [text]
    case["mutation_analyses"][0]["variants"][0]["protein"] = text
    report = validate([CaseInput("u.json", case, text, None)], kb)
    _check(report, must_fail=False)
    if report.ok:
        assert text in report.cases


@FAST
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(kb, tmp_path_factory, data) -> None:
    f = tmp_path_factory.mktemp("bytes") / "x.json"
    f.write_bytes(data)
    _check(validate(load_case_files([f]), kb), must_fail=not data.strip().startswith(b"{"))


def test_deep_nesting_and_empty_files(kb, tmp_path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"id": "d", "patient": ' + "[" * 50_000 + "]" * 50_000 + "}")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    nested = {
        "id": "n",
        "diagnosis": {"date": "2020-01-01", "phase": "chronic"},
        "therapies": [{"drug": "imatinib", "start": "2020-02-01"}],
    }
    node = nested["therapies"][0]
    for _ in range(500):
        node["x"] = {}
        node = node["x"]
    report = validate([*load_case_files([deep, empty]), CaseInput("n.json", nested, "n", None)], kb)
    assert not report.ok
    assert {p.source for p in report.violations} == {"deep.json", "empty.json", "n.json"}
