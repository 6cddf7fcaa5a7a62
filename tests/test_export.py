"""CSV exports are safe to open in Excel: no formula runs, numbers stay numbers, UTF-8 with a BOM, atomic."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest

from assess.report import exports as export
from assess.store.connection import connect


@pytest.mark.parametrize("text", [
    "=1+1", '=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
    "\t=1+1", "\r=1+1", "=", "-", "+", "@",
])
def test_text_that_a_spreadsheet_would_run_is_prefixed(text):
    assert export.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [
    -3, -2.5, 0, 7, 1e-9, None, True, "-12", "-12.50", "+7", "-1e5", "plain text", "<script>alert(1)</script>",
    "file:///etc/passwd", "a=b", "",
])
def test_numbers_and_harmless_text_are_unchanged(value):
    assert export.neutralise(value) == value


def _read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens accents and Arabic correctly
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def test_write_csv_neutralises_text_keeps_numbers_and_has_a_bom(tmp_path):
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (label VARCHAR, estimate DOUBLE, n BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [
        ('=HYPERLINK("http://evil.example","x")', -0.25, -3), ("Région Nord – eau", 0.5, 12),
        ("-1", None, None), ("@me", 1.0, 0),
    ])
    out = tmp_path / "x.csv"
    assert export.write_csv(con, "SELECT * FROM t ORDER BY n NULLS LAST", {}, out) == 4
    rows = _read(out)
    assert rows[0] == ["label", "estimate", "n"]
    assert rows[1] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "-0.25", "-3"]  # negative numbers stay numbers
    assert rows[2] == ["'@me", "1.0", "0"]
    assert rows[3] == ["Région Nord – eau", "0.5", "12"]
    assert rows[4] == ["-1", "", ""]  # a number stored as text is still a number
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temp file left


def test_a_failed_export_leaves_the_previous_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "x.csv"
    out.write_text("previous\n", encoding="utf-8")
    con = duckdb.connect(":memory:")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(export.os, "replace", broken_replace)
    with pytest.raises(OSError):
        export.write_csv(con, "SELECT 1 AS a", {}, out)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_quarantine_export_of_hostile_values(tmp_path):

    con = connect(tmp_path / "s.duckdb")
    con.execute(
        "INSERT INTO quarantine VALUES ('1', 'u1', '=cmd.csv', 'abc', 3, 'notes', '=HYPERLINK(\"x\")', 'e', "
        "'+bad reason', 'custom', 'quarantine', NULL, 'r', NULL)"
    )
    out = tmp_path / "q.csv"
    export.export_quarantine(con, "1", out)
    rows = _read(out)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])
    assert "'=HYPERLINK(\"x\")" in rows[1] and "'=cmd.csv" in rows[1]
