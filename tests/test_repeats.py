"""Repeat groups (household rosters): every export shape is read to the same member rows, member tables are
replaced with their households, quarantine takes members with their household or alone, and the form's rules
apply inside repeats with references to the household (tests/_repeats.py builds the exports)."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from assess.core.xlsform import read_xlsform
from assess.core.xpath import RepeatContext, Untranslatable, to_sql
from assess.read.export import StructuralError, stage_export
from assess.read.repeats import sheet_matches
from assess.report.receipts import format_receipt_text, write_receipts
from assess.store.connection import connect
from assess.store.runs import load_outcome, stored_outcome
from assess.validate import handoff
from assess.validate.stage import FileOutcome, stage_file, would_load_every_row
from assess.validate.suite import validate
from flows.cli import app
from tests._repeats import (
    ILLNESS,
    ILLNESS_SHEET,
    SURVEY,
    clone,
    households,
    settings_for,
    write_central_zip,
    write_form,
    write_kobo_csv,
    write_kobo_xlsx,
)
from tests.corpus import zip_bomb

ROSTER = "r_roster"
ILL = "r_" + ILLNESS
HH1, HH2, HH3 = (f"0b6f5c1e-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))


@pytest.fixture
def env(tmp_path):
    form_path = write_form(tmp_path / "form.xlsx")
    settings = settings_for(tmp_path, form_path)
    settings.inbox.mkdir(parents=True)
    return settings, read_xlsform(form_path)


def drop(env, name: str, writer, hhs, *, age: float = 0, **kw) -> FileOutcome:
    """Write an export into the inbox (`age` seconds in the future of the previous one), stage and load it."""
    settings, form = env
    path = writer(settings.inbox / name, hhs, **kw)
    stamp = time.time() + age
    os.utime(path, (stamp, stamp))
    out = stage_file(path, settings, form)
    con = connect(settings.store_path)
    try:
        load_outcome(con, out, settings, form, "run", "test-key")
    finally:
        con.close()
    return out


def rows(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def members(
    settings, table: str = ROSTER, cols: str = "submission_id, path, parent_path, sex, age"
) -> list[tuple]:
    return rows(settings, f'SELECT {cols} FROM "{table}" ORDER BY submission_id, path')


# ------------------------------------------------------------------------------------------------ readers


def test_kobo_xlsx_repeat_sheets_cut_names_and_a_leaf_without_index(env, tmp_path):
    settings, form = env
    path = write_kobo_xlsx(tmp_path / "kobo.xlsx", households())
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    assert staged.format == "kobo_xlsx" and staged.rows == 3 and staged.warnings == []
    assert list(staged.repeats) == ["roster", ILLNESS]
    assert staged.repeats[ILLNESS].member == ILLNESS_SHEET and len(ILLNESS_SHEET) == 31
    assert not any(c.header == "_index" for c in staged.repeats[ILLNESS].columns)  # a leaf: no _index
    roster = duckdb.sql(
        f"SELECT _row, _sid, _hh_row, _path, _parent_path, _pos, age FROM "
        f"read_parquet('{staged.repeats['roster'].path}') ORDER BY _row"
    ).fetchall()
    assert roster[:3] == [
        (2, HH1, 2, "roster[1]", "", 1, "34"),
        (3, HH1, 2, "roster[2]", "", 2, "12"),
        (4, HH1, 2, "roster[3]", "", 3, "7"),
    ]
    assert roster[3][1:4] == (HH2, 3, "roster[1]")
    ill = duckdb.sql(
        f"SELECT _row, _sid, _path, _parent_path FROM read_parquet('{staged.repeats[ILLNESS].path}') "
        "ORDER BY _row"
    ).fetchall()
    assert ill == [
        (2, HH1, f"roster[1]/{ILLNESS}[1]", "roster[1]"),
        (3, HH1, f"roster[3]/{ILLNESS}[1]", "roster[3]"),
        (4, HH1, f"roster[3]/{ILLNESS}[2]", "roster[3]"),
    ]


@pytest.mark.parametrize(
    "sheet", [ILLNESS[:31], ILLNESS[:28] + "...", ILLNESS[:24] + "... (1)", ILLNESS.upper()[:31]]
)
def test_sheet_names_as_excel_and_kobo_cut_them(sheet):
    assert sheet_matches(sheet, ILLNESS)
    assert not sheet_matches(sheet, "roster")
    assert sheet_matches("a_b_c", "a/b:c") and sheet_matches("roster", "roster")


def test_plain_31_character_sheet_name_is_matched(env, tmp_path):
    _, form = env
    path = write_kobo_xlsx(tmp_path / "kobo.xlsx", households(), illness_sheet=ILLNESS[:31])
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    assert staged.repeats[ILLNESS].rows == 3 and staged.repeats[ILLNESS].member == ILLNESS[:31]


def test_odk_central_zip_with_suffixes_nested_repeats_and_media(env, tmp_path):
    _, form = env
    path = write_central_zip(tmp_path / "roster_form.csv.zip", households(), suffixes=True)
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    assert staged.format == "odk_csv.zip" and staged.rows == 3 and staged.warnings == []
    assert staged.repeats["roster"].member == "roster_form-roster~1.csv"
    ill = duckdb.sql(
        f"SELECT _sid, _path, _parent_path, _pos FROM read_parquet('{staged.repeats[ILLNESS].path}') "
        "ORDER BY _path"
    ).fetchall()
    assert ill == [
        (HH1, f"roster[1]/{ILLNESS}[1]", "roster[1]", 1),
        (HH1, f"roster[3]/{ILLNESS}[1]", "roster[3]", 1),
        (HH1, f"roster[3]/{ILLNESS}[2]", "roster[3]", 2),
    ]


def test_zip_guards_apply_to_every_member(env, tmp_path):
    _, form = env
    evil = write_central_zip(tmp_path / "evil.zip", households(), extra={"../../etc/evil.csv": b"a,b\n1,2\n"})
    with pytest.raises(StructuralError, match="points outside the archive"):
        stage_export(evil, form, tmp_path / "s1" / "rows.parquet")
    zip_bomb(tmp_path / "bomb.zip")
    with pytest.raises(StructuralError, match="expands to"):
        stage_export(tmp_path / "bomb.zip", form, tmp_path / "s2" / "rows.parquet")
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as zf:
        zf.writestr("media/a.jpg", b"jpeg")
    with pytest.raises(StructuralError, match="no CSV"):
        stage_export(tmp_path / "photos.zip", form, tmp_path / "s3" / "rows.parquet")


# ------------------------------------------------------------------------------------------------ store

MEMBER_COLS = "submission_id, path, parent_path, member_name, sex, age, relation, school, member_needs"


def test_kobo_xlsx_and_odk_zip_load_identical_member_tables(tmp_path):
    tables = {}
    for shape, writer in (("kobo", write_kobo_xlsx), ("odk", write_central_zip)):
        root = tmp_path / shape
        form_path = write_form(root.parent / f"{shape}-form.xlsx")
        settings = settings_for(root, form_path)
        settings.inbox.mkdir(parents=True)
        out = drop(
            (settings, read_xlsform(form_path)),
            f"export.{'xlsx' if shape == 'kobo' else 'zip'}",
            writer,
            households(),
        )
        assert out.status == "loaded" and out.accepted == 3, out.reason
        tables[shape] = (
            members(settings, ROSTER, MEMBER_COLS),
            members(settings, ILL, "submission_id, path, parent_path, illness, days_sick"),
            rows(
                settings,
                f"SELECT column_name, data_type FROM information_schema.columns WHERE "
                f"table_name IN ('{ROSTER}', '{ILL}') ORDER BY table_name, ordinal_position",
            ),
        )
    assert tables["kobo"] == tables["odk"]
    roster, ill, types = tables["kobo"]
    assert len(roster) == 6 and len(ill) == 3
    assert dict((c, t) for c, t in types)["age"] == "BIGINT"
    assert [c for c, _ in types][:9] == [
        "round",
        "submission_id",
        "path",
        "parent_path",
        "source_file",
        "source_sha256",
        "source_member",
        "source_row",
        "loaded_at",
    ]
    assert (
        roster[0][3] != "Amina" and len(roster[0][3]) == 64
    )  # a private question: keyed hash, as households
    assert roster[0][8] == "food water"


def test_cumulative_reexport_replaces_members(env):
    settings = env[0]
    day1 = households()
    drop(env, "day1.xlsx", write_kobo_xlsx, day1)
    assert len(members(settings)) == 6 and len(members(settings, ILL, "path")) == 3
    day2 = clone(day1)
    del day2[0]["members"][1]  # Omar left the household; Sara is now the second member
    day2[0]["hh_size"] = "2"
    day2.insert(
        0, {**clone(day1)[2], "uuid": "0b6f5c1e-0000-4000-8000-000000000009"}
    )  # a new household first
    out = drop(env, "day2.xlsx", write_kobo_xlsx, day2, age=5, index_start=40)  # Kobo's _index has shifted
    assert out.status == "loaded"
    hh1 = [
        r
        for r in members(settings, ROSTER, "submission_id, path, member_name IS NOT NULL, age, source_file")
        if r[0] == HH1
    ]
    assert [(p, a, f) for _, p, _, a, f in hh1] == [
        ("roster[1]", 34, "day2.xlsx"),
        ("roster[2]", 7, "day2.xlsx"),
    ]
    ill = [r[1:] for r in members(settings, ILL, "submission_id, path") if r[0] == HH1]
    assert ill == [(f"roster[1]/{ILLNESS}[1]",), (f"roster[2]/{ILLNESS}[1]",), (f"roster[2]/{ILLNESS}[2]",)]
    assert rows(settings, f'SELECT count(*) FROM "{ROSTER}"') == [(6,)]  # 5 of the 3 old households + 1 new


def test_kobo_csv_after_xlsx_keeps_members_and_says_which_export_to_use(env):
    settings, form = env
    drop(env, "kobo.xlsx", write_kobo_xlsx, households())
    before = members(settings, ROSTER, "submission_id, path, age, source_file")
    changed = households()
    changed[1]["children_u5"] = "0"
    out = drop(env, "kobo.csv", write_kobo_csv, changed, age=5)
    assert out.status == "loaded" and out.accepted == 3 and out.members == []
    assert members(settings, ROSTER, "submission_id, path, age, source_file") == before
    assert rows(
        settings, f"SELECT children_u5, source_file FROM submissions WHERE submission_id = '{HH2}'"
    ) == [(0, "kobo.csv")]
    note = next(n for n in out.warnings if "repeat group(s) 'roster'" in n)
    assert "not in this file" in note and "XLSX" in note and "csv.zip" in note and "stay" in note
    text = format_receipt_text(out)
    assert "export XLSX from KoboToolbox" in text
    assert (
        "repeat count of roster: ${hh_size} (the repeat group is not in this file)" in out.result.not_checked
    )


def test_quarantined_household_takes_its_members_and_the_receipt_says_so(env):
    settings, form = env
    hhs = households()
    hhs[0]["hh_size"] = "99"  # household 1 kept aside: its 3 members and 3 illness rows stay out
    out = drop(env, "kobo.xlsx", write_kobo_xlsx, hhs)
    assert (out.status, out.accepted, out.quarantined) == ("loaded", 2, 1)
    assert {r[0] for r in members(settings)} == {HH2, HH3}
    assert members(settings, ILL, "path") == []
    counts = {m.repeat: m for m in out.members}
    assert (counts["roster"].rows, counts["roster"].accepted, counts["roster"].with_household) == (6, 3, 3)
    assert (counts[ILLNESS].accepted, counts[ILLNESS].with_household) == (0, 3)
    json_path, html_path = write_receipts(out, settings, form)
    receipt = json.loads(json_path.read_text())
    assert receipt["members"][0]["line"] == (
        "roster (roster): 6 rows, 3 loaded, 3 not loaded with their household (kept aside) or parent row"
    )
    assert "Member rows (repeat groups)" in html_path.read_text() and ILLNESS_SHEET in html_path.read_text()
    # the store keeps the counts: a receipt rebuilt from it says the same
    con = connect(settings.store_path)
    try:
        again = stored_outcome(con, out.sha256, settings)
    finally:
        con.close()
    assert again.members == out.members


def test_member_row_quarantined_alone_with_its_sheet_row_and_instance(env):
    settings, form = env
    hhs = households()
    hhs[0]["members"][2]["age"] = "130"  # Sara (sheet row 4): kept aside, with her two illness episodes
    out = drop(env, "kobo.xlsx", write_kobo_xlsx, hhs)
    assert (out.accepted, out.quarantined) == (3, 0)
    assert [r[1] for r in members(settings) if r[0] == HH1] == ["roster[1]", "roster[2]"]
    assert members(settings, ILL, "path") == [(f"roster[1]/{ILLNESS}[1]",)]
    (q,) = rows(
        settings, 'SELECT submission_id, member, "row", path, "column", value, reason FROM quarantine'
    )
    assert q == (
        HH1,
        "roster",
        4,
        "roster[3]",
        "hh/roster/age",
        "130",
        "Age 130: Age must be between 0 and 110.",
    )
    counts = {m.repeat: m for m in out.members}
    assert (counts["roster"].accepted, counts["roster"].quarantined) == (5, 1)
    assert (counts[ILLNESS].accepted, counts[ILLNESS].with_household) == (1, 2)
    assert not would_load_every_row(out)
    text = format_receipt_text(out)
    assert "roster, row 4 (roster[3]), Age 130: Age must be between 0 and 110." in text
    assert (
        "Member rows (repeat groups):" in text and "roster (roster): 6 rows, 5 loaded, 1 kept aside" in text
    )
    # a corrected export supersedes the member's quarantine line
    drop(env, "fixed.xlsx", write_kobo_xlsx, households(), age=5)
    assert rows(settings, "SELECT superseded_by FROM quarantine") == [("fixed.xlsx",)]
    assert len(members(settings, ILL, "path")) == 3


# ------------------------------------------------------------------------------------------------ validation


def check(env, tmp_path, hhs, writer=write_kobo_xlsx, name="x.xlsx"):
    settings, form = env
    path = writer(tmp_path / name, hhs)
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    return validate(staged, form, settings, workdir=tmp_path / "w", route="sql")


@pytest.mark.parametrize(
    "writer,name,member",
    [(write_kobo_xlsx, "x.xlsx", "roster"), (write_central_zip, "x.zip", "roster_form-roster.csv")],
)
def test_repeat_rules_read_household_answers(env, tmp_path, writer, name, member):
    hhs = households()
    hhs[0]["members"][1]["school"] = ""  # 12 years old, school module asked: required
    hhs[1]["members"][1]["age"] = (
        "9"  # 9 years old, but the household skipped the school module: not required
    )
    hhs[1]["members"][1]["relation"] = "head"  # the head must be listed first: position(..)
    hhs[2]["hh_size"] = "2"  # one member listed: the repeat count warns on the household
    hhs[1]["children_u5"] = "3"  # more than count(${roster})
    hhs[0]["members"][0]["illness"][0]["illness"] = "flu"  # not a choice, in the nested repeat
    result = check(env, tmp_path, hhs, writer, name)
    found = {(p.member, p.path, p.kind, p.action, p.reason) for p in result.problems}
    assert (
        member,
        "roster[2]",
        "required",
        "quarantine",
        "Attends school: no answer, but the question is required here (${consent} = 'yes' and ${age} >= 5 and "
        "${age} <= 17 and ${school_module} = 'yes')",
    ) in found
    assert (
        member,
        "roster[2]",
        "constraint",
        "quarantine",
        "Relation to the head head: The head of household is listed first.",
    ) in found
    assert (
        None,
        None,
        "consistency",
        "warn",
        "How many people live in this household? 2: the file has 1 row(s) of the repeat group 'roster'",
    ) in found
    assert (
        None,
        None,
        "constraint",
        "quarantine",
        "Children under 5 3: breaks the form's rule . <= count(${roster})",
    ) in found
    assert any(p.kind == "choice" and p.path == f"roster[1]/{ILLNESS}[1]" for p in result.problems)
    assert len(result.problems) == 5, result.problems
    assert result.not_checked == []


def test_member_row_without_a_household_is_kept_aside(env, tmp_path):
    settings, form = env
    hhs = households()
    path = write_kobo_xlsx(tmp_path / "x.xlsx", hhs)
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["roster"]
    col = [c.value for c in ws[1]].index("_parent_index") + 1
    ws.cell(row=3, column=col, value=77)  # Omar points at no household row
    wb.save(path)
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    result = validate(staged, form, settings, workdir=tmp_path / "w", route="sql")
    orphan = [p for p in result.problems if p.kind == "unique"]
    assert [(p.member, p.row, p.submission_id) for p in orphan] == [("roster", 3, HH1)]
    assert "belongs to no household row of this file" in orphan[0].reason


def test_kobo_links_through_submission_uuid_without_index(env, tmp_path):
    from openpyxl import load_workbook

    settings, form = env
    path = write_kobo_xlsx(tmp_path / "x.xlsx", households())
    wb = load_workbook(path)
    main = wb.worksheets[0]
    main.delete_cols([c.value for c in main[1]].index("_index") + 1)
    wb.save(path)
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    roster = duckdb.sql(
        f"SELECT _sid, _path FROM read_parquet('{staged.repeats['roster'].path}') ORDER BY _row"
    )
    assert roster.fetchall()[:4] == [
        (HH1, "roster[1]"),
        (HH1, "roster[2]"),
        (HH1, "roster[3]"),
        (HH2, "roster[1]"),
    ]
    assert staged.repeats[ILLNESS].rows == 3


def test_odk_member_of_a_missing_parent_instance_is_kept_aside(env, tmp_path):
    settings, form = env
    ok = write_central_zip(tmp_path / "ok.zip", households())
    with zipfile.ZipFile(ok) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    name = f"roster_form-{ILLNESS}.csv"
    files[name] = files[name].replace(
        b"/hh/roster[3]/" + ILLNESS.encode() + b"[2]", b"/hh/roster[7]/" + ILLNESS.encode() + b"[1]"
    )
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    staged = stage_export(tmp_path / "bad.zip", form, tmp_path / "s" / "rows.parquet")
    result = validate(staged, form, settings, workdir=tmp_path / "w", route="sql")
    (p,) = result.problems
    assert (p.member, p.row, p.path, p.kind) == (name, 4, f"roster[7]/{ILLNESS}[1]", "unique")
    assert "belongs to no row of its parent repeat group" in p.reason


def test_indexed_repeat_reads_another_instance(tmp_path):
    survey = [
        r
        if r[1] != "relation"
        else (
            "select_one relation",
            "relation",
            "Relation to the head",
            "yes",
            "",
            ". != 'child' or ${age} < indexed-repeat(${age}, ${roster}, 1)",
            "A child is younger than the head.",
        )
        for r in SURVEY
    ]
    form = read_xlsform(write_form(tmp_path / "form.xlsx", survey))
    hhs = households()
    hhs[1]["members"][1]["age"] = "60"  # Lise, a child, older than Jean (the first member)
    path = write_kobo_xlsx(tmp_path / "x.xlsx", hhs)
    staged = stage_export(path, form, tmp_path / "s" / "rows.parquet")
    result = validate(staged, form, settings_for(tmp_path, form.path), workdir=tmp_path / "w", route="sql")
    assert [(p.member, p.row, p.path, p.reason) for p in result.problems] == [
        (
            "roster",
            6,
            "roster[2]",
            "Relation to the head child: A child is younger than the head. (hh/roster/age 60)",
        )
    ]
    assert result.not_checked == []


def test_position_count_and_indexed_repeat_translate():
    resolve = {"age": ("age", "integer"), "hh_size": ("__up__hh_size", "integer")}.__getitem__
    ctx = RepeatContext(
        position="_pos",
        count=lambda r: f'"__count__{r}"',
        indexed=lambda q, r, n: (f"(SELECT x FROM m WHERE pos = {n})", "integer"),
    )
    assert (
        to_sql(
            ". != 'head' or position(..) = 1", lambda n: ("relation", "text"), current="relation", repeats=ctx
        )
        == "((coalesce(relation, '') <> 'head') OR (_pos = 1))"
    )
    assert '"__count__roster"' in to_sql("${hh_size} = count(${roster})", resolve, repeats=ctx)
    assert "(SELECT x FROM m WHERE pos = (_pos - 1))" in to_sql(
        "indexed-repeat(${age}, ${roster}, position(..) - 1) >= 0", resolve, repeats=ctx
    )
    with pytest.raises(Untranslatable, match="outside a repeat"):
        to_sql("position(..) = 1", resolve)
    with pytest.raises(Untranslatable):
        to_sql("count(${roster}) > 0", resolve)


# ------------------------------------------------------------------------------------------------ hand-off, export


def test_handoff_carries_repeats_and_member_counts(env):
    settings, form = env
    path = write_central_zip(settings.inbox / "x.zip", households())
    out = stage_file(path, settings, form)
    back = handoff.read_outcome(handoff.write_outcome(out, settings), settings)
    assert back.staged is not None and out.staged is not None
    assert back.staged.repeats == out.staged.repeats and back.members == out.members
    assert back.result is not None and back.result.problems == out.result.problems


def test_export_table_writes_household_and_member_tables(env, tmp_path):
    settings, form = env
    drop(env, "kobo.xlsx", write_kobo_xlsx, households())
    cfg = tmp_path / "assessment.toml"
    cfg.write_text(
        f'[survey]\nxlsform = "{form.path}"\n[paths]\ninbox = "{settings.inbox}"\n'
        f'processed = "{settings.processed}"\n[privacy]\nprivate = ["resp_name"]\n'
    )
    runner = CliRunner()
    for name, n in (("submissions", 3), (ILLNESS, 3), (ROSTER, 6), ("roster", 6)):
        result = runner.invoke(
            app, ["export", "table", name, "--out", str(tmp_path / "t.csv"), "--config", str(cfg)]
        )
        assert result.exit_code == 0, result.output
        lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
        assert len(lines) == n + 1
        assert "Amina" not in (tmp_path / "t.csv").read_text(encoding="utf-8-sig")  # private: keyed hashes
    assert lines[0].startswith("round,submission_id,path,parent_path,source_file")
    assert "member_name" in lines[0] and ",food water" in lines[1]
    result = runner.invoke(
        app, ["export", "table", "housholds", "--out", str(tmp_path / "u.csv"), "--config", str(cfg)]
    )
    assert result.exit_code == 2
    assert (
        "unknown table 'housholds'" in result.output
        and ROSTER in result.output
        and "submissions" in result.output
    )
    assert not Path(tmp_path / "u.csv").exists()
