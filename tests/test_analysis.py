"""Analysis plans (issue 16): medians, ratios, several group variables against R's survey package (computed
once by hand, code and numbers below), plan errors, disclosure control, and the MSNA template's published
results reproduced row for row through the real pipeline and `assess export results`."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from assess.core.settings import ConfigError, load_settings
from assess.estimate.design import compute_estimates
from assess.estimate.median import compute_medians
from assess.estimate.plan import check_plan, read_plan
from assess.estimate.suppress import complementary_suppression

try:
    from _forms import load_form, make_settings
    from _shared import shared_dir
except ImportError:  # tests collected as a package
    from tests._forms import load_form, make_settings
    from tests._shared import shared_dir

TOL = 1e-6

# A stratified cluster sample with unequal weights: 2 strata, 7 PSUs (ids repeat across strata: nest = TRUE).
R_DATA = """id,stratum,psu,w,sex,admin,x,y
1,A,1,1,f,r1,10,3
2,A,1,1,m,r1,25,
3,A,2,2,f,r1,7,2
4,A,2,2,m,r2,40,8
5,A,3,1,f,r2,12,0
6,A,3,1,m,r2,20,5
7,B,1,3,f,r1,30,6
8,B,1,3,m,r2,18,4
9,B,2,1,f,r2,22,1
10,B,2,1,m,r1,0,2
11,B,3,2,f,r2,15,3
12,B,3,2,m,r1,9,
13,B,4,2,f,r1,50,7
14,B,4,2,m,r2,12,2
"""
# Computed once with R 4.x, survey 4.1.1 (srvyr is not packaged for Debian; these are the calls it makes):
#   d <- read.csv("data.csv")
#   des <- svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE, data=d)
#   dx <- subset(des, !is.na(x))                                    # analysistools filters the variable first
#   svyquantile(~x, dx, 0.5, qrule="school", ci=TRUE)                     # 18 [12, 30]   (n = 14, even)
#   svyquantile(~x, subset(dx, sex=="f"), 0.5, qrule="school", ci=TRUE)   # 18.5 [10, 50] (p*W hits a
#       cumulated weight exactly: "school" averages 15 and 22; qrule="math" gives 15)
#   svyquantile(~x, subset(dx, sex=="m"), 0.5, qrule="school", ci=TRUE)   # 18 [18, 40]
#   d2 <- d; d2$y[is.na(d2$y)] <- 0                                  # numerator_NA_to_0
#   dr <- subset(svydesign(..., data=d2), !is.na(x) & x != 0)         # filter_denominator_0
#   r <- svyratio(~y, ~x, dr); coef(r) -/+ qt(0.975, degf(dr)) * sqrt(r$var)
#       0.166332665330661, SE 0.0212153445799792, [0.111796885916601, 0.220868444744721], df 5
#   rf <- svyratio(~y, ~x, subset(dr, sex=="f"))  (same df: srvyr's degf of the filtered design)
#       0.165467625899281, SE 0.0239217182726156, [0.103974891430486, 0.226960360368076]
#   dy <- subset(des, !is.na(y)); m <- svymean(~y, subset(dy, admin=="r1" & sex=="f"))
#       4.875, SE 0.844906614662236, [2.70309840354029, 7.04690159645971] (qt(0.975, degf(dy)) = df 5)
#   m <- svymean(~y, subset(dy, admin=="r2" & sex=="m"))
#       4.625, SE 1.02840516699402, [1.98140035805064, 7.26859964194936]
R_MEDIAN = {"all": (18, 12, 30), "f": (18.5, 10, 50), "m": (18, 18, 40)}
R_RATIO = {
    "all": (0.166332665330661, 0.0212153445799792, 0.111796885916601, 0.220868444744721),
    "f": (0.165467625899281, 0.0239217182726156, 0.103974891430486, 0.226960360368076),
}
R_MEAN_TWO_GROUPS = {
    "r1 %/% f": (4.875, 0.844906614662236, 2.70309840354029, 7.04690159645971),
    "r2 %/% m": (4.625, 1.02840516699402, 1.98140035805064, 7.26859964194936),
}


@pytest.fixture
def rcon() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("raw_df", pd.read_csv(io.StringIO(R_DATA)))
    con.execute(
        "CREATE TABLE est_units AS SELECT CAST(id AS BIGINT) AS _rid, CAST(w AS DOUBLE) AS _weight, stratum AS _stratum, "
        "CAST(psu AS VARCHAR) AS _psu, sex, admin || ' %/% ' || sex AS admin_sex FROM raw_df"
    )
    con.execute("CREATE TABLE raw AS SELECT * FROM raw_df")
    return con


def test_weighted_median_school_rule_and_woodruff_interval_equal_r(rcon):
    rcon.execute(
        "CREATE TABLE mv AS SELECT CAST(id AS BIGINT) AS _rid, 'x' AS indicator, CAST(x AS DOUBLE) AS y FROM raw"
    )
    compute_medians(rcon, ["sex"], values="mv", min_cell=1)
    got = {
        r[0]: r[1:]
        for r in rcon.execute("SELECT area, estimate, ci_low, ci_high, n, df FROM medians").fetchall()
    }
    for area, (med, low, upp) in R_MEDIAN.items():
        assert got[area][:3] == pytest.approx((med, low, upp), abs=TOL), area
    assert got["all"][3] == 14 and got["all"][4] == 5  # degf(dx) = 7 PSUs - 2 strata


def test_ratio_with_its_filters_equals_r_svyratio(rcon):
    rcon.execute(
        "CREATE TABLE rv AS SELECT CAST(id AS BIGINT) AS _rid, 'r' AS indicator, '' AS option, 'ratio' AS kind, "
        "CASE WHEN x IS NOT NULL AND x <> 0 THEN coalesce(CAST(y AS DOUBLE), 0.0) END AS y, CAST(x AS DOUBLE) AS x "
        "FROM raw"
    )
    compute_estimates(rcon, ["sex"], values="rv", min_cell=1)
    got = {
        r[0]: r[1:]
        for r in rcon.execute("SELECT area, estimate, se, ci_low, ci_high, df FROM estimates").fetchall()
    }
    for area, expected in R_RATIO.items():
        assert got[area][:4] == pytest.approx(expected, abs=TOL), area
    assert got["all"][4] == 5


def test_mean_by_two_group_variables_equals_r(rcon):
    rcon.execute(
        "CREATE TABLE yv AS SELECT CAST(id AS BIGINT) AS _rid, 'y' AS indicator, '' AS option, 'mean' AS kind, "
        "CAST(y AS DOUBLE) AS y FROM raw"
    )
    compute_estimates(rcon, ["admin_sex"], values="yv", min_cell=1)
    got = {
        r[0]: r[1:]
        for r in rcon.execute("SELECT area, estimate, se, ci_low, ci_high FROM estimates").fetchall()
    }
    for area, expected in R_MEAN_TWO_GROUPS.items():
        assert got[area] == pytest.approx(expected, abs=TOL), area


# numerator_NA_to_0 = FALSE: rows with a missing numerator are left out AND the zero denominator too (analysistools
# drops that filter with the flag, which looks like a slip; README). R, same data:
#   a <- subset(des, !is.na(y) & !is.na(x) & x != 0); svyratio(~y, ~x, a)          # 11 rows
#       0.182017543859649, SE 0.0178535337807616, [0.136123574220904, 0.227911513498394]
#   filter_denominator_0 = FALSE (numerator NA -> 0): b <- subset(des2, !is.na(x)); svyratio(~y, ~x, b)  # 14 rows
#       0.170340681362725, SE 0.0197383316734385, [0.119601684497219, 0.221079678228231]
R_RATIO_FLAGS = {
    ("FALSE", "TRUE"): (0.182017543859649, 0.0178535337807616, 0.136123574220904, 0.227911513498394, 11),
    ("TRUE", "FALSE"): (0.170340681362725, 0.0197383316734385, 0.119601684497219, 0.221079678228231, 14),
}


@pytest.mark.parametrize(("na_to_0", "den_0"), list(R_RATIO_FLAGS))
def test_a_plan_ratio_follows_its_flags_as_r_does(tmp_path, na_to_0, den_0):
    """Through plan_results over a store's `submissions`: income / hh_size of the small form, the R data."""
    from assess.estimate.analysis import plan_results
    from assess.estimate.run import build_units

    form = load_form(tmp_path)
    path = _plan(tmp_path, f"ratio,,,0.95,income,hh_size,{na_to_0},{den_0}\n")
    settings = make_settings(
        tmp_path, form.path, region_levels=(), strata="stratum", cluster="psu", weight="w", plan=path
    )
    con = duckdb.connect()
    con.register("raw_df", pd.read_csv(io.StringIO(R_DATA)))
    con.execute(
        "CREATE TABLE submissions AS SELECT '1' AS round, CAST(id AS VARCHAR) AS submission_id, stratum, psu, "
        "CAST(w AS DOUBLE) AS w, CAST(y AS DOUBLE) AS income, CAST(x AS BIGINT) AS hh_size FROM raw_df"
    )
    build_units(con, settings)
    res = plan_results(con, settings, form)
    assert len(res) == 1
    r = res.iloc[0]
    *expected, rows = R_RATIO_FLAGS[(na_to_0, den_0)]
    assert [r.stat, r.se, r.stat_low, r.stat_upp] == pytest.approx(expected, abs=TOL)
    assert r.n == r.n_total == rows and r.analysis_var == "income %/% hh_size"


# --------------------------------------------------------------------------------------------------
# Plan errors: the plan file, row and column, and what to do
# --------------------------------------------------------------------------------------------------
HOUSEHOLD = {"household": {"admin1", "hh_size", "needs", "income", "displaced", "hoh_sex"}}


def _plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loa.csv"
    path.write_text(
        "analysis_type,analysis_var,group_var,level,analysis_var_numerator,analysis_var_denominator,"
        "numerator_NA_to_0,filter_denominator_0\n" + text
    )
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("prop_select_once,admin1,,0.95,,,,", r"row 2, column 'analysis_type': 'prop_select_once' is not"),
        ("mean,hh_sizes,,0.95,,,,", r"row 2, column 'analysis_var': 'hh_sizes' is neither a question"),
        ("mean,admin1,,0.95,,,,", r"row 2, column 'analysis_var': 'admin1' is a select_one question; mean"),
        ("prop_select_multiple,admin1,,,,,,", r"column 'analysis_var': 'admin1' is a select_one question"),
        ("mean,income,admin9,0.95,,,,", r"row 2, column 'group_var': 'admin9' is neither"),
        ("ratio,,,0.95,income,,TRUE,TRUE", r"row 2, column 'analysis_var_denominator': a ratio needs it"),
        (
            "ratio,,,0.95,income,hh_size,maybe,TRUE",
            r"column 'numerator_NA_to_0': 'maybe' is not TRUE or FALSE",
        ),
        ("median,income,,95,,,,", r"row 2, column 'level': '95' is not a confidence level"),
    ],
)
def test_plan_errors_name_file_row_and_column(tmp_path, line, message):
    form = load_form(tmp_path)
    path = _plan(
        tmp_path,
        line + "\n",
    )
    with pytest.raises(ConfigError, match=message) as err:
        check_plan(read_plan(path), path, form, HOUSEHOLD)
    assert str(path) in str(err.value)


def test_a_plan_reads_several_group_variables_and_ratio_flags(tmp_path):
    form = load_form(tmp_path)
    path = _plan(
        tmp_path,
        'prop_select_one,displaced," admin1 , hoh_sex ",0.9,,,,\n'
        "ratio,,admin1,0.95,income,hh_size,FALSE,FALSE\n\n"
        "prop_select_multiple,needs,,,,,,\n",
    )
    plan = read_plan(path)
    assert [a.row for a in plan] == [2, 3, 5]
    assert plan[0].groups == ("admin1", "hoh_sex") and plan[0].group_var == "admin1 %/% hoh_sex"
    assert plan[0].conf == 0.9
    assert plan[1].var == "income %/% hh_size" and not plan[1].na_to_0 and not plan[1].filter_denominator_0
    assert check_plan(plan, path, form, HOUSEHOLD) == {0: "household", 1: "household", 2: "household"}


def test_an_xlsx_plan_names_its_spreadsheet_row(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["analysis_type", "analysis_var", "group_var", "level"])
    sheet.append(["median", "income", "admin1", 0.95])
    sheet.append([None, None, None, None])  # a blank line keeps the rows below numbered as in the sheet
    sheet.append(["mean", "displaced", "", 0.95])
    book.save(tmp_path / "loa.xlsx")
    plan = read_plan(tmp_path / "loa.xlsx")
    assert [(a.type, a.var, a.groups, a.conf, a.row) for a in plan] == [
        ("median", "income", ("admin1",), 0.95, 2),
        ("mean", "displaced", (), 0.95, 4),
    ]
    with pytest.raises(
        ConfigError, match=r"loa.xlsx: row 4, column 'analysis_var': 'displaced' is a select_one"
    ):
        check_plan(plan, tmp_path / "loa.xlsx", load_form(tmp_path), HOUSEHOLD)


def test_a_repeat_variable_cannot_be_grouped_by_another_repeat(tmp_path):
    form = load_form(tmp_path)
    form = dataclasses.replace(form, repeats={})
    columns = {**HOUSEHOLD, "roster": {"age", "sex"}, "plots": {"plot_size"}}
    path = _plan(tmp_path, "mean,age,plot_size,,,,,\n")
    with pytest.raises(
        ConfigError, match=r"row 2, column 'group_var': 'plot_size' is in plots, but the analysis is over"
    ):
        check_plan(read_plan(path), path, form, columns)
    path = _plan(tmp_path, "ratio,,,,age,plot_size,,\n")
    with pytest.raises(ConfigError, match=r"column 'analysis_var_denominator': 'plot_size' is in plots"):
        check_plan(read_plan(path), path, form, columns)
    path = _plan(tmp_path, 'mean,age,"sex,admin1",,,,,\n')  # its own column and its household's
    assert check_plan(read_plan(path), path, form, columns) == {0: "roster"}


def test_config_names_a_missing_plan(tmp_path):
    (tmp_path / "form.xlsx").touch()
    config = tmp_path / "assessment.toml"
    config.write_text('[survey]\nxlsform = "form.xlsx"\n[analysis]\nplan = "loa.csv"\n')
    with pytest.raises(ConfigError, match=r"\[analysis\] plan: .*loa.csv is not a .csv or .xlsx file"):
        load_settings(config)


# --------------------------------------------------------------------------------------------------
# Disclosure control
# --------------------------------------------------------------------------------------------------
def _srs(con: duckdb.DuckDBPyConnection, answers: list[tuple[str, str]]) -> None:
    """est_units / est_values for an unweighted sample: (area, answer of a select_one with options a, b, c)."""
    con.register(
        "u_df",
        pd.DataFrame(
            {
                "_rid": range(1, len(answers) + 1),
                "_weight": 1.0,
                "_stratum": "1",
                "_psu": [str(i) for i in range(len(answers))],
                "area": [a for a, _ in answers],
            }
        ),
    )
    rows = [(i, "q", o, "prop", float(v == o)) for i, (_, v) in enumerate(answers, start=1) for o in "abc"]
    con.register("v_df", pd.DataFrame(rows, columns=["_rid", "indicator", "option", "kind", "y"]))
    con.execute("CREATE TABLE est_units AS SELECT * FROM u_df")
    con.execute("CREATE TABLE est_values AS SELECT * FROM v_df")


def _suppressed(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {
        (r[0], r[1]) for r in con.execute("SELECT area, option FROM estimates WHERE suppressed").fetchall()
    }


def test_a_cell_chosen_by_few_households_is_suppressed_and_its_complement_too():
    con = duckdb.connect()
    # x: 18 a, 2 b; y: 10 a, 10 c; z: 12 a, 5 b, 10 c (national 40 a, 7 b, 20 c: nothing small)
    answers = [("x", "a")] * 18 + [("x", "b")] * 2 + [("y", "a")] * 10 + [("y", "c")] * 10
    _srs(con, answers + [("z", "a")] * 12 + [("z", "b")] * 5 + [("z", "c")] * 10)
    compute_estimates(con, ["area"], min_cell=5)
    assert _suppressed(con) == {("x", "b")}  # the primary rule: 2 households chose b in x
    assert complementary_suppression(con, "estimates") == 5
    # within x: 20 - 18 gives b back -> a; across areas: national b - z b gives x b back -> z b (the
    # smallest b above 0), and x a -> y a (10 < 12); then within y (a) -> c, within z (b) -> c (10 < 12)
    assert _suppressed(con) == {("x", "b"), ("x", "a"), ("z", "b"), ("y", "a"), ("y", "c"), ("z", "c")}
    kept = con.execute(
        "SELECT estimate, n_option FROM estimates WHERE area = 'x' AND option = 'b'"
    ).fetchone()
    assert kept == (pytest.approx(0.1), 2)  # the computed values stay (for audit)


def test_complementary_suppression_leaves_a_select_multiple_alone():
    con = duckdb.connect()
    con.register(
        "u_df",
        pd.DataFrame(
            {"_rid": range(1, 31), "_weight": 1.0, "_stratum": "1", "_psu": [str(i) for i in range(30)]}
        ),
    )
    # options of a select_multiple: counts do not add up to n, so a suppressed one cannot be recovered
    rows = [(i, "m", "a", "prop", float(i <= 2)) for i in range(1, 31)]
    rows += [(i, "m", "b", "prop", float(i <= 25)) for i in range(1, 31)]
    con.register("v_df", pd.DataFrame(rows, columns=["_rid", "indicator", "option", "kind", "y"]))
    con.execute("CREATE TABLE est_units AS SELECT * FROM u_df")
    con.execute("CREATE TABLE est_values AS SELECT * FROM v_df")
    compute_estimates(con, [], min_cell=5)
    assert complementary_suppression(con, "estimates") == 0
    assert _suppressed(con) == {("all", "a")}


# --------------------------------------------------------------------------------------------------
# The MSNA template, through the pipeline: loa_with_ratio.csv -> with_ratio_results_table.csv
# --------------------------------------------------------------------------------------------------
def test_msna_template_plan_reproduces_the_published_results(tmp_path):
    from assess.report.results import export_results
    from assess.store.connection import connect
    from tests._store import build_store

    folder = shared_dir("realdata", "msna_template")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copy(folder / "MSNA_template_data.csv", tmp_path / "data" / "raw")
    (tmp_path / "assessment.toml").write_text(
        f'[survey]\nxlsform = "{folder / "kobo_tool.xlsx"}"\n[regions]\nlevels = ["admin1"]\n'
        f'[analysis]\nplan = "{folder / "loa_with_ratio.csv"}"\n'
        '[privacy]\nmin_cell = 1\n[validation]\non_fail = "warn"\n'
    )
    settings, form, _ = build_store(tmp_path)
    con = connect(settings.store_path, read_only=True)
    try:
        export_results(con, settings, form, settings.round, tmp_path / "results.csv")
        assert export_results(con, settings, form, settings.round, tmp_path / "results.xlsx") == 147
    finally:
        con.close()
    ours = pd.read_csv(tmp_path / "results.csv", keep_default_na=False, na_values=[""])
    pub = pd.read_csv(folder / "with_ratio_results_table.csv", keep_default_na=False, na_values=[""])
    assert list(ours.columns[:13]) == list(pub.columns)
    assert len(ours) == len(pub) == 147 and ours["analysis_key"].is_unique
    merged = pub.merge(ours, on="analysis_key", how="outer", suffixes=("_pub", ""), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", "analysis_key"].tolist()
    for column in ("analysis_type", "analysis_var", "analysis_var_value", "group_var", "group_var_value"):
        assert (merged[f"{column}_pub"].fillna("") == merged[column].fillna("")).all(), column
    for column in ("stat", "stat_low", "stat_upp", "n", "n_total", "n_w", "n_w_total"):
        assert (merged[f"{column}_pub"] - merged[column]).abs().max() < TOL, column
    assert not ours["suppressed"].any()
    ratio = ours[ours["analysis_type"] == "ratio"].iloc[0]
    assert ratio["analysis_var_label"].count(" %/% ") == 1  # both variables' labels

    book = load_workbook(tmp_path / "results.xlsx")
    assert (
        len(book.sheetnames) == 2 and book.sheetnames[0] == "results"
    )  # the long sheet, one wide sheet (admin1)
    wide = book[book.sheetnames[1]]
    header = [c.value for c in wide[1]]
    assert header[:2] == ["Variable", "Answer"] and header[3] == "95% CI" and len(header) == 2 + 2 * 3
    mean_row = next(
        r for r in wide.iter_rows(min_row=2) if not r[1].value and r[2].number_format == "#,##0.00"
    )
    assert mean_row[2].value == pytest.approx(19.870967741935484)  # income, admin1a (published)
    assert "–" in mean_row[3].value
    prop_row = next(r for r in wide.iter_rows(min_row=2) if r[2].number_format == "0.0%")
    assert 0 <= prop_row[2].value <= 1 and "%" in prop_row[3].value
