"""The cleaning-log round trip end to end (issue 17): a run writes the log, an officer fills it, the filled log
is dropped and applied as a layer over the raw rows; the estimates change; a later log of `no_action` lines
reverts it and the estimates are back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from assess.clean.checks import enumerator_sql
from assess.clean.log import is_cleaning_log, read_log
from assess.clean.run import clean_round, split_logs
from assess.core.privacy import hash_key
from assess.core.sqlutil import table_columns
from assess.estimate.run import run_estimates
from assess.report.clean_export import export_clean
from assess.store.connection import connect
from tests._store import build_store

ESTIMATES = "SELECT level, area, indicator, option, estimate, n FROM estimates ORDER BY ALL"


def same_estimates(a: list[tuple], b: list[tuple]) -> bool:
    """Same cells, counts and values; values up to summation order (sums are added up per bucket of households)."""
    return len(a) == len(b) and all(
        x[:4] == y[:4] and x[5] == y[5] and x[4] == pytest.approx(y[4], rel=1e-12, abs=1e-12)
        for x, y in zip(a, b, strict=True)
    )


COUNTS = "SELECT interviewed FROM household_counts WHERE level = 'national'"


def write_filled(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def store(demo_dir):
    settings, form, _ = build_store(demo_dir)
    con = connect(settings.store_path)
    yield con, settings, form
    con.close()


def test_log_written_filled_dropped_applied_and_reverted(store, demo_dir):
    con, settings, form = store
    before = con.execute(ESTIMATES).fetchall()
    interviewed = con.execute(COUNTS).fetchone()[0]
    raw_before = con.execute("SELECT * FROM submissions ORDER BY submission_id").fetchall()

    # 1. the run (build_store: load, clean, estimate) wrote its log: xlsx with dropdowns, and csv, holding the
    # new findings only, and the enumerator page; the demo's own filled log was applied (its lines are answered)
    folder = settings.processed / "cleaning" / settings.round
    xlsx, csv_log = folder / "cleaning_log.test-run.xlsx", folder / "cleaning_log.test-run.csv"
    lines = read_log(csv_log)
    assert lines and (folder / "enumerators.test-run.html").exists()
    # each line names its submission's enumerator (looked up for the log's submissions only)
    expr = enumerator_sql(settings, form, table_columns(con, "submissions"))
    who = dict(con.execute(f"SELECT submission_id, {expr} FROM submissions").fetchall())
    with csv_log.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["enumerator"] for r in rows}) > 1
    assert all(r["enumerator"] == (who[r["uuid"]] or "(unknown)") for r in rows)
    demo_log = con.execute("SELECT applied, invalid FROM cleaning_logs").fetchall()
    assert demo_log == [(6, 0)]
    answered = {r[0] for r in con.execute("SELECT submission_id FROM cleaning_changes").fetchall()}
    assert not answered & {x["uuid"] for x in lines}
    ws = load_workbook(xlsx)["cleaning_log"]
    assert [c.value for c in ws[1]][:7] == [
        "uuid", "question", "old_value", "issue", "check_id", "change_type", "new_value",
    ]  # fmt: skip
    assert any("change_response" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    # a second run writes nothing new: the findings are in a log being filled
    assert clean_round(con, settings, form, "run2", [], hash_key()).logs_written == []

    # 2. the officer fills lines (field spellings of the columns: X_uuid, questions, q.opt)
    short = next(x for x in lines if x["check_id"] == "duration_short")["uuid"]
    sids = [r[0] for r in con.execute("SELECT submission_id FROM submissions ORDER BY 1 LIMIT 40").fetchall()]
    sids = [s for s in sids if s != short]
    water = {s: v for s, v in con.execute("SELECT submission_id, water_source FROM submissions").fetchall()}
    header = ["X_uuid", "questions", "old_value", "change_type", "new_value", "check_id", "note"]
    rows = [[short, "duration", "", "remove_survey", "", "duration_short", "too short"]]
    rows += [[s, "water_source", water[s], "change_response", "surface_water", "", ""] for s in sids[:30]]
    rows += [
        [sids[30], "hh_size", "1234", "change_response", "7", "outlier", ""],  # old value differs: a warning
        [sids[31], "priority_needs.water", "", "change_response", "1", "", ""],  # an option column
        ["no-such-uuid", "hh_size", "", "change_response", "3", "", ""],
        [sids[32], "no_such_question", "", "change_response", "3", "", ""],
        [sids[33], "water_source", "", "change_response", "lake", "", ""],
        [sids[34], "hh_size", "", "change_response", "many", "", ""],
        [sids[35], "hh_size", "", "", "3", "", ""],
    ]
    member, path = con.execute(
        "SELECT submission_id, path FROM r_roster WHERE path = 'roster[2]' LIMIT 1"
    ).fetchone()
    header.append("path")
    rows = [[*r, ""] for r in rows] + [[member, "ind_age", "", "change_response", "77", "", "", path]]
    filled = write_filled(settings.inbox / "cleaning_log_filled.csv", header, rows)
    exports, logs = split_logs(sorted(settings.inbox.iterdir()))
    assert filled in logs and filled not in exports and is_cleaning_log(filled)

    # 3. dropped and applied: a receipt lists the invalid lines; raw rows stay as loaded
    applied = clean_round(con, settings, form, "run3", logs, hash_key())
    (receipt,) = applied.receipts
    assert receipt.applied == 34 and [n for n, _ in receipt.invalid] == [35, 36, 37, 38, 39]
    problems = dict(receipt.invalid)
    assert "unknown uuid" in problems[35] and "unknown question" in problems[36]
    assert (
        "not a choice" in problems[37]
        and "not a number" in problems[38]
        and "empty change_type" in problems[39]
    )
    assert [n for n, _ in receipt.warnings] == [33] and "old_value differs" in receipt.warnings[0][1]
    assert (
        settings.receipts_dir / settings.round / f"{filled.name}.{receipt.sha256[:8]}.cleaning.json"
    ).exists()
    raw = (
        con.execute("SELECT current_database()").fetchone()[0] + ".main.submissions"
    )  # the table, not the view
    assert con.execute(f"SELECT * FROM {raw} ORDER BY submission_id").fetchall() == raw_before
    assert con.execute(
        "SELECT count(*) FROM cleaning_changes WHERE file = ? AND sha256 = ? AND status = 'applied'",
        [filled.name, receipt.sha256],
    ).fetchone() == (34,)
    # the same file dropped again is not applied twice
    assert clean_round(con, settings, form, "run4", logs, hash_key()).receipts == []

    run_estimates(con, settings, form)
    after = con.execute(ESTIMATES).fetchall()
    assert after != before
    assert con.execute(COUNTS).fetchone()[0] == interviewed - 1  # removed from every number
    assert con.execute("SELECT hh_size FROM submissions WHERE submission_id = ?", [sids[30]]).fetchone() == (
        7,
    )
    needs = con.execute(
        "SELECT priority_needs FROM submissions WHERE submission_id = ?", [sids[31]]
    ).fetchone()[0]
    assert "water" in needs.split()
    assert con.execute(
        "SELECT selected FROM selections WHERE submission_id = ? AND question = 'priority_needs' AND option = 'water'",
        [sids[31]],
    ).fetchone() == (True,)

    assert con.execute(
        "SELECT ind_age FROM r_roster WHERE submission_id = ? AND path = ?", [member, path]
    ).fetchone() == (77,)  # a member row, addressed by its household's uuid and its path

    # the cleaned data exported in the flat Kobo shape, with the deletion log
    n, removed = export_clean(con, settings, form, demo_dir / "clean.csv")
    assert (n, removed) == (interviewed - 1, 1 + 4)  # the demo's own log removed 4 (3 too short, 1 duplicate)
    with (demo_dir / "clean.csv").open(encoding="utf-8-sig") as fh:
        exported = {r["_uuid"]: r for r in csv.DictReader(fh)}

    def kobo(name: str) -> str:  # Kobo's group path
        return "/".join((*form.questions[name].group_path, name))

    assert short not in exported and exported[sids[0]][kobo("water_source")] == "surface_water"
    assert exported[sids[31]][kobo("priority_needs") + "/water"] == "1"
    with (demo_dir / "clean.deletion_log.csv").open(encoding="utf-8-sig") as fh:
        (deleted,) = [r for r in csv.DictReader(fh) if r["log_file"] == filled.name]
    assert deleted["uuid"] == short and deleted["log_file"] == filled.name and deleted["line"] == "2"
    assert export_clean(con, settings, form, demo_dir / "clean.xlsx") == (interviewed - 1, 5)
    assert load_workbook(demo_dir / "clean.xlsx").sheetnames == ["households", "deletion_log"]

    # 4. a later log reverts every change with no_action: the estimates are back
    revert = [[r[0], r[1], "", "no_action", "", "", "", r[7]] for r in rows[:33] + rows[-1:]]
    again = write_filled(settings.inbox / "cleaning_log_revert.xlsx.csv", header, revert)
    clean_round(con, settings, form, "run5", [again], hash_key())
    run_estimates(con, settings, form)
    assert same_estimates(con.execute(ESTIMATES).fetchall(), before)
    assert con.execute(COUNTS).fetchone()[0] == interviewed
