"""Store: every household once, re-runs add nothing, cumulative exports replace rather than double count."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import duckdb

from assess.core.settings import load_settings
from assess.core.xlsform import read_form
from assess.demo.quality import FILLED_LOG_PATH
from assess.inbox.archive import sha256_file
from assess.inbox.discover import inbox_files, seen_files
from assess.store.connection import connect
from assess.store.runs import load_outcome
from assess.validate.stage import FileOutcome, stage_file


def ingest_inbox(settings, form) -> list[FileOutcome]:
    """What the run flow does, without Prefect: discover -> stage -> load."""
    seen = seen_files(settings)
    outcomes = [stage_file(p, settings, form) for p in inbox_files(settings) if sha256_file(p) not in seen]
    con = connect(settings.store_path)
    try:
        for out in outcomes:
            load_outcome(con, out, settings, form, "test", "k")
    finally:
        con.close()
    return outcomes


def counts(settings) -> tuple[int, int, int]:
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*), count(DISTINCT submission_id), (SELECT count(*) FROM files) FROM submissions"
        ).fetchone()
    finally:
        con.close()


def raw_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        return sum(1 for _ in load_workbook(path, read_only=True).active.iter_rows()) - 1
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh, delimiter=";" if "kobo" in path.name else ",")) - 1


def test_demo_loads_every_household_once_and_rerun_adds_nothing(demo_dir):
    (
        demo_dir / FILLED_LOG_PATH
    ).unlink()  # the loader alone: the flow applies the filled cleaning log (issue 17)
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    # the three household exports; the roster re-exports (later) hold the same households again, with members
    expected = sum(raw_rows(p) for p in (demo_dir / "data/raw").iterdir() if "2026-11-16" not in p.name)
    outcomes = ingest_inbox(settings, form)
    assert [o.status for o in outcomes] == ["loaded"] * 5
    assert counts(settings) == (expected, expected, 5)
    # typed columns, lineage, per-option selections
    con = duckdb.connect(str(settings.store_path), read_only=True)
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'submissions'"
        ).fetchall()
    )
    assert types["hh_size"] == "BIGINT" and types["admin1"] == "VARCHAR"
    assert con.execute("SELECT min(source_row) FROM submissions").fetchone()[0] == 2
    n_food = con.execute(
        "SELECT count(*) FROM selections WHERE question = 'priority_needs' AND option = 'food' AND selected"
    ).fetchone()[0]
    assert 0 < n_food < expected
    con.close()
    # same files again, or the same content under another name: nothing changes
    assert ingest_inbox(settings, form) == []
    first = next((demo_dir / "data/raw").glob("*.csv"))
    shutil.copy(first, demo_dir / "data/raw" / "copy_of_export.csv")
    assert ingest_inbox(settings, form) == []  # known content is recognised by its sha256
    assert counts(settings)[:2] == (expected, expected)


def test_cumulative_export_loads_only_new_submissions(demo_dir, tmp_path):
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    raw = demo_dir / "data/raw"
    odk = raw / "odk_central_2026-11-14.csv"
    lines = odk.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    for p in raw.iterdir():
        p.unlink()
    day1 = raw / "odk_day1.csv"
    day1.write_text(header + "".join(body[:300]), encoding="utf-8")
    ingest_inbox(settings, form)
    assert counts(settings)[:2] == (300, 300)
    # the next day's export repeats the first 300 and adds 200; one earlier answer was corrected
    edited = body[5].replace(",R0", ",R0", 1)
    day2 = raw / "odk_day2.csv"
    day2.write_text(header + "".join(body[:5] + [edited] + body[6:]), encoding="utf-8")
    future = time.time() + 5
    os.utime(day2, (future, future))
    out = ingest_inbox(settings, form)
    assert [o.status for o in out] == ["loaded"]
    assert counts(settings)[:2] == (500, 500)
    con = duckdb.connect(str(settings.store_path), read_only=True)
    # every household now comes from the latest export (later drop wins)
    assert con.execute("SELECT DISTINCT source_file FROM submissions").fetchall() == [("odk_day2.csv",)]
    # the option rows were replaced with their households: one per (household, question, option), with no key
    # to enforce it since store migration 013
    per_household = con.execute(
        "SELECT count(DISTINCT submission_id), count(*) FROM selections WHERE question = 'priority_needs'"
    ).fetchone()
    assert per_household[0] == 500 and per_household[1] == 500 * len(form.choice_names("priority_needs"))
    assert not con.execute(
        "SELECT submission_id FROM selections GROUP BY round, submission_id, question, option HAVING count(*) > 1"
    ).fetchall()
    con.close()


def test_files_in_one_run_load_in_modification_time_order(demo_dir):
    settings = load_settings(demo_dir / "assessment.toml")
    raw = demo_dir / "data/raw"
    names = sorted(p.name for p in raw.iterdir())
    for i, name in enumerate(reversed(names)):
        os.utime(raw / name, (1_700_000_000 + i, 1_700_000_000 + i))
    assert [p.name for p in inbox_files(settings)] == list(reversed(names))


def test_submission_id_not_unique_is_a_clear_file_rejection(demo_dir):
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    raw = demo_dir / "data/raw"
    for p in list(raw.iterdir()):
        p.unlink()
    rows = ["admin1,admin2,cluster_id,hh_size,uuid"] + ["R01,D0101,EA-01-001,3,form-v1" for _ in range(20)]
    (raw / "bad_ids.csv").write_text("\n".join(rows) + "\n")
    (out,) = ingest_inbox(settings, form)
    assert out.status == "rejected"
    assert "'uuid' is not unique" in out.reason and "id_column" in out.reason
    con = duckdb.connect(str(settings.store_path), read_only=True)
    assert con.execute("SELECT status, rows FROM files").fetchall() == [("rejected", 20)]
    assert con.execute("SELECT count(*) FROM quarantine WHERE kind = 'structure'").fetchone()[0] == 1
    con.close()


def test_archive_is_content_addressed_and_read_only(demo_dir):
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    outcomes = ingest_inbox(settings, form)
    for out in outcomes:
        assert out.archive_path.name.startswith(out.sha256)
        assert sha256_file(out.archive_path) == out.sha256
        assert not os.access(out.archive_path, os.W_OK) or os.geteuid() == 0
        assert (out.archive_path.stat().st_mode & 0o222) == 0


def test_a_choice_listed_twice_gives_each_household_one_selections_row(tmp_path):
    """`selections` has no key (store migration 013): a form naming a choice twice still gives one row per
    household and option (before 013 the key refused the file)."""
    from tests._forms import CHOICES, HEADER, good_row, make_settings, write_csv, write_form

    form_path = write_form(tmp_path / "form.xlsx", choices=[*CHOICES, ("needs", "food", "Food again", "")])
    settings = make_settings(tmp_path, form_path)
    form = read_form(settings)
    header = [h for h in HEADER if not h.startswith("needs/")]  # the summary column only: "food water"
    src = write_csv(tmp_path / "export.csv", [good_row(i) for i in range(3)], header)
    out = stage_file(src, settings, form)
    con = connect(settings.store_path)
    try:
        load_outcome(con, out, settings, form, "test", "k")
        assert out.status == "loaded" and out.accepted == 3
        rows = con.execute(
            "SELECT option, count(*), count(*) FILTER (WHERE selected) FROM selections WHERE question = 'needs' "
            "GROUP BY option ORDER BY option"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("food", 3, 3), ("none", 3, 0), ("other", 3, 0), ("water", 3, 3)]
