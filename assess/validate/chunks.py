"""A wide table's rules in chunks, each over a view of the few columns its rules read.

GX hands DuckDB every expectation's query over the whole table (a subquery naming each column), and DuckDB
plans all those columns each time: ~40 ms per query on a 1,350-column table against ~6 ms on the columns the
rule reads. On a wide form (1,500 expectations, two queries each) that was most of the validation time.
"""

from __future__ import annotations

import re

import duckdb

from ..core.sqlutil import quote as q
from .rules import TABLE, Rule

WIDE = 200  # columns from which a table's rules run in chunks
CHUNK_COLUMNS = 80  # columns a chunk's view holds (besides the internal ones)
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_WORD = re.compile(r"[A-Za-z_][\w]*")


def referenced(rule: Rule, columns: set[str]) -> set[str]:
    """The table columns a rule reads: its GX arguments, and every name its SQL flag mentions."""
    names: set[str] = set()
    for key in ("column", "column_A", "column_B"):
        if isinstance(rule.kwargs.get(key), str):
            names.add(rule.kwargs[key])
    names.update(c for c in rule.kwargs.get("column_list") or () if isinstance(c, str))
    if rule.column:
        names.add(rule.column)
    if rule.flag:
        names.update(m.replace('""', '"') for m in _QUOTED.findall(rule.flag))
        names.update(_WORD.findall(rule.flag))
    return names & columns


def table_columns(db_path: str) -> list[str]:
    con = duckdb.connect(db_path)
    try:
        return [d[0] for d in con.execute(f"SELECT * FROM {TABLE} LIMIT 0").description]
    finally:
        con.close()


def table_rows(db_path: str) -> int:
    con = duckdb.connect(db_path)
    try:
        row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def plan_chunks(rules: list[Rule], columns: list[str]) -> list[tuple[list[str], list[int]]]:
    """(view columns, rule indices) per chunk, rules in order; [] when the table is narrow enough as it is.

    Internal columns (`_row`, `_sid`, helpers starting with `_`) are in every view.
    """
    if len(columns) < WIDE:
        return []
    internal = [c for c in columns if c.startswith("_")]
    known = set(columns)
    chunks: list[tuple[list[str], list[int]]] = []
    cols: dict[str, None] = {}
    members: list[int] = []
    for i, rule in enumerate(rules):
        needs = referenced(rule, known) - set(internal)
        if members and len(cols.keys() | needs) > CHUNK_COLUMNS:
            chunks.append((internal + list(cols), members))
            cols, members = {}, []
        cols.update(dict.fromkeys(sorted(needs)))
        members.append(i)
    if members:
        chunks.append((internal + list(cols), members))
    return chunks


def create_views(db_path: str, chunks: list[tuple[list[str], list[int]]]) -> list[str]:
    """One view per chunk over the table, in the DuckDB file GX opens; their names."""
    names = [f"{TABLE}_{k}" for k in range(len(chunks))]
    con = duckdb.connect(db_path)
    try:
        for name, (cols, _) in zip(names, chunks, strict=True):
            con.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(q(c) for c in cols)} FROM {TABLE}"
            )
    finally:
        con.close()
    return names
