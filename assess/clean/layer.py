"""The cleaned relations: temp views named like the store tables (`submissions`, `selections`, `r_<repeat>`)
that apply `cleaning_effective` over the raw rows. DuckDB resolves a temp view before a table of the same name,
so everything that reads `submissions` on this connection (the estimates, the counts) reads cleaned values;
raw rows stay as loaded. No change in effect: no view, the tables are read as they are."""

from __future__ import annotations

import duckdb

from ..core.sqlutil import fetch_value, literal
from ..core.sqlutil import quote as q

CLEANED = "cleaning_effective"
REMOVED = "remove_survey"


def base_tables(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The store's own tables (never the temp views) -> column name -> type."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns c "
        "WHERE table_catalog = current_database() AND table_schema = 'main' "
        "AND (table_name IN ('submissions', 'selections', $e) OR table_name LIKE 'r\\_%' ESCAPE '\\') "
        "ORDER BY table_name, ordinal_position",
        {"e": CLEANED},
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, col, typ in rows:
        out.setdefault(table, {})[col] = typ
    return out


def uninstall(con: duckdb.DuckDBPyConnection) -> None:
    for (name,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND "
        "(view_name IN ('submissions', 'selections') OR view_name LIKE 'r\\_%' ESCAPE '\\')"
    ).fetchall():
        con.execute(f"DROP VIEW IF EXISTS temp.main.{q(name)}")


def install(con: duckdb.DuckDBPyConnection) -> bool:
    """(Re)create the cleaned views on this connection; True when some cleaning is in effect."""
    uninstall(con)
    tables = base_tables(con)
    if CLEANED not in tables or "submissions" not in tables:
        return False
    if not fetch_value(con, f"SELECT count(*) FROM main.{CLEANED}"):
        return False
    db = q(fetch_value(con, "SELECT current_database()"))
    removed = (
        f"NOT EXISTS (SELECT 1 FROM {db}.main.{CLEANED} x WHERE x.change_type = '{REMOVED}' "
        "AND x.round = s.round AND x.submission_id = s.submission_id)"
    )
    con.execute(f"CREATE TEMP VIEW submissions AS {_replaced(con, db, 'submissions', tables, removed)}")
    if "selections" in tables:
        con.execute(f"CREATE TEMP VIEW selections AS {_selections(db, removed)}")
    for table in tables:
        if table.startswith("r_"):
            con.execute(f"CREATE TEMP VIEW {q(table)} AS {_replaced(con, db, table, tables, removed)}")
    return True


def _replaced(
    con: duckdb.DuckDBPyConnection, db: str, table: str, tables: dict[str, dict[str, str]], removed: str
) -> str:
    """SELECT over the raw `table` with every changed column replaced (one pivot of the changes, one join)."""
    member = table != "submissions"
    cols = tables[table]
    changed = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT question FROM main.{CLEANED} WHERE change_type <> '{REMOVED}' "
            f"AND {'path <> ' if member else 'path = '}'' ORDER BY 1"
        ).fetchall()
        if r[0] in cols
    ]
    key = "s.round = o.round AND s.submission_id = o.submission_id" + (
        " AND s.path = o.path" if member else ""
    )
    base = f"SELECT s.* FROM {db}.main.{q(table)} s WHERE {removed}"
    if not changed:
        return base
    pivot = ", ".join(
        f"bool_or(question = {literal(c)}) AS _s{i}, max(new_value) FILTER (WHERE question = {literal(c)}) AS _v{i}"
        for i, c in enumerate(changed)
    )
    replace = ", ".join(
        f"CASE WHEN o._s{i} THEN TRY_CAST(o._v{i} AS {cols[c]}) ELSE s.{q(c)} END AS {q(c)}"
        for i, c in enumerate(changed)
    )
    return (
        f"SELECT s.* REPLACE ({replace}) FROM {db}.main.{q(table)} s LEFT JOIN ("
        f"SELECT round, submission_id, path, {pivot} FROM {db}.main.{CLEANED} "
        f"WHERE change_type <> '{REMOVED}' GROUP BY round, submission_id, path) o ON {key} WHERE {removed}"
    )


def _selections(db: str, removed: str) -> str:
    """Per-option rows follow a changed select_multiple answer (the summary column is what the log changes)."""
    return (
        "SELECT s.round, s.submission_id, s.question, s.option, CASE WHEN o.question IS NULL THEN s.selected "
        "WHEN o.new_value IS NULL THEN NULL "
        "ELSE list_contains(string_split(trim(o.new_value), ' '), s.option) END AS selected "
        f"FROM {db}.main.selections s LEFT JOIN {db}.main.{CLEANED} o ON o.round = s.round "
        f"AND o.submission_id = s.submission_id AND o.path = '' AND o.question = s.question "
        f"AND o.change_type <> '{REMOVED}' WHERE {removed}"
    )
