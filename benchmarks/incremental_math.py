"""Design check for issue 15 part 3 (incremental estimation): the estimator's sums can be kept unweighted and
updated by deltas, with frame weights applied after. Not used by the pipeline; it checks the algebra against
the engine (`compute_estimates` + `design_weights`) before the pipeline is changed to rely on it.

    python benchmarks/incremental_math.py [--households 20000]

A synthetic stratified design (frame weights w_h = (N_h/N)/(n_h/n)), clustered or not. Kept per
(variable, stratum, PSU, area cell) -- per (variable, stratum, area cell) when every PSU is one household --
are UNWEIGHTED sums: n, n1, sum y, sum x, and (households as PSUs) sum y^2, sum xy, sum x^2 of y - c x, c a
centring constant fixed when the sums are first made. Per stratum: households and PSUs (a PSU table of unit
counts). A change (households added, replaced in place -- possibly moving to another cluster or stratum --
and removed) subtracts the old households' sums and adds the new ones'; the weights w_h are computed from the
updated counts and applied when the estimates are finalised. The result is compared with the engine run on
the changed data from scratch. min/max (the engine's "all answers equal" shortcut) are not decomposable under
removals; here the shortcut is n1 in {0, n} for proportions and a zero centred sum of squares for means.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assess.estimate.design import compute_estimates, design_weights, t_quantiles  # noqa: E402

POP = {"s1": 50_000.0, "s2": 120_000.0, "s3": 30_000.0, "s4": 80_000.0}


def make(con: duckdb.DuckDBPyConnection, households: int, clustered: bool, seed: int) -> None:
    """units(_rid, _weight, _stratum, _psu, a1, a2) and values(_rid, indicator, option, kind, y)."""
    con.execute(f"SELECT setseed({seed / 100})")
    psu = "'c' || (_rid % 300)" if clustered else "CAST(_rid AS VARCHAR)"
    con.execute(
        f"""CREATE OR REPLACE TABLE units AS
        SELECT _rid, 1.0 AS _weight, 's' || (1 + (_rid % 300) % 4) AS _stratum, {psu} AS _psu,
               'A' || ((_rid % 300) % 4) AS a1, 'B' || ((_rid % 300) % 12) AS a2
        FROM range(1, {households} + 1) t(_rid)"""
    )
    values(con, "units", "values")


def values(con: duckdb.DuckDBPyConnection, units: str, out: str) -> None:
    con.execute(
        f"""CREATE OR REPLACE TABLE {out} AS
        SELECT _rid, 'q' AS indicator, o AS option, 'prop' AS kind,
               CASE WHEN hash(_rid, 7) % 10 = 0 THEN NULL WHEN hash(_rid, 1) % 3 = CAST(o AS INT) THEN 1.0
                    ELSE 0.0 END AS y
        FROM {units}, (SELECT unnest(['0', '1', '2']) AS o)
        UNION ALL
        SELECT _rid, 'income', '', 'mean',
               CASE WHEN hash(_rid, 3) % 8 = 0 THEN NULL ELSE 100000 + (hash(_rid, 2) % 5000) * 1.37 END
        FROM {units}"""
    )


def moments(con: duckdb.DuckDBPyConnection, units: str, vals: str, clustered: bool) -> str:
    """Unweighted sums of the given households (a SELECT); c: the fixed centring constants (table `shift`)."""
    psu = "u._psu" if clustered else "NULL"
    return f"""
        SELECT v.indicator, v.option, any_value(v.kind) AS kind, u._stratum AS stratum, {psu} AS psu,
               u.a1, u.a2, count(*) AS n, count(*) FILTER (WHERE v.y = 1) AS n1, sum(v.y) AS sy,
               count(*) * 1.0 AS sx, sum((v.y - c.c) * (v.y - c.c)) AS syy, sum(v.y - c.c) AS syc
        FROM {vals} v JOIN {units} u USING (_rid) JOIN shift c USING (indicator, option)
        WHERE v.y IS NOT NULL GROUP BY ALL"""


def apply(con: duckdb.DuckDBPyConnection, delta_sql: str) -> None:
    """moments := moments + delta (rows with n = 0 vanish), one set-based statement."""
    con.execute(
        f"""CREATE OR REPLACE TABLE moments AS
        SELECT indicator, option, any_value(kind) AS kind, stratum, psu, a1, a2, sum(n) AS n, sum(n1) AS n1,
               sum(sy) AS sy, sum(sx) AS sx, sum(syy) AS syy, sum(syc) AS syc
        FROM (SELECT * FROM moments UNION ALL {delta_sql}) GROUP BY ALL HAVING sum(n) <> 0"""
    )


def finalise(con: duckdb.DuckDBPyConnection, clustered: bool) -> duckdb.DuckDBPyRelation:
    """Estimates, SE, df of every (variable, domain) from `moments`, `strata` (n_h households, PSUs)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE w AS
        SELECT stratum, (pop / sum(pop) OVER ()) / (nh / sum(nh) OVER ()) AS w, npsu FROM strata JOIN pops USING (stratum)
        WHERE nh > 0"""
    )
    # domains: national, each a1, each a2; a = w(sy - c sx), b = w sx per row
    con.execute(
        """CREATE OR REPLACE TEMP TABLE r AS
        SELECT m.*, w.w, w.npsu, d.level, d.area FROM moments m JOIN w USING (stratum),
        LATERAL (SELECT 'national' AS level, 'all' AS area UNION ALL SELECT 'a1', m.a1 UNION ALL SELECT 'a2', m.a2) d"""
    )
    if clustered:  # PSU totals within each domain first (a PSU may span area cells), then their squares
        z = """SELECT indicator, option, level, area, stratum, any_value(npsu) AS npsu, sum(a) AS a, sum(b) AS b,
                   sum(a * a) AS aa, sum(a * b) AS ab, sum(b * b) AS bb, sum(n) AS n, sum(n1) AS n1, sum(swy) AS swy,
                   any_value(kind) AS kind, sum(syy) AS syy, sum(syc) AS syc
            FROM (SELECT indicator, option, level, area, stratum, psu, any_value(npsu) AS npsu, any_value(kind) AS kind,
                         sum(w * syc) AS a, sum(w * sx) AS b, sum(n) AS n, sum(n1) AS n1, sum(w * sy) AS swy,
                         sum(syy) AS syy, sum(syc) AS syc FROM r GROUP BY ALL) GROUP BY ALL"""
    else:  # every PSU one household: squares of unit values, kept as sums
        z = """SELECT indicator, option, level, area, stratum, any_value(npsu) AS npsu, sum(w * syc) AS a,
                   sum(w * sx) AS b, sum(w * w * syy) AS aa, sum(w * w * syc) AS ab, sum(w * w * n) AS bb, sum(n) AS n,
                   sum(n1) AS n1, sum(w * sy) AS swy, any_value(kind) AS kind, sum(syy) AS syy, sum(syc) AS syc
            FROM r GROUP BY ALL"""
    return con.sql(
        f"""WITH z AS ({z}),
        d AS (SELECT indicator, option, level, area, sum(a) / sum(b) AS e, sum(b) AS sw, sum(swy) AS swy,
                     sum(n) AS n, sum(n1) AS n1, any_value(kind) AS kind,
                     sum(syy) - sum(syc) * sum(syc) / sum(n) AS ss FROM z GROUP BY ALL)
        SELECT d.indicator, d.option, d.level, d.area, any_value(d.swy / d.sw) AS estimate, any_value(d.n) AS n,
               sqrt(sum(CASE WHEN (d.kind = 'prop' AND d.n1 IN (0, d.n)) OR (d.kind = 'mean' AND d.ss = 0) THEN 0.0
                             WHEN z.npsu > 1 THEN z.npsu / (z.npsu - 1.0) * greatest(
                   (z.aa - 2 * d.e * z.ab + d.e * d.e * z.bb) / (d.sw * d.sw)
                   - ((z.a - d.e * z.b) / d.sw) * ((z.a - d.e * z.b) / d.sw) / z.npsu, 0.0) ELSE 0.0 END)) AS se
        FROM d JOIN z USING (indicator, option, level, area) GROUP BY d.indicator, d.option, d.level, d.area"""
    )


def count_psus(units: str, sign: int, clustered: bool) -> str:
    """Units per (stratum, PSU) -- per stratum when every PSU is one household (then PSUs = households)."""
    psu = "_psu" if clustered else "NULL"
    return f"SELECT _stratum AS stratum, {psu} AS psu, {sign} * count(*) AS units FROM {units} GROUP BY ALL"


def strata(con: duckdb.DuckDBPyConnection, clustered: bool) -> None:
    """Per stratum: households and PSUs of the whole design, from the kept `psus` counts."""
    npsu = "count(*)" if clustered else "sum(units)"
    con.execute(
        f"CREATE OR REPLACE TABLE strata AS SELECT stratum, sum(units) AS nh, {npsu} AS npsu FROM psus GROUP BY 1"
    )


def df_of(con: duckdb.DuckDBPyConnection, clustered: bool) -> dict[tuple[str, str], int]:
    """R's degf of the design restricted to the answering households: PSUs - strata among them."""
    psus = "count(DISTINCT (stratum, psu))" if clustered else "sum(n)"
    rows = con.execute(
        f"SELECT indicator, option, {psus} - count(DISTINCT stratum) FROM moments GROUP BY ALL"
    ).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def check(households: int, clustered: bool) -> float:
    con = duckdb.connect()
    make(con, households, clustered, seed=1)
    con.register("pops_df", __import__("pandas").DataFrame({"stratum": list(POP), "pop": list(POP.values())}))
    con.execute("CREATE TABLE pops AS SELECT * FROM pops_df")
    con.execute(
        "CREATE TABLE shift AS SELECT indicator, option, avg(y) AS c FROM values WHERE y IS NOT NULL GROUP BY ALL"
    )
    con.execute(f"CREATE TABLE moments AS {moments(con, 'units', 'values', clustered)}")
    con.execute(f"CREATE TABLE psus AS {count_psus('units', 1, clustered)}")
    # the change: 200 households removed, 300 replaced (new answers, every third in another cluster and
    # stratum), 1,000 added; the old households' sums are taken before the tables change
    con.execute("CREATE TABLE gone AS SELECT * FROM units WHERE _rid % 97 = 0 LIMIT 200")
    con.execute("CREATE TABLE old AS SELECT * FROM units WHERE _rid % 89 = 1 AND _rid % 97 <> 0 LIMIT 300")
    con.execute(
        "CREATE TABLE old_v AS SELECT * FROM values WHERE _rid IN (SELECT _rid FROM old UNION ALL SELECT _rid FROM gone)"
    )
    con.execute(
        f"CREATE TABLE new AS SELECT * REPLACE (CASE WHEN _rid % 3 = 0 THEN 's' || (1 + (_rid + 1) % 4) ELSE _stratum END "
        f"AS _stratum, CASE WHEN _rid % 3 = 0 AND {clustered} THEN 'c' || ((_rid + 1) % 300) ELSE _psu END AS _psu) "
        "FROM old UNION ALL SELECT _rid + 10000000, 1.0, 's' || (1 + _rid % 4), "
        f"CASE WHEN {clustered} THEN 'c' || (_rid % 300) ELSE CAST(_rid + 10000000 AS VARCHAR) END, "
        "'A' || ((_rid % 300) % 4), 'B' || ((_rid % 300) % 12) FROM range(1, 1001) t(_rid)"
    )
    con.execute("UPDATE new SET a1 = 'A' || (CAST(substr(_stratum, 2) AS INT) - 1) WHERE true")
    values(con, "new", "new_v_raw")
    con.execute(
        "CREATE TABLE new_v AS SELECT * REPLACE (CASE WHEN y IS NOT NULL AND kind = 'mean' THEN y + 17.5 ELSE y END AS y) FROM new_v_raw"
    )
    t0 = time.perf_counter()
    old_m = moments(con, "(SELECT * FROM old UNION ALL SELECT * FROM gone)", "old_v", clustered)
    neg = old_m.replace("count(*) AS n,", "-count(*) AS n,").replace("count(*) FILTER", "-count(*) FILTER")
    neg = neg.replace("sum(v.y) AS sy", "-sum(v.y) AS sy").replace(
        "count(*) * 1.0 AS sx", "-count(*) * 1.0 AS sx"
    )
    neg = neg.replace("sum((v.y - c.c) * (v.y - c.c)) AS syy", "-sum((v.y - c.c) * (v.y - c.c)) AS syy")
    neg = neg.replace("sum(v.y - c.c) AS syc", "-sum(v.y - c.c) AS syc")
    apply(con, f"{neg} UNION ALL {moments(con, 'new', 'new_v', clustered)}")
    touched = "(SELECT * FROM old UNION ALL SELECT * FROM gone)"
    con.execute(
        f"CREATE OR REPLACE TABLE psus AS SELECT stratum, psu, sum(units) AS units FROM (SELECT * FROM psus "
        f"UNION ALL {count_psus(touched, -1, clustered)} UNION ALL {count_psus('new', 1, clustered)}) "
        "GROUP BY ALL HAVING sum(units) <> 0"
    )
    strata(con, clustered)
    inc = finalise(con, clustered).df().set_index(["indicator", "option", "level", "area"]).sort_index()
    incremental_s = time.perf_counter() - t0
    # the store after the change, and the engine from scratch on it
    con.execute("DELETE FROM units WHERE _rid IN (SELECT _rid FROM old UNION ALL SELECT _rid FROM gone)")
    con.execute("INSERT INTO units SELECT * FROM new")
    con.execute("DELETE FROM values WHERE _rid IN (SELECT _rid FROM old_v)")
    con.execute("INSERT INTO values SELECT * FROM new_v")
    t0 = time.perf_counter()
    design_weights(con, "units", POP)
    compute_estimates(con, ["a1", "a2"], min_cell=1, units="units", values="values")
    full_s = time.perf_counter() - t0
    full = con.sql("SELECT indicator, option, level, area, estimate, se, n, df FROM estimates").df()
    full = full.set_index(["indicator", "option", "level", "area"]).sort_index()
    assert list(full.index) == list(inc.index), "different domains"
    assert (full["n"].to_numpy() == inc["n"].to_numpy()).all()
    dfs = df_of(con, clustered)
    assert all(dfs[(i, o)] == d for (i, o, _, _), d in full["df"].items()), "different df"
    rel = lambda a, b: (abs(a - b) / b.abs().clip(lower=1e-300)).max()  # noqa: E731
    worst = max(rel(inc["estimate"], full["estimate"]), rel(inc["se"], full["se"]))
    print(
        f"{'clustered' if clustered else 'households as PSUs'}: {len(full)} estimates, {con.execute('SELECT count(*) FROM moments').fetchone()[0]} "
        f"moment rows for {con.execute('SELECT count(*) FROM units').fetchone()[0]:,} households; "  # type: ignore[index]
        f"largest relative difference (estimate, SE) {worst:.2e}; the update (1,500 households) {incremental_s:.3f} s, "
        f"the engine from scratch {full_s:.3f} s"
    )
    return float(worst)


def main() -> None:
    t_quantiles([1])  # scipy's import, out of the timings (the CI follows from estimate, SE and df alone)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, nargs="+", default=[20_000])
    args = ap.parse_args()
    worst = max(check(n, clustered) for n in args.households for clustered in (True, False))
    assert worst < 1e-9, worst


if __name__ == "__main__":
    main()
