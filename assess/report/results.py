"""`assess export results`: analysistools' long results table (CSV or XLSX), labels in the configured language.

The XLSX adds one readable sheet per group variable: variables down, groups across, each estimate with its
confidence interval beside it, percentages formatted -- the table analysts paste into factsheets.
Suppressed rows keep their keys and n_total; their numbers are blank (see sql/export_results.sql).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import named_query, table_exists
from ..core.xlsform import XLSForm
from ..estimate.analysis import RESULT_COLUMNS
from .exports import neutralise, write_rows

__all__ = ["RESULT_EXPORT_COLUMNS", "export_results"]

# analysistools' columns as the store keeps them, then the labels and the disclosure flag
RESULT_EXPORT_COLUMNS = (
    *RESULT_COLUMNS,
    "analysis_var_label",
    "analysis_var_value_label",
    "group_var_label",
    "group_var_value_label",
    "suppressed",
)
_SEP = " %/% "


class _Labels:
    """Question and answer labels from the form, in the configured language (codes where none)."""

    def __init__(self, form: XLSForm):
        self.form, self.lang = form, form.language.column

    def var(self, name: str) -> str:
        return _SEP.join(self.form.label(part, self.lang) for part in name.split(_SEP)) if name else ""

    def value(self, name: str, value: str) -> str:
        if not value or value == "NA %/% NA":
            return value
        names, values = name.split(_SEP), value.split(_SEP)
        if len(names) != len(values):
            return value
        out = []
        for n, v in zip(names, values, strict=True):
            question = self.form.questions.get(n)
            out.append(
                self.form.choice_label(question.list_name, v, self.lang)
                if question and question.is_select
                else v
            )
        return _SEP.join(out)


def _labelled(con: duckdb.DuckDBPyConnection, form: XLSForm, round_: str | None) -> Iterator[tuple[Any, ...]]:
    labels = _Labels(form)
    cur = con.execute(named_query("assess.report", "export_results"), {"round": round_})
    for row in cur.fetchall():
        *values, suppressed = row
        kind, var, value, group, group_value = values[:5]
        yield (
            *values,
            labels.var(var),
            labels.value(var, value) if kind.startswith("prop") else "",
            labels.var(group),
            labels.value(group, group_value),
            bool(suppressed),
        )


def export_results(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, round_: str | None, out: Path
) -> int:
    """Write the results (of the plan, or of the default plan) to `out` (.csv or .xlsx); returns the rows."""
    rows = list(_labelled(con, form, round_)) if table_exists(con, "results") else []
    if Path(out).suffix.lower() == ".xlsx":
        return _write_xlsx(rows, Path(out))
    return write_rows(RESULT_EXPORT_COLUMNS, rows, Path(out))


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join("_" if c in "[]:*?/\\" else c for c in text)[:28] or "groups"
    base, k = name, 2
    while name.lower() in used:
        name, k = f"{base[:26]}_{k}", k + 1
    used.add(name.lower())
    return name


def _write_xlsx(rows: list[tuple[Any, ...]], out: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    col = {name: i for i, name in enumerate(RESULT_EXPORT_COLUMNS)}
    book = Workbook()
    long = book.active
    assert long is not None
    long.title = "results"
    long.append(list(RESULT_EXPORT_COLUMNS))
    for row in rows:
        long.append([neutralise(v) for v in row])
    used = {"results"}
    groups = list(dict.fromkeys(r[col["group_var"]] for r in rows if r[col["group_var"]]))
    for group in groups:
        part = [r for r in rows if r[col["group_var"]] == group]
        sheet = book.create_sheet(
            _sheet_name((part[0][col["group_var_label"]] or group).replace(_SEP, " × "), used)
        )
        values = list(
            dict.fromkeys((r[col["group_var_value"]], r[col["group_var_value_label"]]) for r in part)
        )
        sheet.append(
            [
                "Variable",
                "Answer",
                *[x for _, label in values for x in (label.replace(_SEP, " · "), "95% CI")],
            ]
        )
        for c in sheet[1]:
            c.font = Font(bold=True)
        lines: dict[tuple[str, str, str], dict[str, tuple[Any, ...]]] = {}
        for r in part:
            key = (r[col["analysis_type"]], r[col["analysis_var_label"]], r[col["analysis_var_value_label"]])
            lines.setdefault(key, {})[r[col["group_var_value"]]] = r
        for (kind, var_label, value_label), cells in lines.items():
            line: list[Any] = [neutralise(var_label), neutralise(value_label)]
            fmt = "0.0%" if kind.startswith("prop") else "#,##0.00"
            formats = []
            for value, _ in values:
                got = cells.get(value)
                stat = None if got is None else got[col["stat"]]
                low, upp = (None, None) if got is None else (got[col["stat_low"]], got[col["stat_upp"]])
                if got is not None and got[col["suppressed"]]:
                    ci = "suppressed"
                elif low is None or upp is None:
                    ci = ""
                elif kind.startswith("prop"):
                    ci = f"{low:.1%} – {upp:.1%}"
                else:
                    ci = f"{low:,.2f} – {upp:,.2f}"
                line += [stat, ci]
                formats += [fmt, None]
            sheet.append(line)
            for c, f in zip(sheet[sheet.max_row][2:], formats, strict=True):
                if f:
                    c.number_format = f
                c.alignment = Alignment(horizontal="right")
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 30
        sheet.freeze_panes = "C2"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        book.save(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)
