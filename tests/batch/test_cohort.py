"""Reading a cohort (cmlkb.batch.cohort): records numbered across files in name order,
sources with the line numbers an editor shows, blank lines skipped, bytes kept as they
are (a bad line is still a record, for the rejects), one digest over names and bytes."""

from __future__ import annotations

import pytest

from cmlkb.batch.cohort import read_cohort, scan_cohort
from cmlkb.errors import InvalidInput


def test_a_jsonl_file_line_by_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"id": "a"}\r\n\n  \n{"id": "b"}\nnot json\n\xff\xfe\n{"id": "\xe2\x80\xa8"}'
    )
    scan = scan_cohort(path)
    assert (scan.kind, scan.records) == ("jsonl", 5)
    records = list(read_cohort(scan))
    assert [(r.index, r.source) for r in records] == [
        (0, "c.jsonl:1"),
        (1, "c.jsonl:4"),
        (2, "c.jsonl:5"),
        (3, "c.jsonl:6"),
        (4, "c.jsonl:7"),
    ]
    assert records[0].data == b'{"id": "a"}'  # BOM and CR gone
    assert records[3].data == b"\xff\xfe"  # not UTF-8: still a record
    assert records[4].data == '{"id": "\u2028"}'.encode()  # a Unicode line separator is no line end
    assert [r.index for r in read_cohort(scan, start=3)] == [3, 4]


def test_a_folder_in_name_order(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"id": "b1"}\n{"id": "b2"}\n')
    (tmp_path / "a.json").write_text('{"id": "a"}')
    (tmp_path / "C.JSON").write_text('{"id": "C"}')
    (tmp_path / "empty.jsonl").write_text("\n")
    (tmp_path / "readme.txt").write_text("not a case")
    (tmp_path / "sub.json").mkdir()
    scan = scan_cohort(tmp_path)
    assert scan.kind == "folder"
    assert [f.name for f in scan.files] == ["C.JSON", "a.json", "b.jsonl", "empty.jsonl"]
    records = list(read_cohort(scan))
    assert [(r.index, r.source, r.data) for r in records] == [
        (0, "C.JSON", b'{"id": "C"}'),
        (1, "a.json", b'{"id": "a"}'),
        (2, "b.jsonl:1", b'{"id": "b1"}'),
        (3, "b.jsonl:2", b'{"id": "b2"}'),
    ]
    assert scan.records == 4


def test_the_digest_follows_names_and_bytes(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a"}\n')
    first = scan_cohort(path).digest
    assert scan_cohort(path).digest == first
    path.write_text('{"id": "a"}\n\n')  # one more (blank) line: other bytes
    assert scan_cohort(path).digest != first
    renamed = tmp_path / "d.jsonl"
    renamed.write_text('{"id": "a"}\n')
    assert scan_cohort(renamed).digest != first


def test_what_is_not_a_cohort(tmp_path):
    with pytest.raises(InvalidInput, match="no such file or folder"):
        scan_cohort(tmp_path / "absent.jsonl")
    (tmp_path / "cases.csv").write_text("id\n")
    with pytest.raises(InvalidInput, match=r"a cohort is a \.jsonl file"):
        scan_cohort(tmp_path / "cases.csv")
