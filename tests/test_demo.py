"""The demo assessment: files, export formats, consistency with the form, determinism."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import pytest
from openpyxl import load_workbook

from assess.demo import write_demo

HOUSEHOLDS = 600
KOBO_CSV = "data/raw/kobo_export_2026-11-10.csv"
KOBO_XLSX = "data/raw/kobo_export_2026-11-12.xlsx"
ODK_CSV = "data/raw/odk_central_2026-11-14.csv"
KOBO_ROSTER = "data/raw/kobo_export_2026-11-16_roster.xlsx"
ODK_ZIP = "data/raw/odk_central_2026-11-16.csv.zip"
FORM = "data/forms/needs_assessment.xlsx"
FRAME = "data/forms/sampling_frame.csv"
NEEDS = ["food", "water", "shelter", "health", "education", "livelihoods", "protection", "cash", "other"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    dest = tmp_path_factory.mktemp("demo")
    return dest, write_demo(dest, households=HOUSEHOLDS)


def _kobo_csv_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def _odk_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _xlsx_rows(path: Path) -> list[dict[str, object]]:
    wb = load_workbook(path, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def _sheet(path: Path, name: str) -> list[dict[str, object]]:
    wb = load_workbook(path, read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def _all_rows(dest: Path) -> list[dict[str, object]]:
    """All households in a common shape: Kobo `/` headers, ODK renamed to match."""
    kobo = _kobo_csv_rows(dest / KOBO_CSV) + [
        {k: "" if v is None else str(v) for k, v in r.items()} for r in _xlsx_rows(dest / KOBO_XLSX)
    ]
    odk = []
    for r in _odk_rows(dest / ODK_CSV):
        row = {k.replace("-", "/"): v for k, v in r.items()}
        row["_uuid"] = r["meta-instanceID"].removeprefix("uuid:")
        odk.append(row)
    return kobo + odk


def test_files_exist(demo):
    dest, written = demo
    partner = ["data/partners/3w.csv", "data/forms/adm1.geojson", "data/forms/adm2.geojson"]
    plan = "data/forms/analysis_plan.csv"  # the analysis plan (issue 16)
    filled_log = "data/raw/cleaning_log_2026-11-18_filled.xlsx"  # issue 17: answers to the planted households
    expected = [
        FORM,
        FRAME,
        *partner,
        KOBO_CSV,
        KOBO_XLSX,
        ODK_CSV,
        KOBO_ROSTER,
        ODK_ZIP,
        plan,
        filled_log,
        "assessment.toml",
    ]
    assert [p.relative_to(dest).as_posix() for p in written] == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)


def test_config_is_valid_toml_pointing_at_the_files(demo):
    dest, _ = demo
    text = (dest / "assessment.toml").read_text(encoding="utf-8")
    assert text.count("\n#") >= 8  # commented for a data officer
    cfg = tomllib.loads(text)
    assert (dest / cfg["survey"]["xlsform"]).is_file()
    assert (dest / cfg["design"]["frame"]).is_file()
    assert (dest / cfg["paths"]["inbox"]).is_dir()
    assert cfg["survey"]["language"] == "English (en)"
    assert cfg["design"] == {
        "frame": "data/forms/sampling_frame.csv",
        "strata": "admin1",
        "population": "population",
        "population_unit": "households",
        "cluster": "cluster_id",
    }
    assert cfg["privacy"]["min_cell"] == 5
    assert cfg["validation"]["window"] == ["2026-11-01", "2026-11-30"]


def test_form_sheets_and_settings(demo):
    dest, _ = demo
    form = dest / FORM
    settings = _sheet(form, "settings")[0]
    assert settings == {
        "form_title": "Community Needs Assessment 2026",
        "form_id": "cna_2026",
        "version": "2026110101",
        "default_language": "English (en)",
    }
    survey = _sheet(form, "survey")
    header = set(survey[0])
    for col in (
        "label::English (en)",
        "label::Français (fr)",
        "label::العربية (ar)",
        "hint::English (en)",
        "required",
        "constraint",
        "constraint_message::English (en)",
        "relevant",
        "choice_filter",
        "appearance",
        "calculation",
    ):
        assert col in header
    depth = 0
    for row in survey:
        kind = row["type"]
        depth += kind == "begin_group"
        depth -= kind == "end_group"
        assert depth >= 0
        if kind.startswith(("select_", "integer", "text", "geopoint", "begin_group")):
            assert all(row[f"label::{lang}"] for lang in ("English (en)", "Français (fr)", "العربية (ar)")), (
                row
            )
    assert depth == 0
    by_name = {r["name"]: r for r in survey if r["type"] != "end_group"}
    assert by_name["admin2"]["choice_filter"] == "admin1=${admin1}"
    assert by_name["household"]["relevant"] == "${consent} = 'yes'"
    assert by_name["priority_needs"]["type"] == "select_multiple needs"
    assert by_name["resp_phone"]["constraint"] == r"regex(., '^\+?[0-9 ]{7,15}$')"
    lists = {r["type"].split()[1] for r in survey if r["type"].startswith("select_")}
    choice_lists = {r["list_name"] for r in _sheet(form, "choices")}
    assert lists <= choice_lists
    needs = [r["name"] for r in _sheet(form, "choices") if r["list_name"] == "needs"]
    assert needs == NEEDS


def test_choices_mark_the_answers_that_signal_need(demo):
    from assess.core.xlsform import read_xlsform

    dest, _ = demo
    rows = _sheet(dest / FORM, "choices")
    marked = {(r["list_name"], r["name"]) for r in rows if r["need"] == 1}
    assert marked == {
        ("water_source", "unprotected_well"),
        ("water_source", "surface_water"),
        ("shelter", "major_damage"),
        ("shelter", "destroyed"),
        ("shelter", "none"),
        ("income", "none"),
    }
    assert all(r["need"] is None for r in rows if (r["list_name"], r["name"]) not in marked)
    form = read_xlsform(dest / FORM)  # read into Choice.need, not left among the extra columns
    assert form.marked_need("water_source") == ("unprotected_well", "surface_water")
    assert form.marked_need("priority_needs") == () and form.marked_need("hh_size") == ()
    assert all("need" not in c.extra for cs in form.choices.values() for c in cs)
    assert "[report.need_answers]" in (dest / "assessment.toml").read_text(encoding="utf-8")  # documented


def test_kobo_csv_format(demo):
    dest, _ = demo
    raw = (dest / KOBO_CSV).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\n") == raw.count(b"\r\n") > 1
    first = raw[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert first.startswith('"start";"end";"today";"deviceid";"location/admin1"')
    header = next(csv.reader([first], delimiter=";"))
    for col in (
        "location/admin2",
        "needs/priority_needs",
        "needs/priority_needs/food",
        "respondent/gps",
        "_respondent/gps_latitude",
        "_respondent/gps_precision",
        "food/fcs_cereals",
    ):
        assert col in header
    assert header[-10:] == [
        "_id",
        "_uuid",
        "_submission_time",
        "_validation_status",
        "_notes",
        "_status",
        "_submitted_by",
        "__version__",
        "_tags",
        "_index",
    ]
    assert header == list(_xlsx_rows(dest / KOBO_XLSX)[0])  # both Kobo exports have the same layout


def test_kobo_xlsx_stores_numbers(demo):
    dest, _ = demo
    rows = _xlsx_rows(dest / KOBO_XLSX)
    consented = [r for r in rows if r["respondent/consent"] == "yes"]
    assert all(isinstance(r["household/hh_size"], int) for r in consented)
    assert all(isinstance(r["_respondent/gps_latitude"], float) for r in rows)
    assert all(isinstance(r["_id"], int) for r in rows)
    assert [r["_index"] for r in rows] == list(range(1, len(rows) + 1))


def test_odk_csv_format(demo):
    dest, _ = demo
    raw = (dest / ODK_CSV).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    rows = _odk_rows(dest / ODK_CSV)
    header = list(rows[0])
    assert header[0] == "SubmissionDate"
    for col in (
        "location-admin1",
        "needs-priority_needs",
        "needs-priority_needs/food",
        "respondent-gps-Latitude",
        "respondent-gps-Longitude",
        "respondent-gps-Altitude",
        "respondent-gps-Accuracy",
    ):
        assert col in header
    assert "respondent-gps" not in header
    assert header[-11:] == [
        "meta-instanceID",
        "KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    ]
    for r in rows:
        assert r["meta-instanceID"].startswith("uuid:") and r["KEY"] == r["meta-instanceID"]
        assert r["FormVersion"] == "2026110101"


def test_households_split_and_unique(demo):
    dest, _ = demo
    kobo_csv = _kobo_csv_rows(dest / KOBO_CSV)
    kobo_xlsx = _xlsx_rows(dest / KOBO_XLSX)
    odk = _odk_rows(dest / ODK_CSV)
    planted = 1  # issue 17: a near-duplicate of a household, in the Kobo XLSX (assess/demo/quality.py)
    assert len(kobo_csv) + len(kobo_xlsx) + len(odk) == HOUSEHOLDS + planted
    assert (len(kobo_csv), len(kobo_xlsx), len(odk)) == (270, 180 + planted, 150)
    uuids = [r["_uuid"] for r in kobo_csv] + [r["_uuid"] for r in kobo_xlsx]
    uuids += [r["meta-instanceID"].removeprefix("uuid:") for r in odk]
    assert len(set(uuids)) == HOUSEHOLDS + planted
    assert all(len(u) == 36 and u[14] == "4" for u in uuids)
    kobo_ids = [int(r["_id"]) for r in kobo_csv] + [r["_id"] for r in kobo_xlsx]
    assert kobo_ids == sorted(set(kobo_ids))


def test_answers_consistent_with_form(demo):
    dest, _ = demo
    choices = _sheet(dest / FORM, "choices")
    parent = {r["name"]: r["admin1"] for r in choices if r["list_name"] == "admin2"}
    lists: dict[str, set[str]] = {}
    for r in choices:
        lists.setdefault(r["list_name"], set()).add(r["name"])
    rows = _all_rows(dest)
    per_region: dict[str, int] = {}
    for r in rows:
        assert parent[r["location/admin2"]] == r["location/admin1"]
        per_region[r["location/admin1"]] = per_region.get(r["location/admin1"], 0) + 1
        assert r["location/cluster_id"][:3] == "EA-"
        assert "2026-11-02" <= r["today"] <= "2026-11-14"
        assert r["start"][:10] == r["today"] and r["start"] < r["end"]
        if r["respondent/consent"] == "no":
            assert r["household/hh_size"] == r["needs/priority_needs"] == r["needs/priority_needs/food"] == ""
            continue
        size, children = int(r["household/hh_size"]), int(r["household/children_u5"])
        assert 1 <= size <= 15 and 0 <= children <= size
        assert (r["household/displacement_months"] != "") == (r["household/displaced"] == "yes")
        needs = r["needs/priority_needs"].split()
        assert 1 <= len(needs) <= 3 and set(needs) <= lists["needs"]
        assert [n for n in NEEDS if r[f"needs/priority_needs/{n}"] == "1"] == needs
        assert (r["needs/priority_needs_other"] != "") == ("other" in needs)
        assert r["needs/water_source"] in lists["water_source"]
        assert r["shelter_condition"] in lists["shelter"]
        assert all(
            0 <= int(r[f"food/fcs_{g}"]) <= 7
            for g in ("cereals", "pulses", "dairy", "meat", "veg", "fruit", "oil", "sugar")
        )
    assert set(per_region) == {"R01", "R02", "R03", "R04", "R05", "R06"}
    assert max(per_region.values()) - min(per_region.values()) <= HOUSEHOLDS // 6 // 3
    no_consent = sum(r["respondent/consent"] == "no" for r in rows)
    assert 0 < no_consent < HOUSEHOLDS * 0.06


def test_frame_has_unequal_populations(demo):
    dest, _ = demo
    frame = list(csv.DictReader((dest / FRAME).open(encoding="utf-8")))
    assert list(dict.fromkeys(r["admin1"] for r in frame)) == ["R01", "R02", "R03", "R04", "R05", "R06"]
    assert len(frame) == 18  # one row per district (people in need by district)
    pops: dict[str, int] = {}
    for r in frame:
        pops[r["admin1"]] = pops.get(r["admin1"], 0) + int(r["population"])
    assert len(set(pops.values())) == len(pops)


def test_deterministic(tmp_path):
    a = write_demo(tmp_path / "a", households=300)
    b = write_demo(tmp_path / "b", households=300)
    for pa, pb in zip(a, b, strict=True):
        if pa.suffix == ".xlsx":
            for sheet in load_workbook(pa).sheetnames:
                assert _sheet(pa, sheet) == _sheet(pb, sheet)
        else:
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    write_demo(tmp_path / "c", households=300, seed=1)
    assert (tmp_path / "c" / KOBO_CSV).read_bytes() != a[2].read_bytes()


def test_refuses_to_overwrite(tmp_path):
    (tmp_path / "assessment.toml").write_text("[survey]\nxlsform = 'mine.xlsx'\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_demo(tmp_path)
    assert (tmp_path / "assessment.toml").read_text(encoding="utf-8").startswith("[survey]")
    assert not (tmp_path / "data").exists()


# ------------------------------------------------------------------------------------------------ the roster
WG = ("vision", "hearing", "mobility", "cognition", "selfcare", "communication")
KOBO_META = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by")
KOBO_META += ("__version__", "_tags")


def _zip_rows(path: Path) -> dict[str, list[dict[str, str]]]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {
            name: list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"), newline="")))
            for name in zf.namelist()
        }


def test_roster_exports_follow_kobo_and_central_layouts(demo):
    dest, _ = demo
    wb = load_workbook(dest / KOBO_ROSTER, read_only=True)
    assert wb.sheetnames == ["Community Needs Assessment 2026", "roster"]
    header = list(next(wb["roster"].iter_rows(values_only=True)))
    wb.close()
    questions = ["ind_sex", "ind_age", "ind_school", *(f"wgq_{d}" for d in WG), "ind_disability"]
    assert header[:12] == [f"household/roster/{q}" for q in questions] + [
        "_parent_table_name",
        "_parent_index",
    ]
    assert header[12:] == [f"_submission_{m}" for m in KOBO_META]
    households = _xlsx_rows(dest / KOBO_ROSTER)
    members = _sheet(dest / KOBO_ROSTER, "roster")
    assert "_submission__uuid" in members[0]

    # a later, cumulative re-export of both Kobo files: the same households with the same answers (as numbers
    # where the CSV has text)
    def norm(row: dict) -> dict:
        out = {}
        for k, v in row.items():
            text = "" if v is None else str(v)
            try:
                out[k] = float(text)
            except ValueError:
                out[k] = text
        out.pop("_index")
        return out

    before = _kobo_csv_rows(dest / KOBO_CSV) + _xlsx_rows(dest / KOBO_XLSX)
    assert [norm(r) for r in households] == [norm(r) for r in before]
    assert [r["_index"] for r in households] == list(range(1, len(households) + 1))
    by_index = {r["_index"]: r for r in households}
    sizes: dict[int, int] = {}
    for m in members:
        hh = by_index[m["_parent_index"]]
        assert (
            m["_submission__uuid"] == hh["_uuid"]
            and m["_parent_table_name"] == "Community Needs Assessment 2026"
        )
        sizes[m["_parent_index"]] = sizes.get(m["_parent_index"], 0) + 1
        age = m["household/roster/ind_age"]
        assert isinstance(age, int) and 0 <= age <= 110
        assert (m["household/roster/ind_school"] is not None) == (5 <= age <= 17)
        assert all((m[f"household/roster/wgq_{d}"] is not None) == (age >= 5) for d in WG)
    for r in households:  # repeat_count = ${hh_size}: one member per person, none without consent
        assert sizes.get(r["_index"], 0) == (r["household/hh_size"] or 0)

    files = _zip_rows(dest / ODK_ZIP)
    assert list(files) == ["cna_2026.csv", "cna_2026-roster.csv"]
    main, roster = files["cna_2026.csv"], files["cna_2026-roster.csv"]
    assert list(main[0]) == list(_odk_rows(dest / ODK_CSV)[0])
    assert sorted(r["KEY"] for r in main) == sorted(r["KEY"] for r in _odk_rows(dest / ODK_CSV))
    assert list(roster[0])[-2:] == ["PARENT_KEY", "KEY"]
    keys = {r["KEY"]: r for r in main}
    counts: dict[str, int] = {}
    for m in roster:
        counts[m["PARENT_KEY"]] = counts.get(m["PARENT_KEY"], 0) + 1
        assert m["KEY"] == f"{m['PARENT_KEY']}/household/roster[{counts[m['PARENT_KEY']]}]"
    assert all(counts.get(k, 0) == int(r["household-hh_size"] or 0) for k, r in keys.items())


def test_roster_from_kobo_xlsx_and_central_zip_gives_the_same_member_estimates(tmp_path):
    """The same submissions exported both ways (Kobo XLSX with a repeat sheet, ODK Central csv.zip) load the
    same members and give identical estimates, households and members alike."""
    import duckdb

    from assess.demo import _fields, _odk_columns, _survey_rows, _write_central_zip, demo_records, quality
    from tests._store import build_store

    households = 240
    stores = {}
    for kind in ("kobo", "odk"):
        dest = tmp_path / kind
        write_demo(dest, households=households)
        raw = dest / "data" / "raw"
        keep = KOBO_ROSTER if kind == "kobo" else None
        for f in raw.iterdir():
            if f.relative_to(dest).as_posix() != keep:
                f.unlink()
        if kind == "odk":  # the Kobo roster file's households, as ODK Central would export them
            fields, _, exports = demo_records(households)
            quality.add_suspicious(exports, 20261125)  # as write_demo plants them (issue 17)
            roster = _fields(_survey_rows(), "roster")
            _write_central_zip(
                raw / "cna_2026.csv.zip", _odk_columns(fields), roster, exports[0] + exports[1]
            )
        settings, _, run = build_store(dest)
        assert [f.status.value for f in run.files] == ["loaded"] and run.files[0].quarantined == 0
        stores[kind] = settings.store_path
    rows = {}
    for kind, path in stores.items():
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows[kind] = con.execute(
                "SELECT unit, level, area, indicator, option, estimate, ci_low, ci_high, se, n, n_households, "
                "n_option, weighted_n, df, suppressed FROM estimates ORDER BY ALL"
            ).fetchall()
            members = con.execute("SELECT count(*), count(DISTINCT submission_id) FROM r_roster").fetchone()
        finally:
            con.close()
        assert members is not None and members[0] > 3 * members[1] > 0
    roster = [r for r in rows["kobo"] if r[0] == "roster"]
    assert len(roster) > 20 and len(roster) == sum(r[0] == "roster" for r in rows["odk"])
    assert {r[3] for r in roster} == {"ind_sex", "ind_school", "ind_disability"}
    # equal: every key and count exactly, the floats to rounding (DuckDB sums doubles in parallel, in any order)
    assert [r[:5] + r[9:12] + r[13:] for r in rows["kobo"]] == [r[:5] + r[9:12] + r[13:] for r in rows["odk"]]
    for a, b in zip(rows["kobo"], rows["odk"], strict=True):
        floats = [a[i] for i in (5, 6, 7, 8, 12)], [b[i] for i in (5, 6, 7, 8, 12)]
        assert floats[0] == pytest.approx(floats[1], rel=1e-12, abs=1e-15), a[:5]
