"""CSV exports are safe to open in Excel: no formula runs, numbers stay numbers, UTF-8 with a BOM, atomic."""

from __future__ import annotations

import csv
import io
import math

import duckdb
import pytest

from assess.report import exports as export
from assess.store.connection import connect


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "=",
        "-",
        "+",
        "@",
    ],
)
def test_text_that_a_spreadsheet_would_run_is_prefixed(text):
    assert export.neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [
        -3,
        -2.5,
        0,
        7,
        1e-9,
        None,
        True,
        "-12",
        "-12.50",
        "+7",
        "-1e5",
        "plain text",
        "<script>alert(1)</script>",
        "file:///etc/passwd",
        "a=b",
        "",
    ],
)
def test_numbers_and_harmless_text_are_unchanged(value):
    assert export.neutralise(value) == value


def _read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens accents and Arabic correctly
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def test_write_csv_neutralises_text_keeps_numbers_and_has_a_bom(tmp_path):
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (label VARCHAR, estimate DOUBLE, n BIGINT)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [
            ('=HYPERLINK("http://evil.example","x")', -0.25, -3),
            ("Région Nord – eau", 0.5, 12),
            ("-1", None, None),
            ("@me", 1.0, 0),
        ],
    )
    out = tmp_path / "x.csv"
    assert export.write_csv(con, "SELECT * FROM t ORDER BY n NULLS LAST", {}, out) == 4
    rows = _read(out)
    assert rows[0] == ["label", "estimate", "n"]
    assert rows[1] == [
        '\'=HYPERLINK("http://evil.example","x")',
        "-0.25",
        "-3",
    ]  # negative numbers stay numbers
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
        "'+bad reason', 'custom', 'quarantine', NULL, 'r', NULL, '@member.csv', 'roster[1]', NULL, NULL, NULL)"
    )
    out = tmp_path / "q.csv"
    export.export_quarantine(con, "1", out)
    rows = _read(out)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])
    assert '\'=HYPERLINK("x")' in rows[1] and "'=cmd.csv" in rows[1] and "'@member.csv" in rows[1]


# ------------------------------------------------------------------------------------------ estimates export


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("+-").replace(".", "")
    return len(mantissa.strip("0"))


def test_estimates_export_has_df_labels_and_twelve_digit_numbers(demo_dir, tmp_path):
    """What an analyst opens: df, English labels beside the codes, no 0.6600000000000001, values unclipped."""
    from assess.report.i18n import COMPOSITE_LABELS
    from tests._store import build_store

    settings, form, _ = build_store(demo_dir)
    con = connect(settings.store_path, read_only=True)
    out = tmp_path / "estimates.csv"
    n = export.export_estimates(con, settings, form, settings.round, out)
    stored = {
        tuple(r[:5]): r[5:]
        for r in con.execute(
            "SELECT round, level, area, indicator, option, estimate, ci_low, ci_high, se, df, n, n_option, weighted_n, "
            "suppressed FROM estimates WHERE round = ?",
            [settings.round],
        ).fetchall()
    }
    con.close()
    header, *rows = _read(out)
    assert n == len(rows) == len(stored)
    for col in ("df", "indicator_label", "option_label", "area_label"):
        assert col in header, col
    recs = [dict(zip(header, r, strict=True)) for r in rows]

    english = "English (en)"
    assert form.language.column == english
    by = {(r["level"], r["area"], r["indicator"], r["option"]): r for r in recs}
    needs = by[("admin1", "R01", "priority_needs", "water")]
    assert needs["indicator_label"] == form.label("priority_needs", english) != "priority_needs"
    assert needs["option_label"] == form.choice_label(
        form.questions["priority_needs"].list_name, "water", english
    )
    assert needs["option_label"] not in ("water", "")
    admin1 = form.questions["admin1"].list_name
    assert needs["area_label"] == form.choice_label(admin1, "R01", english) != "R01"
    assert by[("national", "all", "fcs_score", "")]["indicator_label"] == COMPOSITE_LABELS["en"]["fcs_score"]
    assert by[("national", "all", "fcs_score", "")]["area_label"] == "National"
    french = form.choice_label(admin1, "R01", "Français (fr)")
    assert french != needs["area_label"] and all(r["area_label"] != french for r in recs)

    numeric = ("estimate", "ci_low", "ci_high", "se", "df", "n", "n_option", "weighted_n")
    store_cols = ("estimate", "ci_low", "ci_high", "se", "df", "n", "n_option", "weighted_n", "suppressed")
    for r in recs:
        want = dict(
            zip(
                store_cols,
                stored[(r["round"], r["level"], r["area"], r["indicator"], r["option"])],
                strict=True,
            )
        )
        for col in numeric:
            text = r[col]
            if want["suppressed"] and col not in ("n",):
                assert text == "", (col, r)  # suppressed cells stay blank
                continue
            if want[col] is None:
                assert text == ""
                continue
            assert _significant_digits(text) <= 12, (col, text)
            assert math.isclose(float(text), want[col], rel_tol=1e-9, abs_tol=1e-9), (col, text, want[col])
    # intervals are exported unclipped, as R gives them
    assert any(float(r["ci_low"]) < 0 for r in recs if r["ci_low"])
    assert any(
        float(r["ci_high"]) > 1 for r in recs if r["ci_high"] and r["indicator"] != "hh_size" and r["option"]
    )


def test_numbers_are_written_with_at_most_twelve_significant_digits():
    assert export.cell(0.6600000000000001) == "0.66"
    assert export.cell(1.0) == "1.0" and export.cell(-0.25) == "-0.25"
    assert export.cell(-0.0021903234348912345) == "-0.00219032343489"
    assert export.cell(1957.9569147878651) == "1957.95691479"
    assert export.cell(7) == 7 and export.cell("=1+1") == "'=1+1"


def test_results_export_of_the_demo_plan_blanks_suppressed_rows_and_keeps_their_keys(demo_dir, tmp_path):
    """`assess export results`: the demo plan's long table; a suppressed row keeps keys, n_total, labels."""
    from typer.testing import CliRunner

    from flows.cli import app
    from tests._store import build_store

    settings, _, _ = build_store(demo_dir)
    out = tmp_path / "results.csv"
    result = CliRunner().invoke(
        app, ["export", "results", "--out", str(out), "--config", str(demo_dir / "assessment.toml")]
    )
    assert result.exit_code == 0, result.output
    header, *rows = _read(out)
    assert header[:13] == [
        "analysis_type", "analysis_var", "analysis_var_value", "group_var", "group_var_value", "stat",
        "stat_low", "stat_upp", "n", "n_total", "n_w", "n_w_total", "analysis_key",
    ]  # fmt: skip
    assert header[13:] == [
        "analysis_var_label", "analysis_var_value_label", "group_var_label", "group_var_value_label", "suppressed",
    ]  # fmt: skip
    recs = [dict(zip(header, r, strict=True)) for r in rows]
    suppressed = [r for r in recs if r["suppressed"] == "True"]
    assert suppressed and all(
        r["stat"] == r["stat_low"] == r["stat_upp"] == r["n"] == r["n_w"] == ""
        and r["n_total"]
        and r["analysis_key"]
        for r in suppressed
    )
    shown = [r for r in recs if r["suppressed"] == "False"]
    assert all(
        float(r["n"]) >= settings.min_cell
        for r in shown
        if r["analysis_type"].startswith("prop") and float(r["n"])
    )
    two = next(r for r in recs if r["group_var"] == "admin1 %/% head_gender")
    assert two["group_var_label"].count(" %/% ") == 1 and two["analysis_key"].count(" -/- ") == 1
    school = [r for r in recs if r["analysis_var"] == "ind_school" and r["group_var"] == "ind_sex"]
    assert {r["group_var_value"] for r in school} == {"female", "male"}
    ratio = next(r for r in recs if r["analysis_type"] == "ratio")
    assert ratio["analysis_var_value"] == "NA %/% NA" and ratio["analysis_key"].startswith(
        "ratio @/@ children_u5 %/% NA -/- hh_size %/% NA @/@"
    )
