"""Counts that agree: households interviewed, declined and in the estimates come from one table
(`household_counts`), and the CLI's run summary, the report's cover, region headers and methodology, and the
estimates' n all say the same. Warnings likewise: one count per file, in the run table, receipt, store and annex."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import duckdb
import pytest
from _store import build_store

from assess.clean.layer import install
from assess.core.problems import FileStatus
from assess.core.settings import load_settings
from assess.core.summary import HouseholdCounts, RunSummary
from assess.core.xlsform import read_form
from assess.estimate.counts import consent_question, household_counts
from assess.read.export import map_columns
from assess.report.build import build_reports
from assess.report.receipts import write_receipts
from assess.store.connection import connect
from assess.store.runs import load_outcome
from assess.validate.stage import stage_file
from tests.corpus import _csv_text, _fresh_ids, demo_rows


@pytest.fixture(scope="module")
def loaded(demo_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("counts") / "demo"
    shutil.copytree(demo_template, root)
    settings, form, run = build_store(root)
    return settings, form, run


def _html(settings, form, run, tmp_path) -> dict[str, str]:
    settings = dataclasses.replace(settings, processed=tmp_path / "processed")
    con = duckdb.connect(str(run.store_path), read_only=True)
    try:
        paths = build_reports(con, settings, form, run, html_only=True)
    finally:
        con.close()
    return {p.stem: p.read_text(encoding="utf-8") for p in paths}


def test_households_interviewed_declined_and_in_the_estimates_agree(loaded):
    settings, form, run = loaded
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        install(con)  # the cleaned households, as the estimates read them (issue 17)
        consent = dict(con.execute("SELECT consent, count(*) FROM submissions GROUP BY 1").fetchall())
        # households only: member estimates (unit roster) count people
        n_max = con.execute(
            "SELECT max(n) FROM estimates WHERE level = 'national' AND unit = 'household'"
        ).fetchone()[0]
        national = household_counts(con, settings.round)
        by_area = con.execute(
            "SELECT area, max(n) FROM estimates WHERE level = 'admin1' AND unit = 'household' GROUP BY 1"
        ).fetchall()
        interviewed = dict(con.execute("SELECT admin1, count(*) FROM submissions GROUP BY 1").fetchall())
        for area, n in by_area:
            counts = household_counts(con, settings.round, "admin1", area)
            assert counts.in_estimates == n and counts.interviewed == interviewed[area]
            assert counts.interviewed == counts.declined + counts.in_estimates
    finally:
        con.close()
    # the demo's 2,001 households less the 4 its filled cleaning log removes
    assert national == HouseholdCounts(interviewed=1997, declined=consent["no"], in_estimates=consent["yes"])
    assert national.in_estimates == n_max  # every estimate's n is at most the households in the estimates
    assert run.estimates.households == national  # what the CLI prints
    assert consent_question(form, settings.needs) == "consent" and run.estimates.declined_word == "declined"
    assert (
        f"{national.interviewed:,} interviewed, {national.declined} declined, {national.in_estimates:,} in the "
        "estimates" in run.markdown()
    )


def test_the_report_says_the_same_counts_on_the_cover_methodology_and_region_headers(loaded, tmp_path):
    settings, form, run = loaded
    run = dataclasses.replace(run)
    run.store_path = settings.store_path  # type: ignore[attr-defined]
    pages = _html(settings, form, run, tmp_path)
    national = run.estimates.households
    sentence = (
        f"{national.interviewed:,} interviewed, {national.declined} declined, "
        f"{national.in_estimates:,} in the estimates"
    )
    text = re.sub(r"\s+", " ", pages["national"])
    assert sentence in text  # the cover
    intro = f"This report is based on {national.interviewed:,} households interviewed"
    tail = f"{national.declined} declined; {national.in_estimates:,} are in the estimates."
    assert text.count(intro) == 2 and text.count(tail) == 2  # the summary and the methodology
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        for area in ("R01", "R02"):
            counts = household_counts(con, settings.round, "admin1", area)
            header = (
                f"{counts.interviewed} interviewed, {counts.declined} declined, {counts.in_estimates} in the "
                "estimates"
            )
            assert counts.interviewed and any(
                header in re.sub(r"\s+", " ", html) for stem, html in pages.items() if stem != "national"
            )
            # the methodology's row of that region gives the same three numbers
            row = re.search(
                rf"<td>[^<]*</td><td class=\"num\">{counts.interviewed}</td><td class=\"num\">"
                rf"{counts.declined}</td><td class=\"num\">{counts.in_estimates}</td>",
                pages["national"],
            )
            assert row, area
    finally:
        con.close()


def test_odk_metadata_beside_a_question_of_the_same_name_is_kept_without_a_warning(demo_template):
    settings = load_settings(demo_template / "assessment.toml")
    form = read_form(settings)
    header, _ = demo_rows(demo_template)
    assert "deviceid" in header and "DeviceID" in header
    columns, warnings = map_columns(header, form)
    assert warnings == []
    names = {c.header: c.name for c in columns}
    assert names["deviceid"] == "deviceid" and names["DeviceID"] == "DeviceID__meta"


def test_one_warning_count_per_file_in_the_run_receipt_store_and_annex(demo_template, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    settings = load_settings(root / "assessment.toml")
    form = read_form(settings)
    header, rows = demo_rows(root)
    noted = root / "data" / "raw" / "repeated_header.csv"  # a repeated header: a reader note
    noted.write_text(
        _csv_text([*header, "household-hh_size"], [[*r, "4"] for r in _fresh_ids(header, rows, "w")]),
        encoding="utf-8",
    )
    demo_odk = next((root / "data" / "raw").glob("odk_*.csv"))
    outs = [stage_file(p, settings, form) for p in (demo_odk, noted)]
    con = connect(settings.store_path)
    try:
        for out in outs:
            load_outcome(con, out, settings, form, "r1", "k")
            write_receipts(out, settings, form)
        stored = dict(con.execute("SELECT name, warnings FROM files").fetchall())
    finally:
        con.close()
    odk, repeated = outs
    # the demo's exports load without warnings but one: a CSV holds the households only, not the roster
    assert odk.status == FileStatus.LOADED and odk.warning_count == 1
    assert "repeat group(s) 'roster'" in odk.warnings[0] and "households only" in odk.warnings[0]
    assert repeated.warning_count >= 1 and repeated.warnings
    for out in outs:
        receipt = json.loads(
            next((settings.receipts_dir / settings.round).glob(f"{out.name}.*.json")).read_text()
        )
        assert out.summary().warnings == receipt["warnings"] == stored[out.name] == out.warning_count
    run = RunSummary(run_id="w", round=settings.round, files=[o.summary() for o in outs])
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        pages = build_reports(
            con,
            dataclasses.replace(settings, processed=tmp_path / "p"),
            form,
            run,
            html_only=True,
            regions=False,
        )
    finally:
        con.close()
    annex = pages[0].read_text(encoding="utf-8")
    rows = [
        re.findall(r"<td[^>]*>([^<]*)</td>", r)
        for r in re.findall(
            r"<tr><td>repeated_header\.csv</td>(.*?)</tr>", annex[annex.index('id="s-quality"') :]
        )
    ]
    counted = [
        cells for cells in rows if len(cells) >= 4
    ]  # the files table (the provenance list has the hash)
    assert counted, "the file is missing from the annex"
    assert int(counted[0][-1]) == repeated.warning_count  # the annex's last column is the warnings
