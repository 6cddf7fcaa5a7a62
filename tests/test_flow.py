"""End to end under a real (temporary) Prefect server: inbox -> store -> estimates -> PDF."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests._shared import shared_dir


@pytest.fixture
def run_flow(prefect_harness):
    from flows.run import run_assessment

    return run_assessment


def test_demo_run_end_to_end(run_flow, demo_dir):
    result = run_flow(str(demo_dir / "assessment.toml"))
    assert [f.status for f in result.files] == ["loaded"] * 5
    # three files of 2,001 households (2,000 and a planted near-duplicate, issue 17), then the roster
    # re-exports of the same households (with members)
    assert sum(f.accepted + f.quarantined for f in result.files) == 4002
    con = duckdb.connect(str(demo_dir / "data/processed/assessment.duckdb"), read_only=True)
    households = con.execute("SELECT count(*) FROM submissions").fetchone()[0]  # the raw table: as loaded
    assert households == sum(f.accepted for f in result.files if "2026-11-16" in f.file) == 2001
    # the officer's filled log in the demo inbox was applied: 4 households out of the numbers
    applied = (
        "Cleaning log cleaning_log_2026-11-18_filled.xlsx: 6 line(s) applied, 0 not applied, 0 warning(s)"
    )
    assert result.cleaning[0] == applied and result.estimates.households.interviewed == 2001 - 4
    members = con.execute("SELECT count(*), (SELECT sum(hh_size) FROM submissions) FROM r_roster").fetchone()
    assert members[0] == members[1] > 2000  # repeat_count = ${hh_size}
    national = con.execute(
        "SELECT count(*), sum(n_option) FILTER (WHERE option = 'food') FROM estimates "
        "WHERE level = 'national' AND indicator = 'priority_needs'"
    ).fetchone()
    assert national[0] == 9 and national[1] > 0  # one row per choice, zero counts included
    con.close()
    assert result.reports and all(p.endswith(".pdf") for p in result.reports)
    assert (demo_dir / "data/processed/reports/2026-R1").is_dir()
    # a second run finds nothing new and changes nothing
    again = run_flow(str(demo_dir / "assessment.toml"), reports=False)
    assert again.files == [] and applied not in again.cleaning
    con = duckdb.connect(str(demo_dir / "data/processed/assessment.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == households
    con.close()


EPFL_CONFIG = """
[survey]
xlsform = "{form}"
round = "epfl"
[paths]
inbox = "inbox"
processed = "processed"
[regions]
levels = ["City", "Site"]
[needs]
questions = ["HHITEMS", "DrinkingWaterGroup", "HHROOMS"]
missing_codes = [999, 9999]
[validation]
on_fail = "warn"
"""


def test_real_epfl_households_load_once(run_flow, tmp_path):
    real = shared_dir("realdata", "epfl_households")
    (tmp_path / "inbox").mkdir()
    shutil.copy(real / "data/household_data.csv", tmp_path / "inbox/household_data.csv")
    cfg = tmp_path / "assessment.toml"
    cfg.write_text(EPFL_CONFIG.format(form=real / "questionnaires/Abidjan_2022.xls"))
    result = run_flow(str(cfg), reports=False)
    (f,) = result.files
    assert f.status == "loaded" and f.rows == 1714
    con = duckdb.connect(str(tmp_path / "processed/assessment.duckdb"), read_only=True)
    total, distinct = con.execute(
        "SELECT count(*), count(DISTINCT submission_id) FROM submissions"
    ).fetchone()
    assert total == distinct == f.accepted == 1714  # warn mode keeps every household
    # 'NA' is a real choice of HHITEMS, read from its option column
    na = con.execute(
        "SELECT count(*) FROM selections WHERE question = 'HHITEMS' AND option = 'NA' "
        "AND selected IS NOT NULL"
    ).fetchone()[0]
    assert na == 1714
    cities = dict(
        con.execute(
            "SELECT area, n FROM estimates WHERE level = 'City' AND indicator = 'HHITEMS' "
            "AND option = 'Radio'"
        ).fetchall()
    )
    assert cities == {"Abidjan": 567, "Nairobi": 1147}
    con.close()
    assert run_flow(str(cfg), reports=False).files == []
