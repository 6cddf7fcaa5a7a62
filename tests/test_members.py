"""Member-level estimates (questions of a repeat group such as the household roster) and household numbers
made from the members (`[[indicators.members]]`), against R's survey package.

Until the readers store repeat groups, the tests write the store's repeat table themselves, as the store
contract has it: `r_<repeat>` (round, submission_id = the household's id, path, parent_path, source_file,
source_sha256, source_member, source_row, loaded_at, then one typed column per question of the repeat).
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from assess.core.settings import ConfigError, MemberIndicatorSpec, Settings, indicator_specs, load_settings
from assess.core.sqlutil import quote
from assess.core.xlsform import XLSForm, read_xlsform
from assess.estimate.run import check_config_against_form, run_estimates
from assess.store.connection import connect

R_SCRIPT = Path(__file__).parent / "data" / "r_reference" / "members_case.R"
CONFIG = Path("/x/assessment.toml")

# --------------------------------------------------------------------------------------------------
# The clustered, stratified, weighted case (written out as CSV inside members_case.R for R)
# --------------------------------------------------------------------------------------------------

HOUSEHOLDS = [  # submission_id, stratum, cluster, weight, region (None: unknown)
    ("h01", "A", "1", 17.0, "north"),
    ("h02", "A", "1", 17.0, "south"),
    ("h03", "A", "2", 17.0, "south"),
    ("h04", "A", "2", 19.5, "south"),
    ("h05", "A", "3", 17.0, None),
    ("h06", "A", "3", 17.0, "north"),
    ("h07", "A", "3", 17.0, "south"),  # no roster rows
    ("h08", "B", "1", 32.5, "north"),
    ("h09", "B", "1", 32.5, "south"),
    ("h10", "B", "1", 30.0, "north"),
    ("h11", "B", "2", 30.0, "south"),
    ("h12", "B", "2", 35.0, "north"),
    ("h13", "B", "3", 37.5, "south"),
    ("h14", "B", "3", 30.0, "south"),
    ("h15", "C", "1", 57.5, "south"),
    ("h16", "C", "1", 62.5, "north"),
    ("h17", "C", "2", 62.5, "south"),
    ("h18", "C", "2", 62.5, "north"),
]
MEMBERS = [  # submission_id, row, ind_sex, ind_age (999: missing code), ind_act (select_multiple), wgq_vision
    ("h01", 1, "f", 15, "work", "no_difficulty"),
    ("h01", 2, "f", 54, "work", "no_difficulty"),
    ("h01", 3, "f", 32, "none", "no_difficulty"),
    ("h02", 1, "f", 51, "work care", "no_difficulty"),
    ("h02", 2, "f", 60, None, "no_difficulty"),
    ("h02", 3, "f", 64, "school", "some_difficulty"),
    ("h03", 1, None, 33, "work", "no_difficulty"),
    ("h04", 1, "m", 65, "care", "no_difficulty"),
    ("h04", 2, "m", 4, "none", "a_lot_of_difficulty"),
    ("h04", 3, "f", 18, None, "a_lot_of_difficulty"),
    ("h04", 4, "f", 32, "school", "a_lot_of_difficulty"),
    ("h04", 5, "f", 28, "school care", "no_difficulty"),
    ("h05", 1, "m", None, None, "some_difficulty"),
    ("h05", 2, None, None, "care", "cannot_do"),
    ("h05", 3, "f", None, "work", "some_difficulty"),
    ("h05", 4, None, None, "school care", "no_difficulty"),
    ("h06", 1, "f", None, "care", "cannot_do"),
    ("h06", 2, "m", None, "work", "no_difficulty"),
    ("h08", 1, None, 43, "school work", "some_difficulty"),
    ("h09", 1, "m", 31, None, "no_difficulty"),
    ("h09", 2, "f", 9, "none", "no_difficulty"),
    ("h09", 3, None, 36, "none", "no_difficulty"),
    ("h09", 4, "f", 58, "care", "no_difficulty"),
    ("h10", 1, "f", 6, None, "a_lot_of_difficulty"),
    ("h10", 2, "f", None, None, "no_difficulty"),
    ("h10", 3, "f", 47, None, "cannot_do"),
    ("h10", 4, "f", 16, "care", "a_lot_of_difficulty"),
    ("h11", 1, None, 45, "none", "no_difficulty"),
    ("h11", 2, "m", 38, None, "a_lot_of_difficulty"),
    ("h12", 1, "f", 56, "school care", "no_difficulty"),
    ("h12", 2, None, 68, "care", "no_difficulty"),
    ("h13", 1, "f", 29, None, "no_difficulty"),
    ("h14", 1, "f", 46, "care", "some_difficulty"),
    ("h14", 2, "f", 999, None, "no_difficulty"),
    ("h14", 3, "f", 45, "school", "some_difficulty"),
    ("h15", 1, "f", 61, "school work", "some_difficulty"),
    ("h16", 1, "m", 38, "school work", "no_difficulty"),
    ("h16", 2, "m", 18, "care", "some_difficulty"),
    ("h16", 3, "f", 30, "school", "no_difficulty"),
    ("h16", 4, None, 35, "school", "no_difficulty"),
    ("h16", 5, "f", 25, "work", "no_difficulty"),
    ("h17", 1, "m", 40, "none", "no_difficulty"),
    ("h17", 2, "m", 56, "none", "no_difficulty"),
    ("h17", 3, "f", None, "work care", "some_difficulty"),
    ("h17", 4, "f", 48, "school", "no_difficulty"),
    ("h17", 5, "f", 15, "school", "no_difficulty"),
    ("h18", 1, "m", 22, "school", "cannot_do"),
]

MEMBER_INDICATORS = [
    {"name": "children_5_17", "repeat": "roster", "count": "${ind_age} >= 5 and ${ind_age} <= 17"},
    {
        "name": "any_disability",
        "repeat": "roster",
        "any": "selected(${wgq_vision}, 'a_lot_of_difficulty') or selected(${wgq_vision}, 'cannot_do')",
    },
    {"name": "all_adults", "repeat": "roster", "all": "${ind_age} >= 18"},
    {"name": "share_female", "repeat": "roster", "share": "${ind_sex} = 'f'"},
]

# R's numbers for this case: the output of `Rscript members_case.R` in tests/data/r_reference (R 4.2.2, survey
# 4.1.1, Debian r-base-core + r-cran-survey), pasted as printed (15 significant digits). The script builds the
# member table (each member with its household's stratum, cluster, weight and region; age 999 -> NA as
# [needs] missing_codes = [999]; one 0/1 column per answer or option, NA when unanswered) and the household
# table with the four [[indicators.members]] numbers (conditions on the answers as entered, an unknown
# condition does not match, no roster row -> NA), then for design 'cluster'
# svydesign(ids = ~cluster, strata = ~stratum, weights = ~w, nest = TRUE, data = members | households) and for
# design 'household' the same with ids = ~hid (the PSU of a member is its household); per variable
# sub <- subset(design, !is.na(v)), svymean(~v, sub) nationally and on subset(sub, region == area) (checked
# equal to svyby(~v, ~region, sub, svymean)), confint(df = degf(sub)); lonely PSU "certainty" (not needed
# here). n = units with a value, n_households = distinct households among them.
R_RESULTS = """\
design,unit,area,variable,estimate,se,ci_low,ci_high,df,n,n_households
cluster,roster,all,ind_sex.f,0.670588235294118,0.0564612462138969,0.525449981359285,0.815726489228951,5,39,15
cluster,roster,north,ind_sex.f,0.629864253393665,0.0823883240910887,0.418078324016595,0.841650182770736,5,15,6
cluster,roster,south,ind_sex.f,0.707175177763413,0.0979197944217772,0.455464332873551,0.958886022653276,5,22,8
cluster,roster,all,ind_sex.m,0.329411764705882,0.0564612462138969,0.184273510771049,0.474550018640715,5,39,15
cluster,roster,north,ind_sex.m,0.370135746606335,0.0823883240910887,0.158349817229264,0.581921675983405,5,15,6
cluster,roster,south,ind_sex.m,0.292824822236587,0.0979197944217772,0.0411139773467245,0.544535667126449,5,22,8
cluster,roster,all,ind_age,36.645757795504,2.51503927256678,29.6628893178057,43.6286262732023,4,38,15
cluster,roster,north,ind_age,32.375909458367,3.86185766640531,21.6536736435054,43.0981452732286,4,15,6
cluster,roster,south,ind_age,40.1183431952663,3.14795745415876,31.3782121302963,48.8584742602363,4,23,9
cluster,roster,all,ind_act.school,0.453383458646616,0.0548517557690771,0.312382531613868,0.594384385679365,5,37,16
cluster,roster,north,ind_act.school,0.535864978902954,0.0435592575655962,0.423892342631028,0.647837615174879,5,15,7
cluster,roster,south,ind_act.school,0.391114348142753,0.0737337019520412,0.201575833230614,0.580652863054892,5,19,8
cluster,roster,all,ind_act.work,0.285338345864662,0.0949763442455638,0.0411938805318739,0.529482811197449,5,37,16
cluster,roster,north,ind_act.work,0.351898734177215,0.0852122430227747,0.132853690089043,0.570943778265387,5,15,7
cluster,roster,south,ind_act.work,0.224326292789512,0.0803767945982792,0.0177111645885045,0.43094142099052,5,19,8
cluster,roster,all,ind_act.care,0.296616541353383,0.0300105665458578,0.219471924113447,0.37376115859332,5,37,16
cluster,roster,north,ind_act.care,0.30295358649789,0.0848205237513188,0.0849154888535917,0.520991684142189,5,15,7
cluster,roster,south,ind_act.care,0.263656227239621,0.0341273936910255,0.175928968919862,0.351383485559381,5,19,8
cluster,roster,all,ind_act.none,0.192857142857143,0.0987558213618753,-0.0610027776990385,0.446717063413324,5,37,16
cluster,roster,north,ind_act.none,0.0286919831223629,0.0298403720791153,-0.0480151353128399,0.105399101557566,5,15,7
cluster,roster,south,ind_act.none,0.348871085214858,0.0885545190903444,0.12123444697771,0.576507723452006,5,19,8
cluster,household,all,children_5_17,0.298093587521664,0.182338639404294,-0.170622806865653,0.766809981908981,5,17,17
cluster,household,north,children_5_17,0.300194931773879,0.193857341304759,-0.198131228488885,0.798521092036643,5,7,7
cluster,household,south,children_5_17,0.313014827018122,0.240486506143743,-0.305175417390623,0.931205071426867,5,9,9
cluster,household,all,any_disability,0.305025996533795,0.126605749107252,-0.0204244424084344,0.630476435476025,5,17,17
cluster,household,north,any_disability,0.426900584795322,0.258852773027857,-0.238501651654177,1.09230282124482,5,7,7
cluster,household,south,any_disability,0.163097199341021,0.121519913582405,-0.149279683182002,0.475474081864045,5,9,9
cluster,household,all,all_adults,0.661178509532062,0.14233641281284,0.295291112205745,1.02706590685838,5,17,17
cluster,household,north,all_adults,0.750487329434698,0.0932709246530187,0.510726784728645,0.990247874140751,5,7,7
cluster,household,south,all_adults,0.622734761120264,0.242732381193065,-0.00122868889537997,1.24669821113591,5,9,9
cluster,household,all,share_female,0.536741767764298,0.118739781893093,0.231511441262497,0.8419720942661,5,17,17
cluster,household,north,share_female,0.382066276803119,0.106593901506209,0.108057929801653,0.656074623804585,5,7,7
cluster,household,south,share_female,0.683525535420099,0.153829073411651,0.288095313515345,1.07895575732485,5,9,9
household,roster,all,ind_sex.f,0.670588235294118,0.0609788559150111,0.537726721688062,0.803449748900173,12,39,15
household,roster,north,ind_sex.f,0.629864253393665,0.116030980322903,0.377054464827257,0.882674041960073,12,15,6
household,roster,south,ind_sex.f,0.707175177763413,0.0780572405223779,0.537103060664835,0.877247294861991,12,22,8
household,roster,all,ind_sex.m,0.329411764705882,0.0609788559150111,0.196550251099827,0.462273278311938,12,39,15
household,roster,north,ind_sex.m,0.370135746606335,0.116030980322903,0.117325958039927,0.622945535172743,12,15,6
household,roster,south,ind_sex.m,0.292824822236587,0.0780572405223778,0.122752705138009,0.462896939335165,12,22,8
household,roster,all,ind_age,36.645757795504,3.20566715059245,29.6612090801504,43.6303065108576,12,38,15
household,roster,north,ind_age,32.375909458367,4.13916692203834,23.3574394644957,41.3943794522384,12,15,6
household,roster,south,ind_age,40.1183431952663,2.92428156257532,33.7468810091678,46.4898053813647,12,23,9
household,roster,all,ind_act.school,0.453383458646616,0.0601191530396963,0.323503924766567,0.583262992526666,13,37,16
household,roster,north,ind_act.school,0.535864978902954,0.0810745727776085,0.360714013038097,0.71101594476781,13,15,7
household,roster,south,ind_act.school,0.391114348142753,0.078613295759887,0.221280648001854,0.560948048283652,13,19,8
household,roster,all,ind_act.work,0.285338345864662,0.0678394891433478,0.138780039848925,0.431896651880398,13,37,16
household,roster,north,ind_act.work,0.351898734177215,0.0844401378639923,0.169476906988449,0.534320561365981,13,15,7
household,roster,south,ind_act.work,0.224326292789512,0.0858924131708564,0.038767015547242,0.409885570031782,13,19,8
household,roster,all,ind_act.care,0.296616541353383,0.0485553192007256,0.19171915164759,0.401513931059177,13,37,16
household,roster,north,ind_act.care,0.30295358649789,0.108282639992799,0.0690231650184033,0.536884007977377,13,15,7
household,roster,south,ind_act.care,0.263656227239621,0.0498297749208429,0.156005543342037,0.371306911137206,13,19,8
household,roster,all,ind_act.none,0.192857142857143,0.0901917034453583,-0.0019901863391964,0.387704472053482,13,37,16
household,roster,north,ind_act.none,0.0286919831223629,0.0304485808968742,-0.0370881766810159,0.0944721429257417,13,15,7
household,roster,south,ind_act.none,0.348871085214858,0.0791739639465694,0.177826135096774,0.519916035332942,13,19,8
household,household,all,children_5_17,0.298093587521664,0.157456286092411,-0.0396165588183176,0.635803733861645,14,17,17
household,household,north,children_5_17,0.300194931773879,0.239486027577207,-0.213451512116031,0.813841375663789,14,7,7
household,household,south,children_5_17,0.313014827018122,0.199942491730809,-0.115819167595234,0.741848821631478,14,9,9
household,household,all,any_disability,0.305025996533795,0.134394778750144,0.0167778641448277,0.593274128922763,14,17,17
household,household,north,any_disability,0.426900584795322,0.23426030541698,-0.0755377997705757,0.929338969361219,14,7,7
household,household,south,any_disability,0.163097199341021,0.117157170971264,-0.0881799413522564,0.414374340034299,14,9,9
household,household,all,all_adults,0.661178509532062,0.134737407049255,0.372195512528258,0.950161506535867,14,17,17
household,household,north,all_adults,0.750487329434698,0.143099884253545,0.443568602645116,1.05740605622428,14,7,7
household,household,south,all_adults,0.622734761120264,0.20259917685787,0.188202743612398,1.05726677862813,14,9,9
household,household,all,share_female,0.536741767764298,0.112871328241524,0.294656845504277,0.77882669002432,14,17,17
household,household,north,share_female,0.382066276803119,0.139473879497375,0.082924556744897,0.681207996861341,14,7,7
household,household,south,share_female,0.683525535420099,0.123415709650997,0.418825164280711,0.948225906559486,14,9,9
"""

SURVEY = [  # type, name, label, repeat_count
    ("text", "stratum", "Stratum"),
    ("text", "cluster", "Cluster"),
    ("decimal", "w", "Weight"),
    ("select_one region", "region", "Region"),
    ("integer", "hh_size", "Household size"),
    ("begin_repeat", "roster", "Household members", "${hh_size}"),
    ("text", "ind_name", "Name"),
    ("select_one sex", "ind_sex", "Sex"),
    ("integer", "ind_age", "Age"),
    ("select_multiple act", "ind_act", "Main activities"),
    ("select_one wgq", "wgq_vision", "Difficulty seeing"),
    ("begin_repeat", "child", "Children of this member"),
    ("integer", "child_age", "Age of the child"),
    ("end_repeat", "child"),
    ("end_repeat", "roster"),
    ("begin_repeat", "deaths", "Deaths"),
    ("integer", "death_age", "Age at death"),
    ("end_repeat", "deaths"),
]
CHOICES = [
    ("region", "north", "North"),
    ("region", "south", "South"),
    ("sex", "f", "Female"),
    ("sex", "m", "Male"),
    ("act", "school", "School"),
    ("act", "work", "Work"),
    ("act", "care", "Care"),
    ("act", "none", "None"),
    ("wgq", "no_difficulty", "No difficulty"),
    ("wgq", "some_difficulty", "Some difficulty"),
    ("wgq", "a_lot_of_difficulty", "A lot of difficulty"),
    ("wgq", "cannot_do", "Cannot do at all"),
]
REPEAT_COLUMNS = (
    "round VARCHAR, submission_id VARCHAR, path VARCHAR, parent_path VARCHAR, source_file VARCHAR, "
    "source_sha256 VARCHAR, source_member VARCHAR, source_row BIGINT, loaded_at TIMESTAMP"
)


def write_roster_form(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(("type", "name", "label::English (en)", "repeat_count"))
    for row in SURVEY:
        ws.append(row)
    ch = wb.create_sheet("choices")
    ch.append(("list_name", "name", "label::English (en)"))
    for choice in CHOICES:
        ch.append(choice)
    st = wb.create_sheet("settings")
    st.append(("form_title", "form_id", "default_language"))
    st.append(("Roster form", "roster_form", "English (en)"))
    wb.save(path)
    return path


def repeat_table(
    con: duckdb.DuckDBPyConnection, form: XLSForm, repeat: str, rows: list[dict], round_: str
) -> None:
    """`r_<repeat>` as the store keeps it: fixed columns, then one typed column per question of the repeat."""
    typed = {"integer": "BIGINT", "decimal": "DOUBLE"}
    questions = [q for q in form.questions.values() if q.repeat == repeat]
    cols = ", ".join(f"{quote(q.name)} {typed.get(q.type, 'VARCHAR')}" for q in questions)
    table = form.repeats[repeat].table
    con.execute(
        f"CREATE TABLE {quote(table)} ({REPEAT_COLUMNS}, {cols}, PRIMARY KEY (round, submission_id, path))"
    )
    names = [q.name for q in questions]
    for i, row in enumerate(rows, start=2):
        con.execute(
            f"INSERT INTO {quote(table)} VALUES (?, ?, ?, ?, 'roster.csv', 'sha', 'roster', ?, now(), "
            f"{', '.join('?' * len(names))})",
            [
                round_,
                row["submission_id"],
                row["path"],
                row.get("parent_path", ""),
                i,
                *(row.get(n) for n in names),
            ],
        )


def case_store(tmp_path: Path, **overrides) -> tuple[duckdb.DuckDBPyConnection, Settings, XLSForm]:
    """A store holding the case: households in `submissions`, members in `r_roster`."""
    form = read_xlsform(write_roster_form(tmp_path / "form.xlsx"))
    settings = Settings(
        config_path=tmp_path / "assessment.toml",
        root=tmp_path,
        xlsform=tmp_path / "form.xlsx",
        round="r1",
        processed=tmp_path / "processed",
        region_levels=("region",),
        strata="stratum",
        cluster="cluster",
        weight="w",
        needs=(
            "ind_sex",
            "ind_age",
            "ind_act",
            "children_5_17",
            "any_disability",
            "all_adults",
            "share_female",
        ),
        missing_codes=(999.0,),
        min_cell=1,
        indicators=indicator_specs({"members": MEMBER_INDICATORS}, CONFIG),
    )
    settings = dataclasses.replace(settings, **overrides)
    check_config_against_form(settings, form)
    con = connect(tmp_path / "assessment.duckdb")
    for col, kind in (
        ("stratum", "VARCHAR"),
        ("cluster", "VARCHAR"),
        ("w", "DOUBLE"),
        ("region", "VARCHAR"),
        ("hh_size", "BIGINT"),
    ):
        con.execute(f"ALTER TABLE submissions ADD COLUMN {col} {kind}")
    sizes = {h: sum(m[0] == h for m in MEMBERS) for h, *_ in HOUSEHOLDS}
    for i, (sid, stratum, cluster, w, region) in enumerate(HOUSEHOLDS, start=2):
        con.execute(
            "INSERT INTO submissions (round, submission_id, source_file, source_sha256, source_row, loaded_at, "
            "stratum, cluster, w, region, hh_size) VALUES ('r1', ?, 'hh.csv', 'sha', ?, now(), ?, ?, ?, ?, ?)",
            [sid, i, stratum, cluster, w, region, sizes[sid] or None],
        )
    repeat_table(
        con,
        form,
        "roster",
        [
            {
                "submission_id": sid,
                "path": f"roster[{k}]",
                "ind_sex": sex,
                "ind_age": age,
                "ind_act": act,
                "wgq_vision": vision,
                "ind_name": f"person {k}",
            }
            for sid, k, sex, age, act, vision in MEMBERS
        ],
        "r1",
    )
    return con, settings, form


def _r_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(R_RESULTS.splitlines()))


def _csv_text(rows: list[tuple], header: list[str]) -> str:
    return "\n".join([",".join(header)] + [",".join("NA" if v is None else str(v) for v in r) for r in rows])


def test_the_r_script_holds_this_data():
    blocks = re.findall(r'read\.csv\(text = "\n(.*?)\n"', R_SCRIPT.read_text(encoding="utf-8"), re.S)
    assert blocks == [
        _csv_text(HOUSEHOLDS, ["hid", "stratum", "cluster", "w", "region"]),
        _csv_text(MEMBERS, ["hid", "row", "sex", "age", "act", "vision"]),
    ]


@pytest.mark.parametrize("design", ["cluster", "household"])
def test_member_estimates_match_r_survey(tmp_path, design):
    con, settings, form = case_store(tmp_path, cluster="cluster" if design == "cluster" else None)
    try:
        run_estimates(con, settings, form)
        ours = {
            (r[0], r[1], r[2], r[3] + (f".{r[4]}" if r[4] else "")): r[5:]
            for r in con.execute(
                "SELECT unit, level, area, indicator, option, estimate, se, ci_low, ci_high, df, n, n_households, "
                "suppressed FROM estimates WHERE round = 'r1'"
            ).fetchall()
        }
    finally:
        con.close()
    expected = [r for r in _r_rows() if r["design"] == design]
    assert len(expected) == 33
    for r in expected:
        unit = "roster" if r["unit"] == "roster" else "household"
        level = "national" if r["area"] == "all" else "region"
        key = (unit, level, r["area"], r["variable"])
        assert key in ours, key
        estimate, se, ci_low, ci_high, df, n, n_households, suppressed = ours[key]
        assert (df, n, n_households, suppressed) == (
            int(r["df"]),
            int(r["n"]),
            int(r["n_households"]),
            False,
        ), key
        for got, want in (
            (estimate, r["estimate"]),
            (se, r["se"]),
            (ci_low, r["ci_low"]),
            (ci_high, r["ci_high"]),
        ):
            assert got == pytest.approx(float(want), rel=1e-12, abs=1e-14), key
    assert len(ours) == len(
        expected
    )  # and nothing else (h05, of unknown region, is in the national rows only)


def test_members_carry_their_household_design(tmp_path):
    con, settings, form = case_store(tmp_path, min_cell=7)
    try:
        run_estimates(con, settings, form)
        units = con.execute(
            "SELECT _unit, count(*), count(DISTINCT _hh) FROM est_units GROUP BY 1 ORDER BY 1"
        ).fetchall()
        # every member has its household's weight, stratum, PSU and region
        mismatched = con.execute(
            "SELECT count(*) FROM est_units m JOIN est_units h ON h._rid = m._hh AND h._unit = 'household' "
            "WHERE m._unit = 'roster' AND (m._weight <> h._weight OR m._stratum <> h._stratum OR m._psu <> h._psu "
            "OR m._lvl0 IS DISTINCT FROM h._lvl0 OR m.submission_id <> h.submission_id)"
        ).fetchone()[0]
        north = con.execute(
            "SELECT n, n_households, suppressed, estimate FROM estimates WHERE unit = 'roster' AND level = 'region' "
            "AND area = 'north' AND indicator = 'ind_sex' AND option = 'f'"
        ).fetchone()
        national = con.execute(
            "SELECT n, n_households, suppressed FROM estimates WHERE unit = 'roster' AND level = 'national' "
            "AND indicator = 'ind_sex' AND option = 'f'"
        ).fetchone()
        households = con.execute(
            "SELECT in_estimates FROM household_counts WHERE level = 'national'"
        ).fetchone()
        kinds = dict(con.execute("SELECT DISTINCT indicator, unit FROM estimates").fetchall())
    finally:
        con.close()
    assert units == [("household", 18, 18), ("roster", 47, 17)]  # h07 has no roster row
    assert mismatched == 0
    # 15 members but only 6 households: below min_cell = 7 on households, so suppressed (the value stays stored)
    assert north[:3] == (15, 6, True) and north[3] is not None
    assert national == (39, 15, False)
    assert households == (17,)
    assert kinds == {
        "ind_sex": "roster",
        "ind_age": "roster",
        "ind_act": "roster",
        "children_5_17": "household",
        "any_disability": "household",
        "all_adults": "household",
        "share_female": "household",
    }


def test_member_indicator_values_per_household(tmp_path):
    con, settings, form = case_store(tmp_path)
    con.execute("ALTER TABLE submissions ADD COLUMN n_deaths BIGINT")
    con.execute(
        "UPDATE submissions SET n_deaths = CASE WHEN submission_id = 'h01' THEN 1 "
        "WHEN submission_id IN ('h02', 'h03') THEN 0 END"
    )
    form.repeats["deaths"] = dataclasses.replace(form.repeats["deaths"], repeat_count="${n_deaths}")
    repeat_table(con, form, "deaths", [{"submission_id": "h01", "path": "deaths[1]", "death_age": 3}], "r1")
    extra = [
        {"name": "deaths_u5", "repeat": "deaths", "count": "${death_age} < 5"},
        {"name": "any_death_u5", "repeat": "deaths", "any": "${death_age} < 5"},
        {"name": "all_deaths_u5", "repeat": "deaths", "all": "${death_age} < 5"},
        {"name": "older_in_small", "repeat": "roster", "count": "${ind_age} >= 60 and ${hh_size} <= 3"},
        {"name": "children_anywhere", "repeat": "child", "count": "${child_age} < 18"},
    ]
    settings = dataclasses.replace(
        settings,
        needs=(*settings.needs, *(e["name"] for e in extra)),
        indicators=indicator_specs({"members": MEMBER_INDICATORS + extra}, CONFIG),
    )
    check_config_against_form(settings, form)
    try:
        run_estimates(con, settings, form)
        values = {
            (r[0], r[1]): r[2]
            for r in con.execute(
                "SELECT u.submission_id, v.indicator, v.y FROM est_values v JOIN est_units u USING (_rid) "
                "WHERE u._unit = 'household'"
            ).fetchall()
        }
        stored = con.execute("SELECT DISTINCT indicator FROM estimates WHERE unit = 'household'").fetchall()
    finally:
        con.close()
    assert values[("h04", "children_5_17")] == 0 and values[("h10", "children_5_17")] == 2
    assert values[("h09", "children_5_17")] == 1
    assert values[("h04", "any_disability")] == 1 and values[("h01", "any_disability")] == 0
    assert (
        values[("h16", "all_adults")] == 1 and values[("h14", "all_adults")] == 1
    )  # 999 is >= 18, as in the form
    assert values[("h09", "all_adults")] == 0
    assert values[("h16", "share_female")] == pytest.approx(2 / 5)  # unknown sex counts as not female
    for name in ("children_5_17", "any_disability", "all_adults", "share_female"):
        assert values[("h07", name)] is None  # no roster row: no answer, not zero
    # deaths: h01 one death; h02, h03 none by the form (repeat_count 0): count/any 0, all of nothing unknown;
    # the other households did not say: no value
    assert [values[(h, "deaths_u5")] for h in ("h01", "h02", "h03", "h04")] == [1, 0, 0, None]
    assert [values[(h, "any_death_u5")] for h in ("h01", "h02", "h04")] == [1, 0, None]
    assert [values[(h, "all_deaths_u5")] for h in ("h01", "h02")] == [1, None]
    # household questions in a member condition: h02 has 3 members, two aged 60+
    assert values[("h02", "older_in_small")] == 2 and values[("h04", "older_in_small")] == 0
    # a repeat the store has no table for yet: nothing to estimate, no error
    assert all(ind != "children_anywhere" for ind, _ in values)
    assert ("children_anywhere",) not in stored


def test_member_config_is_parsed_and_checked(tmp_path):
    specs = indicator_specs({"members": MEMBER_INDICATORS}, CONFIG).members
    assert specs[0] == MemberIndicatorSpec(
        name="children_5_17", repeat="roster", aggregate="count", when="${ind_age} >= 5 and ${ind_age} <= 17"
    )
    assert [s.aggregate for s in specs] == ["count", "any", "all", "share"]

    form = read_xlsform(write_roster_form(tmp_path / "form.xlsx"))
    base = Settings(
        config_path=CONFIG,
        root=Path("/x"),
        xlsform=Path("form.xlsx"),
        needs=("ind_sex", "children_5_17"),
        indicators=indicator_specs({"members": MEMBER_INDICATORS}, CONFIG),
    )
    assert check_config_against_form(base, form) == []

    def problem(entry: dict, needs: tuple[str, ...] = ()) -> str:
        s = dataclasses.replace(base, needs=needs, indicators=indicator_specs({"members": [entry]}, CONFIG))
        with pytest.raises(ConfigError) as exc:
            check_config_against_form(s, form)
        return str(exc.value)

    assert (
        "repeat 'rooster' is not a repeat group of the form form.xlsx (its repeat groups: roster, child, "
        "deaths)" in problem({"name": "x", "repeat": "rooster", "count": "${ind_age} > 1"})
    )
    assert "'ind_sex' is already a question" in problem(
        {"name": "ind_sex", "repeat": "roster", "any": "true()"}
    )
    assert "'${child_age}' is a question of the repeat 'child'" in problem(
        {"name": "x", "repeat": "roster", "count": "${child_age} > 1"}
    )
    assert "'${agee}' is not a question" in problem({"name": "x", "repeat": "roster", "count": "${agee} > 1"})
    assert "cannot be used" in problem(
        {"name": "x", "repeat": "roster", "count": "jr:choice-name(${ind_sex}) = 'x'"}
    )
    with pytest.raises(ConfigError, match=r"\[needs\] question 'nothing' is not in the form"):
        check_config_against_form(dataclasses.replace(base, needs=("nothing",)), form)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"repeat": "roster", "count": "${a} > 1"}, r"entry 1 needs a 'name' for the new household column"),
        ({"name": "1x", "repeat": "roster", "count": "${a} > 1"}, r"entry 1 needs a 'name' .*got '1x'"),
        (
            {"name": "fcs_score", "repeat": "roster", "count": "${a} > 1"},
            r"'fcs_score' is used by a composite",
        ),
        ({"name": "x", "count": "${a} > 1"}, r"entry 1 \('x'\) needs 'repeat'"),
        ({"name": "x", "repeat": "roster"}, r"needs exactly one of count, any, all, share .*got none"),
        ({"name": "x", "repeat": "roster", "count": "${a}", "any": "${a}"}, r"got count and any"),
        ({"name": "x", "repeat": "roster", "share": 3}, r"share must be a condition in quotes"),
        ({"name": "x", "repeat": "roster", "all": "${a} >"}, r"the condition \"\$\{a\} >\" cannot be read"),
        (
            {"name": "x", "repeat": "roster", "any": "${a} = 1", "when": "x"},
            r"unknown key 'when' in \[\[indicators\.members\]\] entry 1 \('x'\)",
        ),
        (
            {"name": "x", "repeat": "roster", "any": "${a} = 1", "label": ""},
            r"label must be a non-empty text",
        ),
    ],
)
def test_member_config_mistakes_name_the_entry(entry, message):
    with pytest.raises(ConfigError, match=message):
        indicator_specs({"members": [entry]}, CONFIG)
    with pytest.raises(ConfigError, match="name 'x' is already entry 1"):
        indicator_specs({"members": [{"name": "x", "repeat": "r", "any": "${a} = 1"}] * 2}, CONFIG)


def test_member_config_from_the_file(tmp_path):
    (tmp_path / "form.xlsx").touch()
    text = (
        '[survey]\nxlsform = "form.xlsx"\n[needs]\nquestions = ["children_5_17"]\n'
        '[[indicators.members]]\nname = "children_5_17"\nrepeat = "roster"\n'
        'count = "${ind_age} >= 5 and ${ind_age} <= 17"\nlabel = "Children 5-17"\n'
    )
    (tmp_path / "assessment.toml").write_text(text, encoding="utf-8")
    s = load_settings(tmp_path / "assessment.toml")
    assert s.indicators.members == (
        MemberIndicatorSpec(
            name="children_5_17",
            repeat="roster",
            aggregate="count",
            when="${ind_age} >= 5 and ${ind_age} <= 17",
            label="Children 5-17",
        ),
    )
    assert (
        s.indicators.member("children_5_17") is s.indicators.members[0] and s.indicators.member("x") is None
    )


# --------------------------------------------------------------------------------------------------
# The demo with a roster: household estimates unchanged, exports, trends and ranking keep working
# --------------------------------------------------------------------------------------------------


HOUSEHOLD_NEEDS = 'questions = ["priority_needs", "water_source", "shelter_condition", "hh_size"]'
ROSTER_FILES = ("kobo_export_2026-11-16_roster.xlsx", "odk_central_2026-11-16.csv.zip")

ESTIMATE_ROWS = (
    "SELECT round, level, area, indicator, option, estimate, ci_low, ci_high, se, n, n_option, "
    "weighted_n, df, suppressed FROM estimates WHERE unit = 'household' ORDER BY ALL"
)


def _without_roster(demo: Path) -> None:
    """The demo as it was before the roster: no roster exports, no member questions or indicators."""
    for name in ROSTER_FILES:
        (demo / "data" / "raw" / name).unlink()
    config = (demo / "assessment.toml").read_text(encoding="utf-8")
    start = config.index("questions = [")
    config = config[:start] + HOUSEHOLD_NEEDS + config[config.index("]", start) + 1 :]
    config = config[: config.index("# [[indicators.members]]")]
    (demo / "assessment.toml").write_text(config, encoding="utf-8")


def test_demo_with_a_roster_keeps_household_estimates(demo_dir, tmp_path):
    from assess.report import exports
    from tests._store import build_store

    plain = tmp_path / "plain"
    shutil.copytree(demo_dir, plain)
    _without_roster(plain)
    settings, form, _ = build_store(plain)
    con = connect(settings.store_path)
    try:
        before = con.execute(ESTIMATE_ROWS).fetchall()
        assert con.execute("SELECT DISTINCT unit FROM estimates").fetchall() == [("household",)]
        assert con.execute(
            "SELECT count(*) FROM estimates WHERE n_households IS DISTINCT FROM n"
        ).fetchone() == (0,)
    finally:
        con.close()

    settings, form, run = build_store(
        demo_dir
    )  # the demo as written: its roster re-exports replace households
    con = connect(settings.store_path)
    try:
        after = con.execute(ESTIMATE_ROWS).fetchall()
        roster = con.execute(
            "SELECT count(*), min(n), count(*) FILTER (WHERE n_households < n) FROM estimates "
            "WHERE unit = 'roster'"
        ).fetchone()
        member_indicators = con.execute(
            "SELECT DISTINCT indicator FROM estimates WHERE unit = 'roster' ORDER BY 1"
        ).fetchall()
        ranked = con.execute("SELECT DISTINCT indicator FROM ranking WHERE indicator = 'ind_sex'").fetchall()
        out = tmp_path / "estimates.csv"
        exports.export_estimates(con, settings, form, settings.round, out)
    finally:
        con.close()
    # the households' numbers are those of the run without the roster (floats up to summation order)
    new = [r for r in after if r[3] not in ("children_5_17", "any_disability")]
    assert len(new) == len(before)
    for a, b in zip(new, before, strict=True):
        assert [a[i] for i in (0, 1, 2, 3, 4, 9, 10, 12, 13)] == [
            b[i] for i in (0, 1, 2, 3, 4, 9, 10, 12, 13)
        ]
        assert [a[i] for i in (5, 6, 7, 8, 11)] == pytest.approx([b[i] for i in (5, 6, 7, 8, 11)], rel=1e-9)
    # only the questions asked per member are counted over members (not the households' `:need` shares)
    assert member_indicators == [("ind_disability",), ("ind_school",), ("ind_sex",)]
    assert roster[0] > 0 and roster[2] > 0  # members outnumber their households
    assert ranked == [("ind_sex",)]
    assert all(f.quarantined == 0 and f.status.value == "loaded" for f in run.files)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        recs = list(csv.DictReader(fh))
    assert {r["unit"] for r in recs} == {"household", "roster"}
    sex = next(
        r for r in recs if r["unit"] == "roster" and r["level"] == "national" and r["option"] == "female"
    )
    assert sex["indicator_label"] == "Sex of the member" and sex["option_label"] == "Female"
    assert int(sex["n"]) > int(sex["n_households"]) > 0
    children = next(r for r in recs if r["indicator"] == "children_5_17" and r["level"] == "national")
    assert children["unit"] == "household" and children["indicator_label"] == "Children aged 5-17"
    assert children["n"] == children["n_households"]


def test_trends_and_ranking_of_member_estimates(tmp_path):
    con, settings, form = case_store(tmp_path)
    try:  # an earlier round r0 with the same households, where every member answered 'm'
        con.execute(
            "INSERT INTO submissions SELECT * REPLACE ('r0' AS round, loaded_at - INTERVAL 30 DAY AS loaded_at) "
            "FROM submissions"
        )
        con.execute(
            "INSERT INTO r_roster SELECT * REPLACE ('r0' AS round, CASE WHEN ind_sex IS NULL THEN NULL "
            "ELSE 'm' END AS ind_sex) FROM r_roster"
        )
        run_estimates(con, dataclasses.replace(settings, round="r0"), form)
        summary = run_estimates(con, settings, form)
        trend = con.execute(
            "SELECT previous_estimate, estimate, change FROM trends WHERE round = 'r1' "
            "AND level = 'national' AND indicator = 'ind_sex' AND option = 'f'"
        ).fetchone()
        ranked = con.execute(
            "SELECT option, rank FROM ranking WHERE round = 'r1' AND level = 'national' "
            "AND indicator = 'ind_sex' ORDER BY rank"
        ).fetchall()
        units = con.execute(
            "SELECT DISTINCT e.unit FROM trends t JOIN estimates e USING (round, level, area, "
            "indicator, option) ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert summary.trends > 0
    assert trend == pytest.approx((0.0, 0.670588235294118, 0.670588235294118))
    assert ranked == [("f", 1), ("m", 2)]
    assert units == [("household",), ("roster",)]
