"""SQL and file helpers every stage uses: written once, here.

- `quote`: an identifier from the XLSForm or an export header (never an answer) made safe for SQL.
- `named_query`: one query per `.sql` file in a stage's `sql/` folder; values go in as parameters.
- `transaction`: BEGIN ... COMMIT, rolled back on any error (a half-loaded file is never visible).
- `atomic_write_text` / `atomic_write_json` / `atomic_copy`: a temp file renamed into place, so a reader
  (or a run killed half-way) never sees half a file.
- `table_columns` / `table_exists`: what a store table holds.
- `fetch_one` / `fetch_value`: the row (or first value) of a query that always returns one, e.g. an aggregate.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (names come from the form or export headers, never from answers)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal, for the few places DuckDB takes no parameter (file paths in table functions)."""
    return "'" + str(text).replace("'", "''") + "'"


@cache
def named_query(package: str, name: str) -> str:
    """The query `name` from `<package>/sql/<name>.sql` (e.g. `named_query("assess.store", "schema")`)."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: committed when it ends, rolled back when anything raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _tmp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temp file in the same folder, renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))


def atomic_copy(src: Path, dest: Path) -> Path:
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(dest)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def fetch_one(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> tuple[Any, ...]:
    """The first row of a query that always returns one (an aggregate such as count(*), or a row known to
    exist); a LookupError naming the query when there is none, instead of a TypeError on `None` later.

    Fetched whole: a result left half read blocks `register` on the connection (DuckDB 2)."""
    rows = con.execute(query, params).fetchall()
    row = rows[0] if rows else None
    if row is None:
        first = next((line.strip() for line in query.splitlines() if line.strip()), "")
        raise LookupError(f"the query returned no row: {first[:200]}")
    return row


def fetch_value(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> Any:
    """The first value of the first row of a query that always returns one (see `fetch_one`)."""
    return fetch_one(con, query, params)[0]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def table_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """Column name -> type of a table or view, in table order (empty when it does not exist)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return {n: t for n, t in rows}
