"""Soft duplicates found exactly without comparing every pair.

Split the m compared columns into max_diff + 2 bands. Two submissions that differ in at most max_diff answers
have a difference in at most max_diff bands, so at least two bands agree whole (pigeonhole): join on equal
hashes of each pair of bands in DuckDB (a pair of bands is selective, where one band of yes/no questions would
make most pairs candidates), then count the differing answers of each candidate pair. A missing answer is a
value. Columns are dealt to the bands by falling number of distinct values, to even out the bands. With
exactly max_diff + 1 columns, single columns are the bands and one must agree; with fewer, every pair is a
soft duplicate.
"""

from __future__ import annotations

import itertools

import duckdb

from ..core.sqlutil import quote as q


def bands(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], n_bands: int, where: str, params: dict
) -> list[list[str]]:
    """The columns dealt round-robin into `n_bands` bands, most varied first."""
    counts = con.execute(
        f"SELECT {', '.join(f'approx_count_distinct({q(c)})' for c in columns)} FROM {q(table)} WHERE {where}",
        params,
    ).fetchone()
    ranked = sorted(zip(columns, counts or [0] * len(columns), strict=True), key=lambda t: -(t[1] or 0))
    out: list[list[str]] = [[] for _ in range(min(n_bands, len(columns)))]
    for i, (col, _) in enumerate(ranked):
        out[i % len(out)].append(col)
    return out


def soft_duplicate_pairs(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    max_diff: int,
    round_: str | None = None,
    id_column: str = "submission_id",
) -> int:
    """Fill the temp table `_soft_pairs(a, b, diff)` (a < b) with every pair of rows of `table` that differ
    in at most `max_diff` of `columns`; return how many."""
    con.execute("SET enable_progress_bar = false")  # the run shows its own progress rows; never DuckDB's bar
    where = "round = $round" if round_ is not None else "true"
    params = {"round": round_} if round_ is not None else {}
    agree = 2 if len(columns) >= max_diff + 2 else 1
    groups = bands(con, table, columns, max_diff + agree, where, params)
    text = {c: f"COALESCE(CAST({q(c)} AS VARCHAR), chr(0))" for c in columns}
    hashes = ", ".join(f"hash({', '.join(text[c] for c in g)}) AS _b{i}" for i, g in enumerate(groups))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _soft_rows AS SELECT {q(id_column)} AS _id, {hashes}, "
        f"{', '.join(f'{q(c)} AS _c{j}' for j, c in enumerate(columns))} FROM {q(table)} WHERE {where}",
        params,
    )
    if len(columns) <= max_diff:
        candidates = "SELECT x._id AS a, y._id AS b FROM _soft_rows x JOIN _soft_rows y ON x._id < y._id"
    else:
        candidates = (
            "SELECT DISTINCT a, b FROM ("
            + " UNION ALL ".join(
                "SELECT x._id AS a, y._id AS b FROM _soft_rows x JOIN _soft_rows y ON "
                + " AND ".join(f"x._b{i} = y._b{i}" for i in combo)
                + " AND x._id < y._id"
                for combo in itertools.combinations(range(len(groups)), agree)
            )
            + ")"
        )
    diff = " + ".join(f"CAST(x._c{j} IS DISTINCT FROM y._c{j} AS INTEGER)" for j in range(len(columns)))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _soft_pairs AS SELECT a, b, diff FROM ("
        f"SELECT p.a, p.b, {diff} AS diff FROM ({candidates}) p "
        "JOIN _soft_rows x ON x._id = p.a JOIN _soft_rows y ON y._id = p.b) WHERE diff <= $max",
        {"max": max_diff},
    )
    return int(con.execute("SELECT count(*) FROM _soft_pairs").fetchone()[0])  # type: ignore[index]
