"""Receipts: JSON + HTML per file, plain text for `assess check`, markdown run summary."""

from __future__ import annotations

import json

from assess.core.problems import Problem, ValidationResult
from assess.report.receipts import format_receipt_text, validation_summary_markdown, write_receipt

BAD = Problem(
    expectation="expect_column_values_to_be_between",
    kind="constraint",
    row=14,
    submission_id="u14",
    column="hh_size",
    value="99",
    reason="household size 99: must be between 1 and 30",
)
WARN = Problem(
    expectation="unexpected_rows_expectation",
    kind="consistency",
    row=3,
    action="warn",
    reason="needs: the answer column says food but the option columns say water",
)


def outcome(**kw):
    base = {
        "name": "<b>kobo</b>.csv",
        "sha256": "ab" * 32,
        "status": "loaded",
        "rows": 20,
        "accepted": 19,
        "quarantined": 1,
        "format": "kobo_csv",
        "warnings": [],
        "result": ValidationResult(
            problems=[BAD, WARN], not_checked=["constraint of x: jr:choice-name(.)"], rules=12
        ),
    }
    base.update(kw)
    return base


def test_write_receipt_json_and_html(tmp_path):
    docs = tmp_path / "validation.html"
    docs.write_text("<html>rules</html>")
    out = outcome()
    out["result"].docs_path = str(docs)
    json_path, html_path = write_receipt(out, tmp_path / "receipts" / "1", language="en")
    data = json.loads(json_path.read_text())
    assert (data["status"], data["rows"], data["accepted"], data["quarantined"], data["warnings"]) == (
        "loaded",
        20,
        19,
        1,
        1,
    )
    assert data["problems"][0]["line"] == "row 14, household size 99: must be between 1 and 30"
    assert data["not_checked"] == ["constraint of x: jr:choice-name(.)"]
    html = html_path.read_text()
    assert "household size 99: must be between 1 and 30" in html
    assert "&lt;b&gt;kobo&lt;/b&gt;.csv" in html and "<b>kobo" not in html  # autoescaped
    assert "jr:choice-name" in html
    link = data["validation_report"]
    assert link.endswith(".rules.html") and (tmp_path / "receipts" / "1" / link.split("/")[-1]).exists()
    assert not list((tmp_path / "receipts" / "1").glob("*.tmp"))


def test_rejected_file_receipt(tmp_path):
    out = outcome(status="rejected", reason="no submission id column", result=None, accepted=0)
    json_path, html_path = write_receipt(out, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["status"] == "rejected" and data["quarantined"] == 20 and data["accepted"] == 0
    assert data["problems"][0]["kind"] == "structure"
    assert "no submission id column" in html_path.read_text()


def test_text_receipt_for_check():
    text = format_receipt_text(outcome(status="staged", accepted=0, quarantined=0))
    assert "19 of 20 rows would load; 1 kept aside" in text
    assert "  row 14, household size 99: must be between 1 and 30" in text
    assert "Warnings (rows still counted):" in text and "row 3, needs" in text
    assert "constraint of x" in text


SUSPECT = (
    "rule 'Rooms: . >= ${hh_size}' fails on 30 of 30 rows: probably a form problem; rows kept. "
    'Fix the form or set [validation.policy] constraint = "quarantine".'
)


def test_form_problems_are_said_first_and_not_enforced_rules_listed(tmp_path):
    result = ValidationResult(
        problems=[WARN],
        not_checked=[],
        rules=5,
        suspect_rules=[SUSPECT],
        not_enforced=["constraint of nb_chef (a calculate): . = ${c_chef_menage}"],
    )
    out = outcome(result=result, quarantined=0, accepted=20)
    text = format_receipt_text(out).splitlines()
    assert text[1] == "All 20 rows loaded." and text[2] == f"Probably a form problem: {SUSPECT}"
    assert text[-2:] == [
        "Rules not enforced at collection (on fields nobody answers; not applied):",
        "  constraint of nb_chef (a calculate): . = ${c_chef_menage}",
    ]
    json_path, html_path = write_receipt(out, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["suspect_rules"] == [SUSPECT] and data["not_enforced"] == result.not_enforced
    html = html_path.read_text()
    assert (
        html.index("Probably a form problem") < html.index("Problems to fix") < html.index("not enforced at")
    )
    assert "${hh_size}" in html and "&#34;quarantine&#34;" in html  # autoescaped


def test_older_outcomes_have_empty_new_keys(tmp_path):
    data = json.loads(write_receipt(outcome(), tmp_path)[0].read_text())
    assert data["suspect_rules"] == [] and data["not_enforced"] == []
    assert "Probably a form problem" not in format_receipt_text(outcome())


def test_summary_markdown():
    md = validation_summary_markdown(
        [outcome(), outcome(name="b.csv", status="rejected", reason="empty | file", result=None)]
    )
    lines = md.splitlines()
    assert lines[0].startswith("| file | status |")
    assert "| constraint 1, consistency 1 |" in lines[2]
    assert "empty \\| file" in lines[3]
    assert lines[-1].startswith("| **total** | | 40 | 19 | 21 |")


def test_rows_are_numbered_as_in_the_spreadsheet(demo_dir):
    """Header row 1, first data row 2: the 3rd data row of a CSV is row 4 everywhere a coordinator looks."""
    import duckdb

    from assess.core.privacy import hash_key
    from assess.core.settings import load_settings
    from assess.core.xlsform import read_form
    from assess.store.connection import connect
    from assess.store.runs import load_outcome
    from assess.validate.stage import stage_file
    from tests.corpus import _csv_text, _set, demo_rows

    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    header, rows = demo_rows(demo_dir, n=5)
    rows = _set(header, rows, "household-hh_size", ["4", "5", "99", "6", "3"])
    path = settings.inbox / "zz_third_row_bad.csv"
    path.write_text(_csv_text(header, rows), encoding="utf-8")

    out = stage_file(path, settings, form)
    bad = [p for p in out.result.problems if p.action == "quarantine"]
    assert [(p.row, p.column, p.value) for p in bad] == [(4, "household-hh_size", "99")]
    assert "  row 4, " in format_receipt_text(out)
    con = connect(settings.store_path)
    try:
        load_outcome(con, out, settings, form, "rows-test", hash_key())
    finally:
        con.close()
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        assert con.execute('SELECT "row" FROM quarantine WHERE file = ?', [path.name]).fetchall() == [(4,)]
        assert sorted(
            r[0]
            for r in con.execute(
                "SELECT source_row FROM submissions WHERE source_file = ?", [path.name]
            ).fetchall()
        ) == [2, 3, 5, 6]
    finally:
        con.close()
