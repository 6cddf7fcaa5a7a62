"""The national report's disaggregation tables: one per analysis of the plan with group variables (issue 16).

Each table shows the estimate and its 95% CI in every group (suppressed cells as n<min); where the highest and
lowest groups' intervals do not overlap, both cells are marked, so a reader sees which differences the sample
supports. Few groups go across (answers down); many (e.g. region x sex) go down, answers across.
"""

from __future__ import annotations

from typing import Any

from ..core.sqlutil import named_query, table_exists
from .context import Context

__all__ = ["disaggregation_tables"]

_SEP = " %/% "
_ACROSS = 4  # at most this many groups as columns


def _label(ctx: Context, names: str, sep: str) -> str:
    """Labels of `a %/% b` joined by `sep` (" / " for a ratio's two variables, " × " for group variables)."""
    return sep.join(ctx.form.label(n, ctx.data.language) for n in names.split(_SEP))


def _value_label(ctx: Context, names: str, values: str) -> str:
    parts = []
    for name, value in zip(names.split(_SEP), values.split(_SEP), strict=False):
        question = ctx.form.questions.get(name)
        if question is not None and question.is_select:
            parts.append(ctx.form.choice_label(question.list_name, value, ctx.data.language))
        elif name in ctx.settings.region_levels:
            parts.append(ctx.data.plain_area_label(name, value))
        else:
            parts.append(value)
    return " · ".join(parts)


def _cell(ctx: Context, kind: str, r: dict[str, Any] | None) -> dict[str, Any]:
    if r is None:
        return {"text": "", "ci": "", "suppressed": False, "mark": False}
    if r["suppressed"]:
        return {"text": ctx.text.suppressed, "ci": "", "suppressed": True, "mark": False}
    if kind.startswith("prop"):
        ci = ctx.text.pct_ci(r["stat_low"], r["stat_upp"])
        return {"text": ctx.text.pct(r["stat"]), "ci": ci, "suppressed": False, "mark": False}
    decimals = 2 if kind == "ratio" else 1
    ci = ""
    if r["stat_low"] is not None and r["stat_upp"] is not None:
        ci = f"{ctx.text.num(r['stat_low'], decimals)}–{ctx.text.num(r['stat_upp'], decimals)}"
    return {"text": ctx.text.num(r["stat"], decimals), "ci": ci, "suppressed": False, "mark": False}


def _mark(cells: list[dict[str, Any]], rows: list[dict[str, Any] | None]) -> bool:
    """Mark the highest and lowest shown groups when their intervals do not overlap; True if marked."""
    shown = [
        (i, r)
        for i, r in enumerate(rows)
        if r is not None and not r["suppressed"] and r["stat_low"] is not None
    ]
    if len(shown) < 2:
        return False
    hi = max(shown, key=lambda x: x[1]["stat"])
    lo = min(shown, key=lambda x: x[1]["stat"])
    if hi[1]["stat_low"] > lo[1]["stat_upp"]:
        cells[hi[0]]["mark"] = cells[lo[0]]["mark"] = True
        return True
    return False


def disaggregation_tables(ctx: Context) -> list[dict[str, Any]]:
    """Value tables (the `value_table` macro's shape) for each analysis of the configured plan with groups."""
    con = ctx.data.con
    if not ctx.settings.plan or not table_exists(con, "results"):
        return []
    rows = [
        dict(zip([d[0] for d in cur.description], r, strict=True))
        for cur in [
            con.execute(named_query("assess.report", "report_results"), {"round": ctx.settings.round})
        ]
        for r in cur.fetchall()
    ]
    tables = []
    for plan_row in dict.fromkeys(r["plan_row"] for r in rows):
        part = [r for r in rows if r["plan_row"] == plan_row]
        first = part[0]
        kind, var, group = first["analysis_type"], first["analysis_var"], first["group_var"]
        groups = list(dict.fromkeys(r["group_var_value"] for r in part))
        answers = list(dict.fromkeys(r["analysis_var_value"] for r in part))
        index = {(r["analysis_var_value"], r["group_var_value"]): r for r in part}
        group_labels = [_value_label(ctx, group, g) for g in groups]
        answer_labels = [
            _value_label(ctx, var, a) if kind.startswith("prop") else ctx.text["estimate_word"]
            for a in answers
        ]
        matrix = []
        for a in answers:
            cells_rows = [index.get((a, g)) for g in groups]
            cells = [_cell(ctx, kind, r) for r in cells_rows]
            _mark(cells, cells_rows)
            matrix.append(cells)
        across = len(groups) <= _ACROSS
        title = ctx.text.fill(
            "disagg_title",
            what=_label(ctx, var, " / "),
            kind=ctx.text[f"kind_{kind}"],
            by=_label(ctx, group, " × "),
        )
        if first["unit"] != "household":
            title += f" ({ctx.text['members_word']})"
        tables.append(
            {
                "title": title,
                "area_header": "" if across else _label(ctx, group, " · "),
                "columns": group_labels if across else answer_labels,
                "rows": [
                    {"label": label, "cells": cells, "total": False}
                    for label, cells in (
                        zip(answer_labels, matrix, strict=True)
                        if across
                        else zip(group_labels, [list(c) for c in zip(*matrix, strict=True)], strict=True)
                    )
                ],
            }
        )
    return tables
