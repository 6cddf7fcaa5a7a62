"""CSV exports that are safe to open in Excel: formula injection neutralised, UTF-8 with BOM, atomic.

Numbers are written with at most 12 significant digits (`0.66`, not `0.6600000000000001`), unrounded
otherwise and unclipped: a Wald interval can go below 0 or above 1, as R's `survey`/`srvyr` give it.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import named_query, table_exists
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from .i18n import STRINGS
from .queries import StoreData


def sql(name: str) -> str:
    return named_query("assess.report", name)


SIGNIFICANT_DIGITS = 12
# `assess export estimates`: the store's columns with the labels (in the configured language) beside the codes
# (`unit`: 'household', or the repeat group whose rows -- members -- were estimated; n counts those units)
ESTIMATE_EXPORT_COLUMNS = (
    "round",
    "unit",
    "level",
    "area",
    "area_label",
    "indicator",
    "indicator_label",
    "option",
    "option_label",
    "estimate",
    "ci_low",
    "ci_high",
    "se",
    "df",
    "n",
    "n_households",
    "n_option",
    "weighted_n",
    "suppressed",
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula; numbers (negative ones too) stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell(value: object) -> object:
    """A CSV cell: floats with at most 12 significant digits (shortest form, so 1.0 stays `1.0`), text
    neutralised, everything else as it is."""
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(f"{value:.{SIGNIFICANT_DIGITS}g}"))
    return neutralise(value)


def _rows(cur: duckdb.DuckDBPyConnection) -> Iterator[tuple]:
    while batch := cur.fetchmany(10_000):
        yield from batch


def write_rows(header: Sequence[str], rows: Iterable[Sequence[object]], out: Path) -> int:
    """Write `rows` under `header` as a CSV that Excel opens safely, through a temp file; return the row count."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([neutralise(h) for h in header])
            for row in rows:
                writer.writerow([cell(v) for v in row])
                n += 1
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def write_csv(con: duckdb.DuckDBPyConnection, query: str, params: dict, out: Path) -> int:
    cur = con.execute(query, params)
    return write_rows([d[0] for d in cur.description], _rows(cur), out)


def export_estimates(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, round_: str | None, out: Path
) -> int:
    """Estimates with labels in the configured language (as the reports label them) and suppressed cells
    blanked (their values stay in the store for audit)."""
    if not table_exists(con, "estimates"):  # no households loaded yet
        return write_rows(ESTIMATE_EXPORT_COLUMNS, [], out)
    code = form.language.code
    labels = StoreData(con, settings, form, form.language.column)  # before the query: it reads the store too
    national = {**STRINGS["en"], **STRINGS.get(code, {})}["national"]

    def labelled(rows: Iterable[tuple]) -> Iterator[tuple]:
        for round_, unit, level, area, indicator, option, *values in rows:
            area_label = national if level == "national" else labels.plain_area_label(level, area)
            yield (
                round_,
                unit,
                level,
                area,
                area_label,
                indicator,
                labels.indicator_label(indicator, code),
                option,
                labels.option_label(indicator, option or "", code),
                *values,
            )

    return write_rows(
        ESTIMATE_EXPORT_COLUMNS, labelled(_rows(con.execute(sql("export_estimates"), {"round": round_}))), out
    )


def export_quarantine(con: duckdb.DuckDBPyConnection, round_: str | None, out: Path) -> int:
    return write_csv(con, sql("export_quarantine"), {"round": round_}, out)


HOUSEHOLD_TABLE = "submissions"
MEMBER_PREFIX = "r_"  # a repeat group's member table (assess.store.load)


def data_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables `assess export table` writes: the households and every repeat group's member table."""
    members = [name for (name,) in con.execute(sql("member_tables")).fetchall()]
    return ([HOUSEHOLD_TABLE] if table_exists(con, HOUSEHOLD_TABLE) else []) + members


def find_table(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """`submissions`, `r_<repeat>` or the repeat's own name -> the store table; None when there is none."""
    tables = data_tables(con)
    for candidate in (name, MEMBER_PREFIX + name):
        if candidate in tables:
            return candidate
    return None


def export_table(con: duckdb.DuckDBPyConnection, table: str, round_: str | None, out: Path) -> int:
    """A household or member table as it is stored (private answers are keyed hashes there), one row per
    household or member instance; `table` must come from `data_tables` (it is an identifier)."""
    if table not in data_tables(con):
        raise ValueError(f"not a data table of the store: {table!r}")
    order = "round, submission_id" + (", path" if table != HOUSEHOLD_TABLE else "")
    return write_csv(
        con,
        f"SELECT * FROM {q(table)} WHERE $round IS NULL OR round = $round ORDER BY {order}",
        {"round": round_},
        out,
    )
