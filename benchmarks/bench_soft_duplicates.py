"""Benchmark: soft duplicates among 100,000 submissions x 40 compared answers, found exactly (issue 17).

    .venv/bin/python benchmarks/bench_soft_duplicates.py [--rows 100000] [--max-diff 7]

Generates survey-like answers in DuckDB (numbers 0-30 skewed to small values, selects of 3-8 codes, yes/no, some missing) with 200
planted near-duplicates (2-6 answers changed), then times assess.clean.softdup (bands joined on their hashes,
candidate pairs verified). The DuckDB floor is one GROUP BY on the hash of all compared columns (the exact
duplicates), the least a soft-duplicate search has to do; the ratio is ours over that floor. Target: < 60 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assess.clean.softdup import soft_duplicate_pairs  # noqa: E402

N_NUM, N_SEL, N_YN = 14, 16, 10


def build(con: duckdb.DuckDBPyConnection, rows: int, planted: int) -> list[str]:
    cols = (
        [f"CAST(floor(pow(random(), 3) * 31) AS BIGINT) AS n{i}" for i in range(N_NUM)]
        + [f"'c' || CAST(floor(random() * {3 + i % 6}) AS INTEGER) AS s{i}" for i in range(N_SEL)]
        + [f"CASE WHEN random() < 0.1 THEN NULL WHEN random() < 0.5 THEN 'yes' ELSE 'no' END AS y{i}" for i in range(N_YN)]
    )  # fmt: skip
    con.execute("SELECT setseed(0.17)")
    con.execute(
        f"CREATE TABLE t AS SELECT '1' AS round, printf('u%07d', i) AS submission_id, {', '.join(cols)} "
        f"FROM range({rows - planted}) r(i)"
    )
    names = [f"n{i}" for i in range(N_NUM)] + [f"s{i}" for i in range(N_SEL)] + [f"y{i}" for i in range(N_YN)]
    # planted copies: the same answers as an existing row but for 2-6 numbers shifted by one
    changed = ", ".join(
        f"CASE WHEN {i} < 2 + CAST(substr(submission_id, 2) AS INTEGER) % 5 THEN n{i} + 1 ELSE n{i} END AS n{i}"
        for i in range(N_NUM)
    )
    con.execute(
        f"INSERT INTO t SELECT '1', 'p' || substr(submission_id, 2), {changed}, "
        f"{', '.join(names[N_NUM:])} FROM t ORDER BY submission_id LIMIT {planted}"
    )
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--max-diff", type=int, default=7)
    args = parser.parse_args()
    con = duckdb.connect()
    names = build(con, args.rows, 200)
    t0 = time.perf_counter()
    exact = con.execute(
        f"SELECT count(*) FROM (SELECT hash({', '.join(names)}) AS h, count(*) AS n FROM t GROUP BY h HAVING n > 1)"
    ).fetchone()
    floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = soft_duplicate_pairs(con, "t", names, args.max_diff, "1")
    ours = time.perf_counter() - t0
    planted = con.execute(
        "SELECT count(*) FROM _soft_pairs WHERE a LIKE 'p%' AND substr(a, 2) = substr(b, 2)"
    ).fetchone()
    print(
        f"| workload | {args.rows:,} submissions x {len(names)} compared answers, max_diff {args.max_diff} |"
    )
    print("|---|---|")
    print(
        f"| soft duplicates (banded join + verification) | {ours:.1f} s, {pairs:,} pairs ({planted[0]} of 200 planted) |"
    )  # type: ignore[index]
    print(f"| DuckDB floor: GROUP BY hash of all answers (exact duplicates: {exact[0]}) | {floor:.2f} s |")  # type: ignore[index]
    print(f"| ratio ours / floor | {ours / floor:.0f}x |")
    print(f"| target | < 60 s: {'met' if ours < 60 else 'NOT met'} |")


if __name__ == "__main__":
    main()
