"""`assess export share` and `assess export coverage` on a small demo store: headers, HXL hashtags that libhxl
reads, HAPI columns, suppression respected, nothing personal."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from _store import build_store

from assess.demo import write_demo
from assess.report.share import COVERAGE_COLUMNS, export_coverage, export_share
from assess.store.connection import connect

HAPI_NEEDS = (
    "location_code,admin1_code,admin1_name,admin2_code,admin2_name,admin_level,sector_code,sector_name,"
    "category,population_status,population,reference_period_start,reference_period_end"
).split(",")
HAPI_PRESENCE = (
    "location_code,admin1_code,admin1_name,admin2_code,admin2_name,org_acronym,org_name,org_type_description,"
    "sector_code,sector_name,reference_period_start,reference_period_end"
).split(",")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("share")
    write_demo(root, households=300)
    settings, form, _ = build_store(root)
    con = connect(settings.store_path)
    # one admin2 cell of the severity estimates suppressed by hand: it must not reach any shared file
    con.execute(
        "UPDATE estimates SET suppressed = true WHERE level = 'admin2' AND area = 'D0101' "
        "AND indicator = 'severity_overall'"
    )
    from assess.partners.run import run_partners

    run_partners(con, settings, form)
    con.close()
    return settings, form


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_share_files_have_headers_hxl_rows_and_parse_with_libhxl(store, tmp_path):
    import hxl

    settings, form = store
    con = duckdb.connect(str(settings.store_path), read_only=True)
    written = export_share(con, settings, form, tmp_path, xlsx=True, hxl=True)
    con.close()
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "estimates.csv",
            "coverage.csv",
            "pin.csv",
            "hapi-humanitarian-needs.csv",
            "hapi-operational-presence.csv",
            "provenance.json",
            "share.xlsx",
        ]
    )
    needs = _read(tmp_path / "hapi-humanitarian-needs.csv")
    assert needs[0] == HAPI_NEEDS
    assert needs[1][:5] == ["#country+code", "#adm1+code", "#adm1+name", "#adm2+code", "#adm2+name"]
    assert "#inneed+hh" in needs[1]
    assert {r[9] for r in needs[2:]} == {"INN"} and len(needs) > 10
    presence = _read(tmp_path / "hapi-operational-presence.csv")
    assert presence[0] == HAPI_PRESENCE
    orgs = {r[5] for r in presence[2:]}
    assert (
        {"DRCS", "MoH", "WFP", "UNICEF"} <= orgs and "CR" not in orgs and "NRC" not in orgs
    )  # ended, planned
    for stem in ("estimates", "coverage", "pin", "hapi-humanitarian-needs", "hapi-operational-presence"):
        data = hxl.data(str(tmp_path / f"{stem}.csv"), hxl.InputOptions(allow_local=True))
        tags = data.display_tags
        assert tags and all(t.startswith("#") for t in tags)
        assert len(list(data)) == len(_read(tmp_path / f"{stem}.csv")) - 2
    pin = hxl.data(str(tmp_path / "pin.csv"), hxl.InputOptions(allow_local=True))
    values = [(row.get("#sector+code"), float(row.get("#inneed+hh"))) for row in pin]
    assert values[0][0] == "intersectoral" and values[0][1] > 0 and "#adm2+code" in pin.display_tags
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    assert provenance["round"] == settings.round
    assert {i["role"] for i in provenance["inputs"] if "role" in i} >= {"3W list", "sampling frame"}
    assert all(len(i["sha256"]) == 64 for i in provenance["inputs"])


def test_suppressed_cells_never_reach_the_shared_files(store, tmp_path):
    settings, form = store
    con = duckdb.connect(str(settings.store_path), read_only=True)
    suppressed = con.execute(
        "SELECT level, area, indicator, option FROM estimates WHERE suppressed AND round = ?",
        [settings.round],
    ).fetchall()
    export_share(con, settings, form, tmp_path, xlsx=False, hxl=False)
    con.close()
    assert ("admin2", "D0101", "severity_overall", "3+") in suppressed
    pin = _read(tmp_path / "pin.csv")
    assert pin[0][0] == "level" and not pin[1][0].startswith("#")  # --no-hxl
    assert not [r for r in pin if r[3] == "D0101" and r[5] == "intersectoral"]
    assert [r for r in pin if r[3] == "D0101"]  # its sector PiN (not suppressed) is there
    est = _read(tmp_path / "estimates.csv")
    shown = {(r[0], r[3] or r[1] or "all", r[5], r[7]) for r in est[1:]}
    assert not shown & set(suppressed)
    needs = _read(tmp_path / "hapi-humanitarian-needs.csv")
    assert not [r for r in needs if r[3] == "D0101" and r[6] == "intersectoral"]


def test_export_coverage_columns(store, tmp_path):
    settings, form = store
    con = duckdb.connect(str(settings.store_path), read_only=True)
    n = export_coverage(con, settings, form, settings.round, tmp_path / "coverage.csv")
    con.close()
    rows = _read(tmp_path / "coverage.csv")
    assert rows[0] == list(COVERAGE_COLUMNS) and n == len(rows) - 1
    assert {r[8] for r in rows[1:]} <= {"gap", "thin", "covered", "low_need", "unknown"}
    national_wsh = next(r for r in rows[1:] if r[0] == "national" and r[2] == "WSH")
    assert national_wsh[3] == "3" and national_wsh[4] == "AWI; DRCS; UNICEF"


def test_reports_show_the_partner_pages_with_numbers_from_the_store(store):
    from dataclasses import replace

    from assess.report.build import build_reports

    settings, form = store
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        paths = build_reports(con, settings, form, None, regions=["R01"], html_only=True)
        national = paths[0].read_text(encoding="utf-8")
        region = paths[1].read_text(encoding="utf-8")
        overall = con.execute(
            "SELECT pin, population FROM pin WHERE level = 'national' AND sector = 'overall'"
        ).fetchone()
        gaps = con.execute("SELECT count(*) FROM coverage WHERE level = 'admin2' AND gap = 'gap'").fetchone()
        bare = replace(settings, boundaries={})  # writes over national.html, read above
        no_maps = build_reports(con, bare, form, None, regions=False, html_only=True)[0].read_text("utf-8")
    finally:
        con.close()
    assert 'id="s-partners"' in national and "Needs and partners" in national
    assert f"{round(overall[0]):,} households" in national and f"of {round(overall[1]):,}." in national
    assert f"{gaps[0]} district x sector combinations have a need of 50% or more" in national
    assert national.count("map-gap-") == 5 and "map-need-admin1.png" in national
    assert "these overlap and are never added up" in national
    assert "People in need by district" in region and "Need and partners by district" in region
    assert no_maps.count("No admin boundaries are configured") == 1 and "map-need" not in no_maps


def test_suppression_widened_after_the_run_still_hides_needs_gaps_and_pin(store, tmp_path):
    import shutil
    from dataclasses import replace

    settings, form = store
    copy = tmp_path / "processed"
    shutil.copytree(settings.processed, copy)
    settings = replace(settings, processed=copy)
    con = duckdb.connect(str(settings.store_path))
    con.execute("UPDATE estimates SET suppressed = true WHERE level = 'admin2' AND area = 'D0201'")
    export_share(con, settings, form, tmp_path / "share", xlsx=False, hxl=False)
    export_coverage(con, settings, form, settings.round, tmp_path / "coverage.csv")
    con.close()
    cov = [r for r in _read(tmp_path / "coverage.csv") if r[1] == "D0201"]
    assert cov and all(r[5] == r[6] == r[7] == "" and r[8] == "unknown" for r in cov)
    assert not [r for r in _read(tmp_path / "share" / "pin.csv") if r[3] == "D0201"]
    assert not [r for r in _read(tmp_path / "share" / "hapi-humanitarian-needs.csv") if r[3] == "D0201"]


def test_the_cli_writes_coverage_and_the_share_folder(store, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    settings, _ = store
    config = str(settings.config_path)
    runner = CliRunner()
    result = runner.invoke(app, ["export", "coverage", "--out", str(tmp_path / "c.csv"), "--config", config])
    assert result.exit_code == 0, result.output
    assert _read(tmp_path / "c.csv")[0] == list(COVERAGE_COLUMNS)
    result = runner.invoke(
        app, ["export", "share", "--out", str(tmp_path / "s"), "--xlsx", "--no-hxl", "--config", config]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 7 files" in result.output
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "s" / "share.xlsx", read_only=True)
    assert wb.sheetnames == [
        "estimates",
        "coverage",
        "pin",
        "hapi-humanitarian-needs",
        "hapi-operational-presence",
    ]
    assert next(wb["pin"].iter_rows(values_only=True))[0] == "level"
    assert not _read(tmp_path / "s" / "pin.csv")[1][0].startswith("#")


def test_the_3w_receipt_says_what_was_kept_aside(store):
    settings, _ = store
    receipts = list((settings.receipts_dir / settings.round).glob("3w.csv.*.json"))
    assert len(receipts) == 1
    data = json.loads(receipts[0].read_text())
    assert (data["status"], data["rows"], data["accepted"], data["quarantined"]) == ("loaded", 17, 16, 1)
    assert data["problems"][0]["line"].startswith(
        "row 18, admin1: admin1 'Northern Highlands' is not a region"
    )
    assert receipts[0].with_suffix(".html").is_file()
