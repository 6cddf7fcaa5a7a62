"""CSV exports that are safe to open in Excel: formula injection neutralised, UTF-8 with BOM, atomic."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import duckdb

from ..core.sqlutil import named_query


def sql(name: str) -> str:
    return named_query("assess.report", name)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula; numbers (negative ones too) stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(con: duckdb.DuckDBPyConnection, query: str, params: dict, out: Path) -> int:
    cur = con.execute(query, params)
    header = [d[0] for d in cur.description]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([neutralise(h) for h in header])
            while batch := cur.fetchmany(10_000):
                writer.writerows([neutralise(v) for v in row] for row in batch)
                n += len(batch)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def export_estimates(con: duckdb.DuckDBPyConnection, round_: str | None, out: Path) -> int:
    """Estimates with suppressed cells blanked (their values stay in the store for audit)."""
    return write_csv(con, sql("export_estimates"), {"round": round_}, out)


def export_quarantine(con: duckdb.DuckDBPyConnection, round_: str | None, out: Path) -> int:
    return write_csv(con, sql("export_quarantine"), {"round": round_}, out)
