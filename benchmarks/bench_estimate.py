"""Benchmark: design-based estimates for many households (the speed target lives here, not in tests).

    .venv/bin/python benchmarks/bench_estimate.py [--households 1000000] [--indicators 20]

Builds synthetic `est_units` / `est_values` tables in DuckDB (5 regions = strata, ~200 districts, 10%
missing answers, unequal weights) and times `compute_estimates` with and without clusters; with `--medians N`,
also N medians (school rule, Woodruff CI: a per-domain sort) of values 0-999 in every domain (issue 16).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assess.estimate.design import compute_estimates  # noqa: E402
from assess.estimate.median import compute_medians  # noqa: E402


def build(con: duckdb.DuckDBPyConnection, households: int, indicators: int, clustered: bool) -> None:
    # households come in blocks of one district; clusters of 15 households nest in districts, districts in
    # regions, and the strata are the regions (the usual two-stage design of a needs assessment)
    block = max(1, households // 200)
    psu = "CAST(i // 15 AS VARCHAR)" if clustered else "CAST(i AS VARCHAR)"
    con.execute(
        f"CREATE OR REPLACE TABLE est_units AS SELECT i AS _rid, 0.5 + (hash(i) % 100) / 50.0 AS _weight, "
        f"'r' || ((i // {block}) % 5) AS _stratum, {psu} AS _psu, 'r' || ((i // {block}) % 5) AS admin1, "
        f"'d' || (i // {block}) AS admin2 FROM range({households}) t(i)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE est_values AS SELECT i AS _rid, 'ind' || k AS indicator, 'o' AS option, "
        "'prop' AS kind, CASE WHEN hash(i * 31 + k) % 10 = 0 THEN NULL ELSE CAST(hash(i + k) % 2 AS DOUBLE) END AS y "
        f"FROM range({households}) t(i), range({indicators}) s(k)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--indicators", type=int, default=20)
    ap.add_argument("--medians", type=int, default=0)
    args = ap.parse_args()
    print("| households | indicators | design | estimate rows | seconds |")
    print("|---:|---:|---|---:|---:|")
    for clustered in (False, True):
        con = duckdb.connect()
        build(con, args.households, args.indicators, clustered)
        t0 = time.perf_counter()
        compute_estimates(con, ["admin1", "admin2"])
        seconds = time.perf_counter() - t0
        rows = con.execute("SELECT count(*) FROM estimates").fetchone()[0]
        design = "stratified, clustered" if clustered else "stratified"
        print(f"| {args.households:,} | {args.indicators} | {design} | {rows:,} | {seconds:.1f} |")
        if args.medians:
            con.execute(
                "CREATE TABLE med_values AS SELECT i AS _rid, 'm' || k AS indicator, CASE WHEN hash(i * 7 + k) % 10 "
                f"= 0 THEN NULL ELSE CAST(hash(i + k) % 1000 AS DOUBLE) END AS y FROM range({args.households}) t(i), "
                f"range({args.medians}) s(k)"
            )
            t0 = time.perf_counter()
            compute_medians(con, ["admin1", "admin2"])
            seconds = time.perf_counter() - t0
            rows = con.execute("SELECT count(*) FROM medians").fetchone()[0]
            print(f"| {args.households:,} | {args.medians} medians | {design} | {rows:,} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
