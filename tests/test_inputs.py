"""The input registry and nothing-new runs (assess/store/inputs.py, uptodate.py, the refresh steps).

A loaded store is built once without Prefect (tests/_store.py) and copied per test; the steps a run takes
(estimate, report) are called as the flow calls them, reports as HTML (fast; the same decision as PDFs).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from assess.core.settings import load_settings
from assess.core.summary import RunSummary
from assess.core.xlsform import read_form
from assess.estimate.refresh import refresh_estimates
from assess.ops.lock import store_lock
from assess.report.refresh import refresh_reports
from assess.store import inputs
from assess.store.connection import connect
from assess.store.uptodate import nothing_new
from tests._store import build_store


def _backdate(folder: Path) -> None:
    old = time.time() - 3600
    for p in folder.rglob("*"):
        if p.is_file():
            os.utime(p, (old, old))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("inputs") / "demo"
    write_demo(root, households=240)
    _backdate(root / "data/raw")
    build_store(root)
    return root


@pytest.fixture
def demo(built, tmp_path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(built, dest)
    return dest


def _estimate(root: Path, run_id: str):
    settings = load_settings(root / "assessment.toml")
    con = connect(settings.store_path)
    try:
        return refresh_estimates(con, settings, read_form(settings), run_id)
    finally:
        con.close()


def _report(root: Path, run_id: str):
    settings = load_settings(root / "assessment.toml")
    return refresh_reports(settings, read_form(settings), RunSummary(run_id, settings.round), html_only=True)


def _run(root: Path, run_id: str):
    """A run's estimate and report steps (the flow's order); returns (estimates redone, reports redone)."""
    return _estimate(root, run_id).redone, _report(root, run_id).redone


def _estimate_rows(root: Path) -> list[tuple]:
    """Row ids and values of the estimates: rewriting them (even with equal numbers) gives new row ids."""
    con = duckdb.connect(str(root / "data/processed/assessment.duckdb"), read_only=True)
    try:
        return con.execute("SELECT rowid, * FROM estimates ORDER BY rowid").fetchall()
    finally:
        con.close()


def _mtimes(root: Path) -> dict[str, int]:
    folder = root / "data/processed/reports"
    return {p.name: p.stat().st_mtime_ns for p in folder.rglob("*.html")}


def _edit(root: Path, old: str, new: str) -> None:
    config = root / "assessment.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new), encoding="utf-8")


def test_a_nothing_new_run_touches_no_estimate_and_no_report(demo):
    assert _run(demo, "r1") == (True, True)  # never run: both made, and recorded
    rows, mtimes = _estimate_rows(demo), _mtimes(demo)
    assert rows and len(mtimes) == 7
    settings = load_settings(demo / "assessment.toml")
    found = nothing_new(settings, reports=True)
    assert found is not None
    assert found.message() == (
        f"Nothing new: 5 files already loaded; estimates and reports are up to date (run r1 at {found.when})."
    )
    # the counts recorded with the estimates (the small demo's 240 households, less the 3 its cleaning log removes)
    assert found.households.startswith("237 interviewed, ")
    assert (
        nothing_new(settings, reports=False)
        .message()
        .startswith(  # type: ignore[union-attr]
            "Nothing new: 5 files already loaded; estimates are up to date (run r1 at "
        )
    )
    time.sleep(0.01)
    assert _run(demo, "r2") == (False, False)  # a run that gets past the check still redoes nothing
    assert _estimate_rows(demo) == rows and _mtimes(demo) == mtimes


def test_a_report_option_re_renders_without_re_estimating(demo):
    _run(demo, "r1")
    rows, mtimes = _estimate_rows(demo), _mtimes(demo)
    _edit(demo, 'organisation = "Demo Red Cross Society"', 'organisation = "Another Society"')
    assert nothing_new(load_settings(demo / "assessment.toml"), reports=True) is None
    # ... but a run without reports has nothing to do: the estimates do not depend on [report]
    assert nothing_new(load_settings(demo / "assessment.toml"), reports=False) is not None
    est = _estimate(demo, "r2")
    assert (
        not est.redone and est.since == "r1" and est.summary.households.interviewed == 237
    )  # 240 less 3 removed by the log
    rep = _report(demo, "r2")
    assert rep.redone and rep.changed == ["config[report]"]
    assert _estimate_rows(demo) == rows
    now = _mtimes(demo)
    assert now.keys() == mtimes.keys() and all(now[k] > mtimes[k] for k in now)
    assert "Another Society" in (demo / "data/processed/reports/2026-R1/national.html").read_text()


def test_min_cell_re_estimates_and_re_renders(demo):
    _run(demo, "r1")
    rows = _estimate_rows(demo)
    _edit(demo, "min_cell = 5", "min_cell = 30")
    est = _estimate(demo, "r2")
    assert est.redone and est.changed == ["config[privacy]"]
    assert _estimate_rows(demo) != rows
    rep = _report(demo, "r2")
    assert rep.redone and rep.changed == ["estimates"]  # made from the new estimates


def test_what_is_new_is_not_nothing_new(demo):
    _run(demo, "r1")
    settings = load_settings(demo / "assessment.toml")
    assert nothing_new(settings, reports=True) is not None
    with store_lock(settings.lock_path, wait=0):  # a run in progress: not "nothing new"
        assert nothing_new(settings, reports=True) is None
    assert nothing_new(settings, reports=True, reload_into_round=True) is None
    con = connect(settings.store_path)
    con.execute("INSERT INTO runs (run_id, round, status) VALUES ('killed', ?, 'loading')", [settings.round])
    con.close()
    assert nothing_new(settings, reports=True) is None  # a killed run's receipts are written by the next run
    con = connect(settings.store_path)
    con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = 'killed'")
    con.close()
    (settings.staging_dir("abc") / "x").mkdir(parents=True)
    assert nothing_new(settings, reports=True) is None  # staging leftovers are swept by a run
    shutil.rmtree(settings.processed / "staging")
    assert nothing_new(settings, reports=True) is not None
    report = next((demo / "data/processed/reports").rglob("Dunvale.html"))
    report.unlink()  # a report file gone: rendered again
    assert nothing_new(settings, reports=True) is None
    assert nothing_new(settings, reports=False) is not None
    assert _run(demo, "r2") == (False, True) and report.is_file()
    inbox = demo / "data/raw"
    copy = inbox / "late_export.csv"
    shutil.copyfile(next(inbox.glob("kobo_export_*.csv")), copy)
    assert nothing_new(settings, reports=True) is None  # young: maybe still being written
    _backdate(inbox)
    assert nothing_new(settings, reports=True) is not None  # same content as a loaded file: nothing new
    copy.write_text(copy.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    _backdate(inbox)
    assert nothing_new(settings, reports=True) is None  # new content
    shutil.copyfile(settings.xlsform, settings.xlsform.with_suffix(".bak"))
    copy.unlink()
    with open(settings.xlsform, "ab") as fh:
        fh.write(b"\0")  # a changed form: its fingerprint differs (the file itself need not open)
    con = connect(settings.store_path, read_only=True)
    try:
        assert inputs.plan(con, settings, inputs.ESTIMATE).changed == ["xlsform"]
        assert "xlsform" in inputs.plan(con, settings, inputs.REPORT).changed
    finally:
        con.close()


def test_the_registry_keeps_the_files_each_estimate_was_made_from(demo):
    _run(demo, "r1")
    settings = load_settings(demo / "assessment.toml")
    con = connect(settings.store_path, read_only=True)
    try:
        last = inputs.last_stage(con, settings.round, inputs.ESTIMATE)
        loaded = sorted(
            r[0] for r in con.execute("SELECT sha256 FROM files WHERE status = 'loaded'").fetchall()
        )
        hashed = con.execute("SELECT count(*) FROM inbox_hashes").fetchone()
    finally:
        con.close()
    assert last is not None and last.run_id == "r1"
    assert json.loads(last.details["loaded_files"]) == loaded
    assert {
        "loaded_files",
        "xlsform",
        "frame",
        "package_version",
        "config[design]",
        "config[privacy]",
    } <= set(last.inputs)
    assert "config[report]" not in last.inputs and "config[notify]" not in last.inputs
    assert hashed == (6,)  # 5 exports and the filled log are known: a nothing-new check reads no content


def test_adding_an_input_is_one_registration(demo, monkeypatch):
    _run(demo, "r1")
    settings = load_settings(demo / "assessment.toml")
    plan_file = demo / "briefing_note.txt"
    plan_file.write_text("indicator\nwater\n", encoding="utf-8")
    monkeypatch.setattr(inputs, "REGISTRY", dict(inputs.REGISTRY))  # the registration ends with the test
    inputs.register("briefing_note", (inputs.REPORT,), lambda con, s: (plan_file.read_text(), None))
    assert nothing_new(settings, reports=True) is None  # a new input: never recorded, so not up to date
    assert nothing_new(settings, reports=False) is not None
    assert _report(demo, "r2").changed == ["briefing_note"]
    assert nothing_new(settings, reports=True) is not None
    plan_file.write_text("indicator\nfood\n", encoding="utf-8")
    assert nothing_new(settings, reports=True) is None
