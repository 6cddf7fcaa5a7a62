"""Tests of assess.estimate against published srvyr results and against R's survey package."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from assess.core.settings import ConfigError, Settings
from assess.estimate.design import compute_estimates, design_weights, t_quantiles
from assess.estimate.frame import read_frame

try:
    from _shared import shared_dir
except ImportError:  # tests collected as a package
    from tests._shared import shared_dir

R_REF = Path(__file__).parent / "data" / "r_reference"
TOL = 1e-6


# --------------------------------------------------------------------------------------------------
# Published MSNA template results (IMPACT analysistools, srvyr; unweighted SRS, groups by admin1)
# --------------------------------------------------------------------------------------------------

SELECT_ONE = ["admin1", "wash_drinkingwatersource"]
SELECT_MULTIPLE = ["edu_learning_conditions_reasons_v1"]
MEANS = ["income_v1_salaried_work", "expenditure_debt"]


def _msna_tables(con: duckdb.DuckDBPyConnection, csv: Path) -> None:
    """Build est_units / est_values from the MSNA template CSV, all in DuckDB."""
    con.execute(
        "CREATE TABLE raw AS SELECT row_number() OVER () AS _rid, * "
        "FROM read_csv(?, all_varchar = true, header = true)",
        [str(csv)],
    )
    con.execute(
        """CREATE TABLE est_units AS
           SELECT CAST(_rid AS BIGINT) AS _rid, 1.0::DOUBLE AS _weight, '1' AS _stratum,
                  CAST(_rid AS VARCHAR) AS _psu, admin1
           FROM raw"""
    )
    con.execute(
        "CREATE TABLE est_values (_rid BIGINT, indicator VARCHAR, option VARCHAR, kind VARCHAR, y DOUBLE)"
    )
    for q in SELECT_ONE:  # one 0/1 row per household and answer seen; NULL when unanswered
        col = '"' + q + '"'
        con.execute(
            f"""INSERT INTO est_values
                SELECT r._rid, ?, o.opt, 'prop',
                       CASE WHEN r.{col} IS NULL THEN NULL WHEN r.{col} = o.opt THEN 1 ELSE 0 END
                FROM raw AS r
                CROSS JOIN (SELECT DISTINCT {col} AS opt FROM raw WHERE {col} IS NOT NULL) AS o""",
            [q],
        )
    for q in SELECT_MULTIPLE:  # option columns q/opt; missing when the parent question is missing
        # (blank cells are coalesced to '' first: UNPIVOT drops NULLs)
        con.execute(
            f"""INSERT INTO est_values
                SELECT _rid, ?, substr(col, length(?) + 2), 'prop',
                       CASE WHEN parent IS NULL OR val = '' THEN NULL
                            WHEN lower(val) IN ('true', '1', '1.0') THEN 1 ELSE 0 END
                FROM (UNPIVOT (SELECT _rid, "{q}" AS parent, coalesce(COLUMNS('^{q}/'), '') FROM raw)
                      ON COLUMNS('^{q}/') INTO NAME col VALUE val)""",
            [q, q],
        )
    for q in MEANS:
        con.execute(
            f"""INSERT INTO est_values SELECT _rid, ?, '', 'mean', TRY_CAST("{q}" AS DOUBLE) FROM raw""",
            [q],
        )


def test_msna_published_results():
    folder = shared_dir("realdata", "msna_template")
    con = duckdb.connect()
    _msna_tables(con, folder / "MSNA_template_data.csv")
    compute_estimates(con, ["admin1"])
    ours = con.execute("SELECT * FROM estimates").df()

    pub = pd.read_csv(folder / "no_ratio_results_table.csv", keep_default_na=False, na_values=[""])
    pub = pub[pub["analysis_type"].isin(["prop_select_one", "prop_select_multiple", "mean"])].copy()
    pub["level"] = pub["group_var"].fillna("").replace("", "national")
    pub["area"] = pub["group_var_value"].fillna("").replace("", "all")
    pub["option"] = pub["analysis_var_value"].fillna("").astype(str)
    pub = pub.rename(columns={"n": "n_pub"})
    assert len(pub) == 135  # 3 + 18 + 15 national proportions + 2 means; 46 + 45 + 6 by admin1

    merged = pub.merge(
        ours,
        how="left",
        left_on=["level", "area", "analysis_var", "option"],
        right_on=["level", "area", "indicator", "option"],
        indicator=True,
    )
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", "analysis_key"].tolist()
    # published n: households choosing the option for proportions, households answering for means
    ours_n = merged["n_option"].where(merged["analysis_type"] != "mean", merged["n"])
    diffs = {
        "stat": (merged["stat"] - merged["estimate"]).abs().max(),
        "stat_low": (merged["stat_low"] - merged["ci_low"]).abs().max(),
        "stat_upp": (merged["stat_upp"] - merged["ci_high"]).abs().max(),
        "n": (merged["n_pub"] - ours_n).abs().max(),
    }
    assert all(d < TOL for d in diffs.values()), diffs
    assert (merged["df"] == 99).all()
    # worked example from shared/realdata/README.md
    row = ours[(ours.level == "national") & (ours.indicator == "admin1") & (ours.option == "admin1a")].iloc[0]
    assert row.estimate == pytest.approx(0.31) and row.n_option == 31 and row.n == 100
    assert row.ci_low == pytest.approx(0.217769, abs=1e-6) and row.ci_high == pytest.approx(
        0.402231, abs=1e-6
    )


# --------------------------------------------------------------------------------------------------
# Weighted, stratified, clustered design vs R survey
# --------------------------------------------------------------------------------------------------


def _design_case_tables(con: duckdb.DuckDBPyConnection, design: str = "cluster") -> None:
    con.execute(
        "CREATE TABLE dc AS SELECT * FROM read_csv(?, header = true, nullstr = 'NA', "
        "types = {'stratum': 'VARCHAR', 'psu': 'VARCHAR', 'region': 'VARCHAR'})",
        [str(R_REF / "design_case.csv")],
    )
    psu = "psu" if design == "cluster" else "CAST(rid AS VARCHAR)"  # 'household': no clusters
    con.execute(
        f"""CREATE TABLE est_units AS
            SELECT CAST(rid AS BIGINT) AS _rid, CAST(w AS DOUBLE) AS _weight, stratum AS _stratum,
                   {psu} AS _psu, region
            FROM dc"""
    )
    con.execute(
        """CREATE TABLE est_values AS
           SELECT rid AS _rid, 'y_bin' AS indicator, 'yes' AS option, 'prop' AS kind, CAST(y_bin AS DOUBLE) AS y FROM dc
           UNION ALL
           SELECT rid, 'y_num', '', 'mean', CAST(y_num AS DOUBLE) FROM dc"""
    )


# design / region levels -> code path: 'household' = one household per PSU; 'cluster' with the region
# level = PSUs spanning several areas (PSU totals re-summed per domain); 'cluster' without levels =
# PSUs nested in their (single) area cell.
@pytest.mark.parametrize(
    ("design", "levels"), [("cluster", ["region"]), ("cluster", []), ("household", ["region"])]
)
def test_design_case_matches_r_survey(design, levels):
    # design_case_expected.csv was produced by running `Rscript design_case.R` in tests/data/r_reference
    # (R 4.x, survey 4.1.1: svydesign(ids=~psu or ~1, strata=~stratum, weights=~w, nest=TRUE),
    # design[!is.na(y), ] as srvyr's filter(), svymean on it / on subset(region == area),
    # confint(df = degf(filtered design)), options(survey.lonely.psu = "certainty")).
    # R is not needed to run this test: only its committed output is read.
    exp = pd.read_csv(R_REF / "design_case_expected.csv", keep_default_na=False, na_values=["", "NA"])
    exp = exp[exp["design"] == design]
    if not levels:
        exp = exp[exp["level"] == "national"]
    con = duckdb.connect()
    _design_case_tables(con, design)
    compute_estimates(con, levels, min_cell=5)
    ours = con.execute("SELECT * FROM estimates").df()
    assert len(ours) == len(exp)
    m = exp.merge(ours, on=["level", "area", "indicator"], suffixes=("_r", ""), how="left", indicator=True)
    assert (m["_merge"] == "both").all()
    for col in ["estimate", "se", "ci_low", "ci_high", "df", "n"]:
        d = (m[f"{col}_r"] - m[col]).abs().max()
        assert d < 1e-9, (col, d)


def test_design_case_n_h_counts_psus_missing_the_variable():
    # PSU 2 of stratum A has no answer to y_bin. R keeps n_h = 4 PSUs for stratum A (whole design);
    # rebuilding the design on answered rows only (n_h = 3) would give SE 0.0557241 instead of 0.0556016.
    con = duckdb.connect()
    _design_case_tables(con)
    compute_estimates(con, [])
    se = con.execute("SELECT se FROM estimates WHERE indicator = 'y_bin'").fetchone()[0]
    assert se == pytest.approx(0.055601552916691187, abs=1e-12)


def test_design_case_lonely_psu_certainty():
    # stratum C of the design case has a single PSU: it must contribute 0 (R "certainty"), not fail
    con = duckdb.connect()
    _design_case_tables(con)
    compute_estimates(con, ["region"])
    assert con.execute("SELECT count(*) FROM estimates WHERE se IS NULL OR se = 0").fetchone()[0] == 0


# --------------------------------------------------------------------------------------------------
# Formula checks without R
# --------------------------------------------------------------------------------------------------


def _srs_tables(con, ys, areas):
    units = pd.DataFrame(
        {
            "_rid": range(1, len(ys) + 1),
            "_weight": 1.0,
            "_stratum": "1",
            "_psu": [str(i) for i in range(1, len(ys) + 1)],
            "admin1": areas,
        }
    )
    vals = pd.DataFrame(
        {"_rid": range(1, len(ys) + 1), "indicator": "q", "option": "a", "kind": "prop", "y": ys}
    )
    con.register("u_df", units)
    con.register("v_df", vals)
    con.execute("CREATE TABLE est_units AS SELECT * FROM u_df")
    con.execute("CREATE TABLE est_values AS SELECT * FROM v_df")


def test_srs_formula_with_missing_and_null_area():
    ys = [1, 0, 1, None, 1, 0, 0, 1, None, 1]
    areas = ["x", "x", "x", "x", "y", "y", "y", None, "y", "x"]
    con = duckdb.connect()
    _srs_tables(con, ys, areas)
    compute_estimates(con, ["admin1"], min_cell=4)
    res = con.execute("SELECT * FROM estimates ORDER BY level, area").df().set_index(["level", "area"])
    big_n = len(ys)  # whole sample, including households missing y
    nonmiss = [(y, a) for y, a in zip(ys, areas, strict=True) if y is not None]
    df = len(nonmiss) - 1
    tq = t_quantiles([df])[df]
    for (level, area), dom in [
        (("national", "all"), nonmiss),
        (("admin1", "x"), [p for p in nonmiss if p[1] == "x"]),
        (("admin1", "y"), [p for p in nonmiss if p[1] == "y"]),
    ]:
        yd = [p[0] for p in dom]
        p = sum(yd) / len(yd)
        se = math.sqrt(big_n / (big_n - 1) * sum((y - p) ** 2 for y in yd) / len(yd) ** 2)
        r = res.loc[(level, area)]
        assert r.estimate == pytest.approx(p)
        assert r.se == pytest.approx(se)
        assert r.ci_low == pytest.approx(p - tq * se) and r.ci_high == pytest.approx(p + tq * se)
        assert r.n == len(yd) and r.n_option == sum(yd) and r.df == df
        # suppressed by the denominator, or by the cell's own count (1-3 households chose the option)
        assert bool(r.suppressed) == (len(yd) < 4 or 0 < sum(yd) < 4)
    assert len(res) == 3  # the household without admin1 is in no area


def test_df_zero_gives_null_ci_and_mean_has_null_n_option():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE est_units AS SELECT 1::BIGINT AS _rid, 2.0 AS _weight, '1' AS _stratum, '1' AS _psu, 'a' AS admin1"
    )
    con.execute(
        "CREATE TABLE est_values AS SELECT 1::BIGINT AS _rid, 'm' AS indicator, '' AS option, 'mean' AS kind, 3.5::DOUBLE AS y"
    )
    compute_estimates(con, ["admin1"])
    rows = con.execute(
        "SELECT estimate, ci_low, ci_high, se, n, n_option, weighted_n, df, suppressed FROM estimates"
    ).fetchall()
    assert rows == [(3.5, None, None, 0.0, 1, None, 2.0, 0, True)] * 2


def test_identifiers_are_allow_listed():
    con = duckdb.connect()
    _srs_tables(con, [1, 0, 1], ["a", "b", "a"])
    with pytest.raises(ValueError, match="not a column"):
        compute_estimates(con, ['admin1"; DROP TABLE est_units; --'])
    with pytest.raises(ValueError, match="invalid table name"):
        compute_estimates(con, ["admin1"], out="x; DROP TABLE est_units")
    with pytest.raises(ValueError, match="not a column"):
        compute_estimates(con, ["admin9"])


def test_t_quantiles():
    q = t_quantiles([99, 1, 0, None, 99])
    assert set(q) == {1, 99}
    assert q[1] == pytest.approx(12.706204736)
    assert q[99] == pytest.approx(1.984216952)


# --------------------------------------------------------------------------------------------------
# Design weights
# --------------------------------------------------------------------------------------------------


def test_design_weights():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE u AS SELECT i AS _rid, 1.0::DOUBLE AS _weight, CASE WHEN i <= 30 THEN 'A' ELSE 'B' END AS _stratum "
        "FROM range(1, 101) t(i)"
    )
    frame = {"A": 1000, "B": 3000, "C": 500}
    warns = design_weights(con, "u", frame)
    assert len(warns) == 1 and "'C'" in warns[0]
    w = dict(con.execute("SELECT _stratum, any_value(_weight) FROM u GROUP BY 1").fetchall())
    assert w["A"] == pytest.approx((1000 / 4000) / (30 / 100))
    assert w["B"] == pytest.approx((3000 / 4000) / (70 / 100))
    assert con.execute("SELECT sum(_weight) FROM u").fetchone()[0] == pytest.approx(100)
    with pytest.raises(ValueError, match="'B'"):
        design_weights(con, "u", {"A": 1000, "C": 500})


def test_design_weights_decimal_weight_column_and_csv_frame(tmp_path):
    con = duckdb.connect()
    # a literal 1.0 gives a DECIMAL(2,1) column: weights must not be rounded or overflow
    con.execute(
        "CREATE TEMP TABLE est_units AS SELECT i AS _rid, 1.0 AS _weight, CASE WHEN i <= 2 THEN 1 ELSE 2 END AS _stratum "
        "FROM range(1, 101) t(i)"
    )
    path = tmp_path / "frame.csv"
    path.write_text("strat,population\n1,99000\n2,1000\n", encoding="utf-8")
    settings = Settings(
        config_path=tmp_path / "assessment.toml",
        root=tmp_path,
        xlsform=tmp_path / "f.xlsx",
        frame=path,
        strata="strat",
        population="population",
    )
    assert design_weights(con, "est_units", read_frame(settings)) == []
    w = dict(con.execute("SELECT _stratum, any_value(_weight) FROM est_units GROUP BY 1").fetchall())
    assert w[1] == pytest.approx((99000 / 100000) / (2 / 100))  # 49.5
    assert w[2] == pytest.approx((1000 / 100000) / (98 / 100))
    with pytest.raises(ConfigError, match="not found"):
        read_frame(dataclasses.replace(settings, frame=tmp_path / "nope.csv"))


def test_large_means_keep_precision():
    # values around 1e9 with unit spread: sums of squares must not cancel
    con = duckdb.connect()
    ys = [1e9 + (i * 7) % 5 for i in range(200)]
    ws = [1.0 + (i % 3) for i in range(200)]
    units = pd.DataFrame(
        {"_rid": range(200), "_weight": ws, "_stratum": "1", "_psu": [str(i // 4) for i in range(200)]}
    )
    vals = pd.DataFrame({"_rid": range(200), "indicator": "m", "option": "", "kind": "mean", "y": ys})
    con.register("u_df", units)
    con.register("v_df", vals)
    con.execute("CREATE TABLE est_units AS SELECT * FROM u_df")
    con.execute("CREATE TABLE est_values AS SELECT * FROM v_df")
    compute_estimates(con, [])
    est, se = con.execute("SELECT estimate, se FROM estimates").fetchone()
    # reference: two-pass linearisation on the small shifted values
    sw = sum(ws)
    e = sum(w * (y - 1e9) for w, y in zip(ws, ys, strict=True)) / sw
    z = [0.0] * 50
    for i, (w, y) in enumerate(zip(ws, ys, strict=True)):
        z[i // 4] += w * ((y - 1e9) - e) / sw
    zbar = sum(z) / 50
    ref = math.sqrt(50 / 49 * sum((v - zbar) ** 2 for v in z))
    assert est == pytest.approx(1e9 + e, rel=1e-15)
    assert se == pytest.approx(ref, rel=1e-9)


def test_shared_dir_skips_locally_and_fails_on_ci(monkeypatch, tmp_path):
    import sys

    sh = sys.modules[shared_dir.__module__]
    monkeypatch.setattr(sh, "SHARED", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        sh.shared_dir("realdata")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        sh.shared_dir("realdata")


@pytest.mark.parametrize("psu_mode", ["units", "nested", "split"])
def test_constant_domain_has_exactly_zero_se(psu_mode):
    # a domain whose answers are all equal (p = 0 or 1) has every z exactly 0 in R: SE must be 0.0,
    # not a rounding residue, so that the CI is exactly [p, p]
    con = duckdb.connect()
    psu = {
        "units": "CAST(i AS VARCHAR)",
        "nested": "CAST(i // 10 AS VARCHAR)",
        "split": "CAST(i % 6 AS VARCHAR)",
    }[psu_mode]
    con.execute(
        f"CREATE TABLE est_units AS SELECT i AS _rid, 1.0 + (i % 4) * 0.37 AS _weight, '1' AS _stratum, {psu} AS _psu, "
        "CASE WHEN i < 30 THEN 'a' ELSE 'b' END AS admin1 FROM range(60) t(i)"
    )
    con.execute(
        "CREATE TABLE est_values AS SELECT i AS _rid, 'q' AS indicator, 'x' AS option, 'prop' AS kind, "
        "CASE WHEN i < 30 THEN 1.0 ELSE (i % 3 = 0)::INT::DOUBLE END AS y FROM range(60) t(i)"
    )
    compute_estimates(con, ["admin1"])
    row = con.execute("SELECT estimate, se, ci_low, ci_high FROM estimates WHERE area = 'a'").fetchone()
    assert row == (1.0, 0.0, 1.0, 1.0)
    assert con.execute("SELECT se > 0 FROM estimates WHERE area = 'b'").fetchone()[0]
