"""Personal data never leaves the raw archive: names, phones and free text are hashed or redacted everywhere.

One full run through the real CLI (`assess run`, killed once as the reports start and run again, which
also tests crash safety of the real command; reports then rendered in-process), then every file under data/processed except the raw
archive - DuckDB tables and bytes, Parquet leftovers, receipts, reports (PDF text), CSV exports - and the
captured logs are searched for every respondent name, phone number and comment of the demo, plus a few
planted values (one in a question the XLSForm's `private` column marks).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from assess.report.build import build_reports
from assess.store.connection import connect
from tests.corpus import prefect_api_env

KEY = "privacy-test-key"
PLANTED_NAME = "Zaynab Quillfeather"
PLANTED_PHONE = "+288 97 555 0101"
PLANTED_COMMENT = "Please call Amina Brightwater on 0999 888 777"
TEXT_COLUMNS = {"resp_name", "resp_phone", "comments"}


def _env(crash_at: str | None = None, api: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASSESS_CRASH_AT"}
    env.update(api or {})
    env["ASSESS_HASH_KEY"] = KEY
    if crash_at:
        env["ASSESS_CRASH_AT"] = crash_at
    return env


def _mark_private_in_form(form: Path, question: str) -> None:
    """Add a `private` column to the survey sheet and mark `question` in it (instead of the config)."""
    wb = load_workbook(form)
    ws = wb["survey"]
    header = [c.value for c in ws[1]]
    col = len(header) + 1
    ws.cell(row=1, column=col, value="private")
    name_col = header.index("name") + 1
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=name_col).value == question:
            ws.cell(row=row, column=col, value="yes")
    wb.save(form)


def _plant(odk_csv: Path) -> None:
    """Put known values into the first rows; the phone breaks the form's constraint, so it is quarantined."""
    with open(odk_csv, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    h = rows[0]
    rows[3][h.index("respondent-resp_name")] = PLANTED_NAME
    rows[1][h.index("respondent-resp_phone")] = f"tel {PLANTED_PHONE} (after 6pm)"
    rows[2][h.index("comments")] = PLANTED_COMMENT
    with open(odk_csv, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def personal_values(raw: Path) -> set[str]:
    """Every respondent name, phone number and comment in the raw exports (CSV and XLSX)."""
    found: set[str] = set()

    def take(header: list, row: list) -> None:
        for i, name in enumerate(header):
            short = str(name or "").replace("/", "-").split("-")[-1]
            if short in TEXT_COLUMNS and i < len(row) and row[i] not in (None, ""):
                found.add(str(row[i]).strip())

    for p in raw.iterdir():
        if p.suffix == ".csv":
            with open(p, encoding="utf-8-sig", newline="") as fh:
                sample = fh.readline()
                fh.seek(0)
                rows = list(csv.reader(fh, delimiter=";" if sample.count(";") > sample.count(",") else ","))
        else:
            rows = [
                list(r) for r in load_workbook(p, read_only=True).worksheets[0].iter_rows(values_only=True)
            ]
        for r in rows[1:]:
            take(rows[0], r)
    phones = {v for v in found if re.fullmatch(r"[+0-9 ]{7,}", v)}
    found |= {v.replace(" ", "") for v in phones}  # a phone with its spaces taken out is still the phone
    return {v for v in found if len(v) >= 6}


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory, prefect_harness) -> dict:
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("privacy") / "demo"
    write_demo(root, households=240)
    cfg = root / "assessment.toml"
    cfg.write_text(cfg.read_text().replace('"comments", ', ""))  # comments: private via the form instead
    _mark_private_in_form(root / "data/forms/needs_assessment.xlsx", "comments")
    _plant(root / "data/raw/odk_central_2026-11-14.csv")
    for p in (root / "data/raw").glob("*2026-11-16*"):  # the roster re-exports would replace the planted rows
        p.unlink()
    old = time.time() - 3600
    for i, p in enumerate(sorted((root / "data/raw").iterdir())):
        os.utime(p, (old + i, old + i))
    needles = personal_values(root / "data/raw") | {PLANTED_NAME, PLANTED_PHONE, PLANTED_COMMENT}

    assess = Path(sys.executable).with_name("assess")
    api = prefect_api_env()
    killed = subprocess.run(
        [str(assess), "run"],
        cwd=root,
        env=_env("mid-report", api),
        capture_output=True,
        text=True,
        timeout=900,
    )
    after_kill = _store_state(root)
    done = subprocess.run(
        [str(assess), "run", "--no-reports"],
        cwd=root,
        env=_env(api=api),
        capture_output=True,
        text=True,
        timeout=900,
    )
    _render_reports(root)
    exports = root / "data/processed/exports"
    for table in ("quarantine", "estimates"):
        subprocess.run(
            [str(assess), "export", table, "--out", str(exports / f"{table}.csv")],
            cwd=root,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    return {
        "root": root,
        "needles": needles,
        "killed": killed,
        "after_kill": after_kill,
        "done": done,
        "logs": killed.stdout + killed.stderr + done.stdout + done.stderr,
    }


def _render_reports(root: Path) -> None:
    """The national PDF, and the HTML of every report (PDF text comes from it): rendering all region PDFs
    takes minutes, and what could leak into them is in their HTML and charts."""
    from assess.core.settings import load_settings
    from assess.core.summary import RunSummary
    from assess.core.xlsform import read_form

    settings = load_settings(root / "assessment.toml")
    form = read_form(settings)
    con = connect(settings.store_path, read_only=True)
    try:
        run = RunSummary(run_id="privacy", round=settings.round)
        build_reports(con, settings, form, run, regions=False, workers=1)
        build_reports(con, settings, form, run, html_only=True)
    finally:
        con.close()


def _store_state(root: Path) -> dict:
    con = duckdb.connect(str(root / "data/processed/assessment.duckdb"), read_only=True)
    try:
        return {
            "submissions": con.execute(
                "SELECT submission_id, source_sha256 FROM submissions ORDER BY ALL"
            ).fetchall(),
            "files": con.execute(
                "SELECT sha256, status, rows, accepted, quarantined FROM files ORDER BY ALL"
            ).fetchall(),
            "quarantine": con.execute("SELECT count(*) FROM quarantine").fetchone()[0],
        }
    finally:
        con.close()


def test_real_assess_run_killed_mid_report_is_finished_by_the_next_run(privacy_run):
    killed, done = privacy_run["killed"], privacy_run["done"]
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-3000:]
    first = privacy_run["after_kill"]
    assert [f[1] for f in first["files"]] == ["loaded"] * 3
    assert len(first["submissions"]) == len({s for s, _ in first["submissions"]})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert _store_state(privacy_run["root"]) == first  # the store was complete before the reports
    processed = privacy_run["root"] / "data/processed"
    assert not [p for p in processed.rglob("*") if p.name.endswith(".tmp")]
    assert len(list((processed / "receipts").rglob("*.json"))) >= 3


def _texts(path: Path) -> list[str]:
    """The text a person or a program could read out of one output file."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", errors="ignore")]
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        texts.append("\n".join(page.extract_text() or "" for page in PdfReader(path).pages))
    elif path.suffix == ".parquet":
        con = duckdb.connect()
        texts += [str(r) for r in con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
    elif path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
            ).fetchall():
                values = con.execute(
                    f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                )
                texts.append("\n".join(f"{table}.{column}: {v}" for (v,) in values.fetchall()))
        finally:
            con.close()
    return texts


def test_no_personal_data_in_any_output(privacy_run):
    root, needles = privacy_run["root"], privacy_run["needles"]
    assert len(needles) > 200 and PLANTED_PHONE in needles
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    processed = root / "data/processed"
    archive = processed / "archive"
    outputs = [p for p in processed.rglob("*") if p.is_file() and archive not in p.parents]
    assert any(p.suffix == ".pdf" for p in outputs) and any(p.suffix == ".duckdb" for p in outputs)
    assert any(p.name == "quarantine.csv" for p in outputs)
    leaks = []
    for path in outputs:
        for text in _texts(path):
            if m := pattern.search(text):
                leaks.append(f"{path.relative_to(processed)}: {m.group(0)!r}")
                break
    if m := pattern.search(privacy_run["logs"]):
        leaks.append(f"logs: {m.group(0)!r}")
    assert not leaks, "personal data found:\n" + "\n".join(leaks)


def test_private_answers_are_keyed_hashes_in_the_store(privacy_run):
    con = duckdb.connect(str(privacy_run["root"] / "data/processed/assessment.duckdb"), read_only=True)
    try:
        names = {
            r[0]
            for r in con.execute("SELECT resp_name FROM submissions WHERE resp_name IS NOT NULL").fetchall()
        }
        comments = {
            r[0]
            for r in con.execute("SELECT comments FROM submissions WHERE comments IS NOT NULL").fetchall()
        }
    finally:
        con.close()
    assert names and all(re.fullmatch(r"[0-9a-f]{64}", n) for n in names)
    assert (
        hashlib.sha256(f"{KEY}:{PLANTED_NAME}".encode()).hexdigest() in names
    )  # keyed: joinable, not readable
    assert (
        hashlib.sha256(PLANTED_NAME.encode()).hexdigest() not in names
    )  # unkeyed: guessable from a name list
    assert comments and all(re.fullmatch(r"[0-9a-f]{64}", c) for c in comments)  # private via the form


def test_quarantined_private_values_are_redacted(privacy_run):
    con = duckdb.connect(str(privacy_run["root"] / "data/processed/assessment.duckdb"), read_only=True)
    try:
        rows = con.execute(
            """SELECT "column", value, reason FROM quarantine WHERE "column" ILIKE '%resp_phone%'"""
        ).fetchall()
    finally:
        con.close()
    assert rows, "the planted phone number breaks the form's constraint and is quarantined"
    for _, value, reason in rows:
        assert value is None or PLANTED_PHONE not in value
        assert PLANTED_PHONE not in reason


def test_hash_key_file_is_created_once_with_0600(tmp_path, monkeypatch):
    from dataclasses import replace

    from assess.core.privacy import hash_key
    from assess.core.settings import Settings

    monkeypatch.delenv("ASSESS_HASH_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    replace(
        Settings(config_path=tmp_path / "a.toml", root=tmp_path, xlsform=tmp_path / "f.xlsx"),
        processed=tmp_path / "processed",
    )
    key = hash_key()
    key_file = tmp_path / "config" / "assess" / "hash_key"
    assert len(key) >= 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "processed").exists()  # never beside the data that gets shared
    assert hash_key() == key  # the same key on every run: hashes stay joinable across rounds
    monkeypatch.setenv("ASSESS_HASH_KEY", "from-the-environment")
    assert hash_key() == "from-the-environment"
