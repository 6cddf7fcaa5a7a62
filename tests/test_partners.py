"""Who does what where: the 3W list's checks, active partners, the gap rule, people in need, the frame's
district populations and the `[partners]` settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assess.core.partner_settings import PartnerSpec
from assess.core.settings import ConfigError, load_settings
from assess.core.xlsform import Choice, Question, XLSForm
from assess.demo import write_demo
from assess.estimate.frame import area_populations, read_frame
from assess.partners.coverage import Cell, active_organisations, coverage, gap_class, straddles
from assess.partners.pin import people_in_need
from assess.partners.threew import ThreeWError, check_rows, read_table

SPEC = PartnerSpec(
    file=Path("3w.csv"),
    high_need=0.5,
    sectors={"WSH": ("priority_needs/water", "severity:wash"), "HEA": ("priority_needs/health",)},
)
COLUMNS = ["organisation", "org_acronym", "org_type", "sector", "admin1", "admin2", "activity", "status"]


def _form() -> XLSForm:
    def q(name: str, list_name: str) -> Question:
        return Question(name=name, type="select_one", list_name=list_name, labels={"English (en)": name})

    regions = [
        Choice("R01", {"English (en)": "Karsa North", "French (fr)": "Karsa-Nord"}, {"pcode": "XK01"}),
        Choice("R02", {"English (en)": "Karsa South"}, {"pcode": "XK02"}),
    ]
    districts = [
        Choice("D0101", {"English (en)": "Harmon"}, {"admin1": "R01"}),
        Choice("D0102", {"English (en)": "Belisk"}, {"admin1": "R01"}),
        Choice("D0201", {"English (en)": "Seldra"}, {"admin1": "R02"}),
    ]
    form = XLSForm.__new__(XLSForm)
    form.questions = {"admin1": q("admin1", "regions"), "admin2": q("admin2", "districts")}
    form.choices = {"regions": regions, "districts": districts}
    return form


def _frame(rows: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*COLUMNS, "start", "end"])


def _row(org="Demo Red Cross", sector="WSH", a1="R01", a2="", status="active", start="2026-01-01", end=""):
    return [org, "", "NGO", sector, a1, a2, "water", status, start, end]


# -- 3W validation -------------------------------------------------------------------------------------
def test_a_3w_row_may_name_areas_by_code_label_or_pcode_and_sectors_by_cluster_name():
    df = _frame(
        [
            _row(a1="karsa-nord", a2="harmon", sector="Water, Sanitation and Hygiene"),
            _row(a1="XK02", sector="wash"),
            _row(a1="Karsa North", a2="D0102", sector="Health"),
        ]
    )
    out = check_rows(df, SPEC, _form(), ("admin1", "admin2"))
    assert out.problems == []
    assert [(r["admin1"], r["admin2"], r["sector"]) for r in out.rows] == [
        ("R01", "D0101", "WSH"),
        ("R02", None, "WSH"),
        ("R01", "D0102", "HEA"),
    ]


def test_unknown_areas_sectors_statuses_and_dates_are_kept_aside_with_their_reason():
    df = _frame(
        [
            _row(a1="Northern Highlands"),  # row 2
            _row(sector="Logistics"),  # row 3: not mapped in [partners.sectors]
            _row(a1="R02", a2="Harmon"),  # row 4: Harmon is in R01
            _row(status="maybe"),  # row 5
            _row(start="31/31/2026"),  # row 6
            _row(start="2026-05-01", end="2026-04-01"),  # row 7
            _row(org=""),  # row 8
            _row(),  # row 9: fine
        ]
    )
    out = check_rows(df, SPEC, _form(), ("admin1", "admin2"))
    found = {(p.row, p.column) for p in out.problems}
    assert found == {
        (2, "admin1"),
        (3, "sector"),
        (4, "admin2"),
        (5, "status"),
        (6, "start"),
        (7, "end"),
        (8, "organisation"),
    }
    assert [r["row"] for r in out.rows] == [9]
    assert out.quarantined == 7 and out.total == 8
    reason = next(p.reason for p in out.problems if p.row == 2)
    assert "'Northern Highlands' is not a region of the form" in reason


def test_a_3w_file_without_a_required_column_is_rejected_and_xlsx_is_read(tmp_path):
    path = tmp_path / "3w.xlsx"
    _frame([_row()]).drop(columns=["status"]).to_excel(path, index=False)
    with pytest.raises(ThreeWError, match="status"):
        check_rows(read_table(path), SPEC, _form(), ("admin1", "admin2"))
    _frame([_row()]).rename(columns={"organisation": "Organisation"}).to_excel(path, index=False)
    assert len(check_rows(read_table(path), SPEC, _form(), ("admin1", "admin2")).rows) == 1


# -- active partners -----------------------------------------------------------------------------------
def _rows(*rows: list[str]) -> list[dict]:
    return check_rows(_frame(list(rows)), SPEC, _form(), ("admin1", "admin2")).rows


def test_active_partners_are_distinct_organisations_active_on_the_last_submission_date():
    on = date(2026, 11, 13)
    rows = _rows(
        _row(org="Demo Red Cross", a2="D0101"),
        _row(org="demo red cross", a2="D0102"),  # the same organisation, written differently
        _row(
            org="UNICEF", status="Ongoing", start="2026-11-13", end="2026-11-13"
        ),  # blank admin2: all of R01
        _row(org="Coastal Relief", status="completed", start="2026-01-01", end="2026-08-31"),
        _row(org="Late Starter", start="2026-11-14"),  # starts after the reference date
        _row(org="Ended", end="2026-11-12"),  # ended the day before
        _row(org="Planned NGO", status="planned"),
        _row(org="Other Sector", sector="HEA"),
    )
    assert active_organisations(rows, "WSH", 0, "R01", None, on) == ("Demo Red Cross", "UNICEF")
    assert active_organisations(rows, "WSH", 1, "D0101", "R01", on) == ("Demo Red Cross", "UNICEF")
    # an admin2 key written `<admin1>/<admin2>` (names repeat across regions); shown as first written there
    assert active_organisations(rows, "WSH", 1, "R01/D0102", "R01", on) == ("demo red cross", "UNICEF")
    assert active_organisations(rows, "WSH", 1, "D0201", "R02", on) == ()
    assert active_organisations(rows, "WSH", -1, "all", None, on) == ("Demo Red Cross", "UNICEF")
    assert active_organisations(rows, "HEA", 0, "R01", None, on) == ("Other Sector",)


# -- gap rule ------------------------------------------------------------------------------------------
def test_the_gap_rule():
    assert gap_class(0.6, 0, 0.5) == "gap"
    assert gap_class(0.5, 1, 0.5) == "thin"
    assert gap_class(0.9, 2, 0.5) == "covered"
    assert gap_class(0.49, 0, 0.5) == "low_need"
    assert gap_class(0.5 - 1e-12, 0, 0.5) == "gap"  # at the threshold up to rounding noise
    assert gap_class(None, 0, 0.5) == "unknown"
    assert straddles(0.45, 0.55, 0.5) and not straddles(0.51, 0.7, 0.5) and not straddles(None, 0.7, 0.5)


def test_coverage_takes_the_highest_shown_need_and_flags_an_uncertain_class():
    cells = {
        ("admin1", "R01", "priority_needs", "water"): Cell(0.55, 0.45, 0.65, False),
        ("admin1", "R01", "severity_wash", "3+"): Cell(0.9, 0.8, 1.0, True),  # suppressed: never used
        ("admin1", "R02", "priority_needs", "water"): Cell(0.3, 0.2, 0.4, False),
        ("admin1", "R02", "severity_wash", "3+"): Cell(0.7, 0.62, 0.78, False),
    }
    rows = _rows(_row(a1="R02"))
    areas = [("admin1", 0, "R01", None), ("admin1", 1 - 1, "R02", None)]
    found = {(c.area, c.sector): c for c in coverage(SPEC, rows, cells, areas, date(2026, 11, 13))}
    r1 = found[("R01", "WSH")]
    assert (r1.need, r1.need_source, r1.gap, r1.uncertain, r1.partners) == (
        0.55,
        "priority_needs/water",
        "gap",
        True,
        0,
    )
    r2 = found[("R02", "WSH")]
    assert (r2.need, r2.need_source, r2.gap, r2.uncertain) == (0.7, "severity:wash", "thin", False)
    assert found[("R01", "HEA")].gap == "unknown"


# -- people in need ------------------------------------------------------------------------------------
def test_people_in_need_is_population_times_the_share_in_severity_3_plus():
    cells = {
        ("admin1", "R01", "severity_wash", "3+"): Cell(0.4, 0.3, 0.5, False),
        ("admin1", "R01", "severity_overall", "3+"): Cell(0.6, -0.05, 1.2, False),  # Wald CI past 0-1
        ("admin1", "R02", "severity_wash", "3+"): Cell(0.2, 0.1, 0.3, True),  # suppressed
        ("admin2", "R01/D0101", "severity_wash", "3+"): Cell(0.5, 0.4, 0.6, False),
        ("admin2", "D0201", "severity_wash", "3+"): Cell(0.5, 0.4, 0.6, False),  # no population
    }
    pops = {("admin1", "R01"): 1000.0, ("admin1", "R02"): 500.0, ("admin2", "D0101"): 300.0}
    pins = {(p.area, p.sector): p for p in people_in_need(cells, pops, ["wash"], "households")}
    assert set(pins) == {("R01", "wash"), ("R01", "overall"), ("R01/D0101", "wash")}
    wash = pins[("R01", "wash")]
    assert (wash.pin, wash.pin_low, wash.pin_high, wash.unit) == (400.0, 300.0, 500.0, "households")
    overall = pins[("R01", "overall")]
    assert (overall.pin, overall.pin_low, overall.pin_high) == (600.0, 0.0, 1000.0)
    assert pins[("R01/D0101", "wash")].pin == 150.0


def test_a_frame_listing_districts_gives_strata_sums_and_district_populations(tmp_path):
    write_demo(tmp_path, households=40)
    settings = load_settings(tmp_path / "assessment.toml")
    frame = read_frame(settings)
    pops = area_populations(settings)
    assert frame["R01"] == 68_420 and pops[("admin1", "R01")] == 68_420
    districts = [v for (lv, a), v in pops.items() if lv == "admin2" and a.startswith("D01")]
    assert len(districts) == 3 and sum(districts) == 68_420
    assert pops[("national", "all")] == sum(frame.values())
    text = (tmp_path / "data/forms/sampling_frame.csv").read_text()
    (tmp_path / "data/forms/sampling_frame.csv").write_text(text + "R01,D0101,5\n")
    with pytest.raises(ConfigError, match="area 'D0101' of stratum 'R01' is already listed"):
        read_frame(settings)


# -- settings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        ('[partners]\nhigh_need = 0.5\n[partners.sectors]\nWSH = ["severity:wash"]\n', "needs file"),
        ('[partners]\nfile = "3w.csv"\nhigh_need = 2\n[partners.sectors]\nWSH = ["x"]\n', "high_need"),
        ('[partners]\nfile = "3w.csv"\n', r"\[partners.sectors\] must map"),
        ('[partners]\nfile = "3w.pdf"\n[partners.sectors]\nWSH = ["x"]\n', ".csv or .xlsx"),
        ('[report.boundaries]\nadmin3 = { file = "a.geojson", key = "K" }\n', "not one of the"),
        ('[report.boundaries]\nadmin1 = { file = "missing.geojson", key = "K" }\n', "not found"),
    ],
)
def test_partner_settings_mistakes_name_the_key(tmp_path, extra, message):
    write_demo(tmp_path, households=20)
    config = tmp_path / "assessment.toml"
    text = config.read_text()
    text = text[: text.index("# [partners]")]  # the demo's own [partners] and [report.boundaries]
    config.write_text(text + extra)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_population_unit_is_checked(tmp_path):
    write_demo(tmp_path, households=20)
    config = tmp_path / "assessment.toml"
    config.write_text(
        config.read_text().replace('population_unit = "households"', 'population_unit = "people"')
    )
    with pytest.raises(ConfigError, match="population_unit must be one of individuals, households"):
        load_settings(config)


def test_the_sector_mapping_and_the_3w_file_are_checked_against_the_form(tmp_path):
    from dataclasses import replace

    from assess.core.xlsform import read_form
    from assess.partners.run import check_sector_mapping

    write_demo(tmp_path, households=20)
    settings = load_settings(tmp_path / "assessment.toml")
    form = read_form(settings)
    check_sector_mapping(settings, form)  # the demo's mapping is fine
    assert settings.partners is not None
    bad = replace(settings.partners, sectors={"NUT": ("severity:nutrition",)})
    with pytest.raises(ConfigError, match="NUT: 'severity:nutrition' is not estimated"):
        check_sector_mapping(replace(settings, partners=bad), form)
    bad = replace(settings.partners, sectors={"EDU": ("school_attendance/none",)})
    with pytest.raises(ConfigError, match="EDU: 'school_attendance/none' is not estimated"):
        check_sector_mapping(replace(settings, partners=bad), form)
    gone = replace(settings.partners, file=tmp_path / "missing.xlsx")
    with pytest.raises(ConfigError, match="missing.xlsx not found"):
        check_sector_mapping(replace(settings, partners=gone), form)


def test_a_semicolon_csv_with_other_header_spellings_is_read(tmp_path):
    path = tmp_path / "3w.csv"
    path.write_text(
        "Organization;Acronym;Org type;Cluster;Admin1;Admin2;Activity;Status;Start date;End date\n"
        "Demo Red Cross;DRC;NGO;WASH;Karsa North;;Water;Active;2026-01-01;\n",
        encoding="utf-8",
    )
    out = check_rows(read_table(path), SPEC, _form(), ("admin1", "admin2"))
    assert out.problems == [] and out.rows[0]["org_acronym"] == "DRC" and out.rows[0]["sector"] == "WSH"


def test_a_round_without_estimates_still_gets_its_3w_receipt_and_no_coverage(tmp_path):
    from assess.core.xlsform import read_form
    from assess.partners.run import run_partners
    from assess.store.connection import connect

    write_demo(tmp_path, households=20)
    settings = load_settings(tmp_path / "assessment.toml")
    con = connect(settings.store_path)
    try:
        summary = run_partners(con, settings, read_form(settings))
        assert (summary.status, summary.accepted, summary.quarantined) == ("loaded", 16, 1)
        assert (summary.coverage, summary.pin) == (0, 0)
        assert con.execute("SELECT count(*) FROM partner_rows").fetchone() == (16,)
    finally:
        con.close()
    assert list((settings.receipts_dir / settings.round).glob("3w.csv.*.json"))
