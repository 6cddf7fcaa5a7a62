"""Soft duplicates found exactly without comparing every pair.

Split the m compared columns into max_diff + 1 bands. Two submissions that differ in at most max_diff answers
leave at least one band without a difference (pigeonhole), so they share that band's hash: join on equal band
hashes in DuckDB, then count the differing answers of each candidate pair. A missing answer is a value. Columns
are dealt to the bands by falling number of distinct values, so that no band is all yes/no questions (a band
with few possible values would make most pairs candidates).
"""

from __future__ import annotations

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
    where = "round = $round" if round_ is not None else "true"
    params = {"round": round_} if round_ is not None else {}
    groups = bands(con, table, columns, max_diff + 1, where, params)
    text = {c: f"COALESCE(CAST({q(c)} AS VARCHAR), chr(0))" for c in columns}
    hashes = ", ".join(f"hash({', '.join(text[c] for c in g)}) AS _b{i}" for i, g in enumerate(groups))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _soft_rows AS SELECT {q(id_column)} AS _id, {hashes}, "
        f"{', '.join(f'{q(c)} AS _c{j}' for j, c in enumerate(columns))} FROM {q(table)} WHERE {where}",
        params,
    )
    candidates = " UNION ".join(
        f"SELECT x._id AS a, y._id AS b FROM _soft_rows x JOIN _soft_rows y ON x._b{i} = y._b{i} AND x._id < y._id"
        for i in range(len(groups))
    )
    diff = " + ".join(f"CAST(x._c{j} IS DISTINCT FROM y._c{j} AS INTEGER)" for j in range(len(columns)))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _soft_pairs AS SELECT a, b, diff FROM ("
        f"SELECT p.a, p.b, {diff} AS diff FROM ({candidates}) p "
        "JOIN _soft_rows x ON x._id = p.a JOIN _soft_rows y ON y._id = p.b) WHERE diff <= $max",
        {"max": max_diff},
    )
    return int(con.execute("SELECT count(*) FROM _soft_pairs").fetchone()[0])  # type: ignore[index]
