"""Bad inputs (tests/corpus.py): readable ones load with a warning, the rest get a clear receipt, none stop a run.

Every case goes through `stage_file` and `load_outcome` into one temporary store, with the
Great Expectations suite swapped for the submission-id checks (validation has its own tests; here the
question is whether reading, checking and loading survive the file). A few go through the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

import assess.validate.stage as stage_module
from assess.core.names import safe_name
from assess.core.settings import load_settings
from assess.core.xlsform import read_form, read_xlsform
from assess.inbox.archive import FileChanged, archive_file, sha256_file
from assess.report.receipts import write_receipts
from assess.store.connection import connect
from assess.store.runs import load_batch, load_outcome
from assess.validate.stage import stage_file
from tests.corpus import MEGA, NASTY, demo_rows, prefect_api_env, write_corpus
from tests.crash_driver import fast_validate

KEY = "bad-inputs-key"


@pytest.fixture(scope="module")
def corpus(demo_template, tmp_path_factory):
    inbox = tmp_path_factory.mktemp("corpus") / "inbox"
    return inbox, {c.name: c for c in write_corpus(demo_template, inbox)}


@pytest.fixture(scope="module")
def loaded(corpus, demo_template, tmp_path_factory):
    """Every corpus file staged, loaded into one store and given a receipt, in one run."""
    inbox, cases = corpus
    processed = tmp_path_factory.mktemp("processed")
    settings = replace(load_settings(demo_template / "assessment.toml"), processed=processed, inbox=inbox)
    form = read_form(settings)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stage_module, "validate", fast_validate)
        outcomes = {name: stage_file(inbox / name, settings, form) for name in cases}
    con = connect(settings.store_path)
    try:
        load_batch(
            con,
            list(outcomes.values()),
            settings,
            form,
            "bad-inputs",
            KEY,
            write_receipts=lambda o: write_receipts(o, settings, form),
        )
    finally:
        con.close()
    return settings, outcomes


def pytest_generate_tests(metafunc):
    if "case_name" in metafunc.fixturenames:
        names = [c.name for c in write_corpus(Path("."), Path("."), dry=True)]
        metafunc.parametrize("case_name", names, ids=[n[:40] for n in names])


def test_corpus_case(case_name, corpus, loaded):
    _, cases = corpus
    case = cases[case_name]
    settings, outcomes = loaded
    out = outcomes[case_name]
    if case.expect == "rejected":
        assert out.status == "rejected", out.reason
        assert case.says in out.reason
        assert "Traceback" not in out.reason and len(out.reason) < 600
    else:
        assert out.status == "loaded", out.reason
        assert out.rows >= case.rows and out.accepted == case.rows
        if case.says:
            assert any(case.says in w for w in out.warnings), out.warnings
    receipts = [
        p
        for p in (settings.receipts_dir / settings.round).glob("*.json")
        if json.loads(p.read_text(encoding="utf-8"))["sha256"] == out.sha256
    ]
    assert len(receipts) == 1 and len(receipts[0].name.encode()) <= 255
    assert json.loads(receipts[0].read_text(encoding="utf-8"))["status"] == out.status


def test_store_holds_each_loaded_file_once(corpus, loaded):
    _, cases = corpus
    settings, outcomes = loaded
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        files = dict(con.execute("SELECT name, status FROM files").fetchall())
        per_file = dict(con.execute("SELECT source_file, count(*) FROM submissions GROUP BY 1").fetchall())
        dups = con.execute("SELECT count(*) - count(DISTINCT submission_id) FROM submissions").fetchone()[0]
        rejected = con.execute(
            "SELECT count(*) FROM quarantine WHERE expectation = 'file_is_usable'"
        ).fetchone()[0]
    finally:
        con.close()
    assert files == {n: o.status for n, o in outcomes.items()}
    assert per_file == {n: c.rows for n, c in cases.items() if c.expect == "loaded"}
    assert dups == 0 and rejected == sum(c.expect == "rejected" for c in cases.values())


def test_hostile_cells_are_kept_as_plain_text(loaded):
    settings, _ = loaded
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        notes = {
            r[0]
            for r in con.execute(
                "SELECT notes_extra FROM submissions WHERE source_file = 'hostile_cells.csv'"
            ).fetchall()
        }
        comments = {
            r[0]
            for r in con.execute(
                "SELECT comments FROM submissions WHERE source_file = 'hostile_cells.csv' AND comments IS NOT NULL"
            ).fetchall()
        }
    finally:
        con.close()
    assert set(NASTY) <= notes and MEGA in notes  # byte for byte; exports neutralise them (test_export.py)
    assert all(len(c) == 64 for c in comments)  # a private question: hashed, even a 1 MB answer


def test_reserved_column_names_do_not_overwrite_lineage(loaded):
    settings, outcomes = loaded
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT round, source_file FROM submissions WHERE source_sha256 = ?",
            [outcomes["reserved_column_names.csv"].sha256],
        ).fetchall()
    finally:
        con.close()
    assert rows == [(settings.round, "reserved_column_names.csv")]
    assert any("uses itself" in w for w in outcomes["reserved_column_names.csv"].warnings)


def test_file_changed_while_read_is_retried_not_recorded(demo_template, tmp_path, monkeypatch):
    settings = replace(
        load_settings(demo_template / "assessment.toml"), processed=tmp_path / "p", inbox=tmp_path / "in"
    )
    form = read_form(settings)
    header, rows = demo_rows(demo_template)
    settings.inbox.mkdir()
    path = settings.inbox / "growing.csv"
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows[:5]])
    real_stage = stage_module.stage_export

    def stage_while_writer_appends(*args, **kwargs):
        staged = real_stage(*args, **kwargs)
        with open(path, "a", newline="", encoding="utf-8") as fh:  # the coordinator's copy is still going
            csv.writer(fh).writerows(rows[5:])
        return staged

    monkeypatch.setattr(stage_module, "validate", fast_validate)
    monkeypatch.setattr(stage_module, "stage_export", stage_while_writer_appends)
    out = stage_file(path, settings, form)
    assert out.status == "retry" and "changed while it was being read" in out.reason
    con = connect(settings.store_path)
    try:
        load_outcome(con, out, settings, form, "r1", KEY)
        assert (
            con.execute("SELECT count(*) FROM files").fetchone()[0] == 0
        )  # not recorded: the next run reads it
        monkeypatch.setattr(stage_module, "stage_export", real_stage)
        again = stage_file(path, settings, form)
        load_outcome(con, again, settings, form, "r2", KEY)
        assert again.status == "loaded" and again.accepted == len(rows)
    finally:
        con.close()


def test_archive_refuses_a_copy_that_does_not_match_its_hash(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(FileChanged):
        archive_file(src, "0" * 64, tmp_path / "archive")
    assert not [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]


def test_file_gone_before_reading_is_retried(demo_template, tmp_path):
    settings = replace(load_settings(demo_template / "assessment.toml"), processed=tmp_path / "p")
    out = stage_file(tmp_path / "vanished.csv", settings, read_form(settings))
    assert out.status == "retry" and "disappeared" in out.reason


def test_form_with_unknown_question_types_reads_with_a_warning(demo_template, tmp_path):
    from openpyxl import load_workbook

    form_path = tmp_path / "form.xlsx"
    shutil.copy(demo_template / "data/forms/needs_assessment.xlsx", form_path)
    wb = load_workbook(form_path)
    ws = wb["survey"]
    header = [c.value for c in ws[1]]
    ws.append({header.index("type") + 1: "magic_widget", header.index("name") + 1: "widget_q"})
    ws.append({header.index("type") + 1: "select_one_from_the_moon", header.index("name") + 1: "moon_q"})
    wb.save(form_path)
    form = read_xlsform(form_path)
    assert any("magic_widget" in w for w in form.warnings)
    assert "widget_q" in form.questions


def test_safe_name_keeps_names_short_and_inside_the_folder():
    for name in ("../../etc/passwd", "..%2f..%2fx.csv", "a\\..\\b.csv", "\U00020000" * 200, "é" * 300, ""):
        safe = safe_name(name, 60)
        assert "/" not in safe and "\\" not in safe and safe not in ("", ".", "..")
        assert len(safe.encode()) <= 120


# ---------------------------------------------------------------------------------------------- real CLI
CLI_CASES = [
    "empty.csv",
    "header_only.csv",
    "not_a_zip.xlsx",
    "zip_bomb.xlsx",
    "ten_thousand_columns.csv",
    "other_form.csv",
    "truncated_mid_quote.csv",
    "latin1.csv",
    "hostile_cells.csv",
    "\U00020000" * 62 + ".csv",
]


def _cli_env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "ASSESS_CRASH_AT"}, "ASSESS_HASH_KEY": KEY}


def test_assess_check_explains_a_bad_file_without_a_traceback(corpus, demo_template):
    inbox, _ = corpus
    assess = Path(sys.executable).with_name("assess")
    for name, says in (("empty.csv", "empty"), ("zip_bomb.xlsx", "expands to")):
        res = subprocess.run(
            [str(assess), "check", str(inbox / name), "--config", str(demo_template / "assessment.toml")],
            capture_output=True,
            text=True,
            timeout=300,
            env=_cli_env(),
        )
        assert res.returncode == 1, res.stdout + res.stderr
        assert says in res.stdout and "Traceback" not in res.stdout + res.stderr


def test_assess_run_with_bad_files_finishes_and_writes_receipts(
    corpus, demo_template, tmp_path, prefect_harness
):
    """The real `assess run`: exit 0, no traceback, a receipt per file; good files loaded next to bad ones."""
    inbox, cases = corpus
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root, ignore=shutil.ignore_patterns("raw"))
    raw = root / "data/raw"
    raw.mkdir()
    old = time.time() - 3600
    for name in CLI_CASES:
        shutil.copy(inbox / name, raw / name)
        os.utime(raw / name, (old, old))
    res = subprocess.run(
        [str(Path(sys.executable).with_name("assess")), "run", "--no-reports"],
        cwd=root,
        env={**_cli_env(), **prefect_api_env()},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "Traceback" not in res.stdout + res.stderr
    receipts = [
        json.loads(p.read_text(encoding="utf-8")) for p in (root / "data/processed/receipts").rglob("*.json")
    ]
    by_sha = {r["sha256"]: r for r in receipts}
    for name in CLI_CASES:
        receipt = by_sha[sha256_file(raw / name)]
        assert receipt["status"] == cases[name].expect, (name, receipt.get("reason"))
