"""Export readers: each export shape met in the field maps onto the form's question names."""

from __future__ import annotations

import codecs

import duckdb
import pytest
from openpyxl import Workbook

from assess.core.xlsform import read_xlsform
from assess.read.export import StructuralError, is_ignored, map_columns, stage_export

UUID1 = "0b6f5c1e-2f7a-4d55-9a43-2a9a52f0a001"
UUID2 = "0b6f5c1e-2f7a-4d55-9a43-2a9a52f0a002"


@pytest.fixture(scope="module")
def form(demo_template):
    return read_xlsform(demo_template / "data/forms/needs_assessment.xlsx")


def rows(path) -> list[dict]:
    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY _row")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_kobo_csv_semicolon_bom_crlf_group_paths(form, tmp_path):
    text = (
        "start;location/admin1;location/admin2;household/hh_size;needs/priority_needs;"
        "needs/priority_needs/food;needs/priority_needs/water;respondent/gps;_respondent/gps_latitude;_uuid;_index\r\n"
        f'2026-11-03T08:00:00+01:00;R01;D0101;"6.0";food water;1;1;"1.5 2.5 0 5";1.5;{UUID1};1\r\n'
        f"2026-11-03T09:00:00+01:00;R02;D0201;3;water;0;1;;;{UUID2};2\r\n"
    )
    path = tmp_path / "kobo.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    staged = stage_export(path, form, tmp_path / "s.parquet")
    assert staged.format == "kobo_csv"
    assert staged.id_column == "_uuid"
    assert staged.question_columns["hh_size"] == "hh_size"
    assert staged.option_columns("priority_needs") == {
        "food": "priority_needs/food",
        "water": "priority_needs/water",
    }
    geo = {c.name: c for c in staged.columns if c.part}
    assert geo["_gps_latitude"].question == "gps"
    data = rows(staged.path)
    assert [r["_sid"] for r in data] == [UUID1, UUID2]
    assert [r["_row"] for r in data] == [2, 3]
    assert data[0]["hh_size"] == "6.0" and data[0]["admin1"] == "R01"
    assert data[1]["gps"] is None  # blank cell is missing, not ''


def test_odk_central_csv_dash_groups_and_uuid_prefix(form, tmp_path):
    text = (
        "SubmissionDate,location-admin1,location-admin2,needs-priority_needs,needs-priority_needs/food,"
        "respondent-gps-Latitude,respondent-gps-Longitude,meta-instanceID,KEY\n"
        f"2026-11-14T10:00:00.000Z,R03,D0301,food,1,1.1,2.2,uuid:{UUID1},uuid:{UUID1}\n"
    )
    path = tmp_path / "odk.csv"
    path.write_text(text)
    staged = stage_export(path, form, tmp_path / "s.parquet")
    assert staged.format == "odk_csv"
    assert staged.question_columns["admin1"] == "admin1"
    assert staged.option_columns("priority_needs") == {"food": "priority_needs/food"}
    assert {c.part for c in staged.columns if c.part} == {"latitude", "longitude"}
    assert rows(staged.path)[0]["_sid"] == UUID1  # uuid: stripped


def test_kobo_xlsx_first_sheet_numbers_become_text(form, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["location/admin1", "household/hh_size", "household/children_u5", "_uuid"])
    ws.append(["R01", 6, 2.0, UUID1])
    ws.append(["R02", 4.5, None, UUID2])
    wb.create_sheet("other").append(["ignored"])
    path = tmp_path / "kobo.xlsx"
    wb.save(path)
    staged = stage_export(path, form, tmp_path / "s.parquet")
    assert staged.format == "kobo_xlsx"
    data = rows(staged.path)
    assert data[0]["hh_size"] == "6" and data[0]["children_u5"] == "2"
    assert data[1]["hh_size"] == "4.5" and data[1]["children_u5"] is None


def test_xlsx_rows_are_numbered_as_in_the_sheet(form, tmp_path):
    """Header row 1, first data row 2, an empty row in between still counts, as Excel shows them."""
    wb = Workbook()
    ws = wb.active
    ws.append(["location/admin1", "_uuid"])
    ws.append(["R01", UUID1])
    ws.append([None, None])
    ws.append(["R02", UUID2])
    path = tmp_path / "rows.xlsx"
    wb.save(path)
    data = rows(stage_export(path, form, tmp_path / "s.parquet").path)
    assert [(r["_row"], r["_sid"]) for r in data] == [(2, UUID1), (3, None), (4, UUID2)]


def test_bare_headers_true_false_options_without_summary_unnamed_index(form, tmp_path):
    text = (
        ",admin1,priority_needs/food,priority_needs/cash,hh_size,partner_notes,uuid\n"
        f"0,R01,True,False,5,kept,{UUID1}\n"
        f"1,R02,False,True,7,,{UUID2}\n"
    )
    path = tmp_path / "clean.csv"
    path.write_text(text)
    staged = stage_export(path, form, tmp_path / "s.parquet")
    names = [c.name for c in staged.columns]
    assert names[0] == "_unnamed_1"
    assert "partner_notes" in names  # unknown extra columns are kept
    assert staged.option_columns("priority_needs") == {
        "food": "priority_needs/food",
        "cash": "priority_needs/cash",
    }
    assert "priority_needs" not in staged.question_columns
    assert rows(staged.path)[1]["priority_needs/cash"] == "True"


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separator_is_sniffed(form, tmp_path, sep):
    text = sep.join(["admin1", "hh_size", "_uuid"]) + "\n" + sep.join(["R01", "3", UUID1]) + "\n"
    path = tmp_path / "x.csv"
    path.write_text(text)
    staged = stage_export(path, form, tmp_path / "s.parquet")
    assert rows(staged.path)[0]["hh_size"] == "3"
    assert ("tabs" in " ".join(staged.warnings)) == (sep == "\t")


def test_quoted_separator_and_newline_inside_a_cell(form, tmp_path):
    text = f'admin1;comments;_uuid\nR01;"a; b\nsecond line";{UUID1}\nR02;plain;{UUID2}\n'
    path = tmp_path / "q.csv"
    path.write_text(text)
    data = rows(stage_export(path, form, tmp_path / "s.parquet").path)
    assert data[0]["comments"] == "a; b\nsecond line"
    assert [r["_row"] for r in data] == [2, 3]


def test_configured_id_column_and_missing_id_column(form, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(f"admin1,my_id\nR01,{UUID1}\n")
    assert stage_export(path, form, tmp_path / "a.parquet", id_column="my_id").id_column == "my_id"
    with pytest.raises(StructuralError, match="no submission id column"):
        stage_export(path, form, tmp_path / "b.parquet")
    with pytest.raises(StructuralError, match="'nope'"):
        stage_export(path, form, tmp_path / "c.parquet", id_column="nope")


def test_group_path_and_bare_name_are_the_same_question(form):
    cols, warnings = map_columns(["location/admin1", "admin1", "_uuid"], form)
    assert cols[0].question == "admin1"
    assert cols[1].question is None and cols[1].name == "admin1__2"
    assert warnings


def test_case_insensitive_collisions_get_distinct_names(form):
    cols, _ = map_columns(["deviceid", "DeviceID", "_uuid"], form)
    assert len({c.name.lower() for c in cols}) == 3


def test_temp_and_lock_files_are_ignored(tmp_path):
    for name in ("~$export.xlsx", ".hidden.csv", "export.csv.part", "x.crdownload", "a.tmp"):
        assert is_ignored(tmp_path / name)
    assert not is_ignored(tmp_path / "kobo_export.csv")
