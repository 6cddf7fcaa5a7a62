"""Failing rows read back from DuckDB and turned into `Problem`s, private and free-text values redacted.

GX decides which rules fail and how often; every failing row is then read with the expectation's own SQL (the
rule's flag, or GX's unexpected-index query): a file with 5,000 bad rows quarantines 5,000, not the 20 GX lists.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb

from ..core.privacy import PERSONAL_METADATA, REDACTED, is_private_column
from ..core.problems import Problem
from ..core.sqlutil import quote as q
from .gx import RuleOutcome
from .rules import TABLE, Rule, RuleContext
from .sqlrewrite import options_as_text

log = logging.getLogger(__name__)

FREE_TEXT_TYPES = {"text"}  # question types whose values are always shown redacted


def _failing_rows_sql(rule: Rule, outcome: RuleOutcome) -> str | None:
    if rule.flag is not None:
        return f"SELECT _row FROM (SELECT _row, ({rule.flag}) AS _fail FROM {TABLE}) AS t WHERE _fail"
    if outcome.index_query:
        return f"SELECT _row FROM ({outcome.index_query.strip().rstrip(';')}) AS t"
    return None


def _show(ctx: RuleContext, col: str | None, value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if col is not None and _is_private(ctx, col):
        return REDACTED
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_private(ctx: RuleContext, col: str) -> bool:
    if col not in ctx.redacted_columns:
        ctx.redacted_columns[col] = _is_private_column(ctx, col)
    return ctx.redacted_columns[col]


def _is_private_column(ctx: RuleContext, col: str) -> bool:
    owner = next((c.question for c in ctx.staged.columns if c.name == col), None) or ctx.ancestor_columns.get(
        col
    )
    header = ctx.column_headers.get(col, col)
    qtype = ctx.form.questions[owner].type if owner in ctx.form.questions else None
    return (
        is_private_column(col, owner, ctx.private_questions)
        or header in ctx.private_questions
        or header in PERSONAL_METADATA
        or qtype in FREE_TEXT_TYPES
    )


def _value_columns(rule: Rule) -> list[str]:
    return [c for c in (rule.value_columns or ((rule.column,) if rule.column else ())) if c]


def _value_sql(ctx: RuleContext, rule: Rule, col: str) -> str:
    if col == "__options__":
        return options_as_text(ctx.staged.option_columns(rule.question or ""))
    return q(col)


def rows_query(rule: Rule, outcome: RuleOutcome) -> str | None:
    query = _failing_rows_sql(rule, outcome)
    if query is None and outcome.rows is not None:
        query = "SELECT unnest([" + ", ".join(str(int(r)) for r in outcome.rows) + "]::BIGINT[]) AS _row"
    return query


def file_level_problem(rule: Rule, outcome: RuleOutcome, member: str | None = None) -> Problem:
    if not rule.row_level:
        return Problem(
            expectation=rule.gx_type,
            kind=rule.kind,
            action=rule.action,
            member=member,
            reason=f"{rule.describe}: the check failed for the file as a whole",
        )
    return Problem(
        expectation=rule.gx_type,
        kind=rule.kind,
        action=rule.action,
        member=member,
        reason=f"{rule.describe}: {outcome.unexpected} row(s) fail; rows could not be listed",
    )


def _path_sql(ctx: RuleContext) -> str:
    return "d._path" if ctx.repeat else "CAST(NULL AS VARCHAR)"


def failing_rows(
    con: duckdb.DuckDBPyConnection, failed: list[tuple[int, Rule, RuleOutcome]], ctx: RuleContext
) -> dict[int, list[tuple]]:
    """(row, sid, instance path, *values) of every failing row of every failed rule: in one statement, or
    rule by rule when that statement fails."""
    try:
        return _failing_rows_together(con, failed, ctx)
    except duckdb.Error:
        log.warning("listing failing rows in one statement failed; listing them rule by rule", exc_info=True)
        return {i: failing_rows_one(con, rule, outcome, ctx) for i, rule, outcome in failed}


def _failing_rows_together(
    con: duckdb.DuckDBPyConnection, failed: list[tuple[int, Rule, RuleOutcome]], ctx: RuleContext
) -> dict[int, list[tuple]]:
    """`failing_rows` in one statement.

    The flags of the failed UnexpectedRows rules are evaluated together in one pass over the table; the
    built-ins contribute GX's own unexpected-index query; then one join fetches ids and values.
    """
    if not failed:
        return {}
    flagged = [(i, rule) for i, rule, _ in failed if rule.flag is not None]
    branches = []
    if flagged:
        cols = ", ".join(f"({rule.flag}) AS __f{i}" for i, rule in flagged)
        hits = ", ".join(f"CASE WHEN __f{i} THEN {i} END" for i, _ in flagged)
        where = " OR ".join(f"__f{i}" for i, _ in flagged)
        branches.append(
            f"SELECT unnest(list_filter([{hits}], lambda x: x IS NOT NULL)) AS __rule, _row "
            f"FROM (SELECT _row, {cols} FROM {TABLE}) AS t WHERE {where}"
        )
    for i, rule, outcome in failed:
        if rule.flag is None:
            branches.append(f"SELECT {i} AS __rule, _row FROM ({rows_query(rule, outcome)}) AS t")
    values = " ".join(
        f"WHEN {i} THEN [{', '.join(f'CAST({_value_sql(ctx, rule, c)} AS VARCHAR)' for c in _value_columns(rule))}"
        "]::VARCHAR[]"
        for i, rule, _ in failed
    )
    sql = (
        f"WITH h AS (SELECT DISTINCT __rule, _row FROM ({' UNION ALL '.join(branches)}) AS b) "
        f"SELECT h.__rule, d._row, d._sid, {_path_sql(ctx)}, CASE h.__rule {values} END "
        f"FROM h JOIN {TABLE} d ON d._row = h._row ORDER BY h.__rule, d._row"
    )
    ctx.sql_statements += 1
    out: dict[int, list[tuple]] = {i: [] for i, _, _ in failed}
    for i, row, sid, path, vals in con.execute(sql).fetchall():
        out[i].append((row, sid, path, *vals))
    return out


def failing_rows_one(
    con: duckdb.DuckDBPyConnection, rule: Rule, outcome: RuleOutcome, ctx: RuleContext
) -> list[tuple]:
    """The same for one rule (fallback when the combined statement fails)."""
    selects = ["d._row", "d._sid", _path_sql(ctx), *(_value_sql(ctx, rule, c) for c in _value_columns(rule))]
    sql = (
        f"SELECT {', '.join(selects)} FROM {TABLE} d SEMI JOIN ({rows_query(rule, outcome)}) f "
        "ON d._row = f._row ORDER BY d._row"
    )
    ctx.sql_statements += 1
    return con.execute(sql).fetchall()


def problems_for(rule: Rule, outcome: RuleOutcome, ctx: RuleContext, found: list[tuple]) -> list[Problem]:
    label = ctx.label(rule.question) if rule.question else ""
    column_header = ctx.column_headers.get(rule.column or "", rule.column)
    value_cols = _value_columns(rule)
    if (
        outcome.unexpected
        and len(found) != outcome.unexpected
        and rule.gx_type != "expect_column_pair_values_to_be_in_set"
    ):
        log.warning(
            "rule %s: GX counted %s failing rows, the row query found %s",
            rule.describe,
            outcome.unexpected,
            len(found),
        )
    redact = bool(rule.column and _is_private(ctx, rule.column))
    problems = []
    for row, sid, path, *values in found:
        shown = {c: _show(ctx, c, v) for c, v in zip(value_cols, values, strict=True)}
        by_col = dict(zip(value_cols, values, strict=True))
        value = by_col.get(rule.column or "", values[0] if values else None)
        fields = {
            "label": label,
            "value": shown.get(rule.column or "", _show(ctx, rule.column, value)) if rule.column else "",
            "a": shown.get(value_cols[0], "") if value_cols else "",
            "b": shown.get(value_cols[1], "") if len(value_cols) > 1 else "",
            "others": ", ".join(f"{ctx.column_headers.get(c, c)} {shown[c]}" for c in value_cols[1:]),
            "values": ", ".join(f"{ctx.column_headers.get(c, c)} {shown[c]}" for c in value_cols)
            or rule.describe,
            "tokens": _bad_tokens(rule, value, ctx),
        }
        if value_cols and value_cols[-1] == "__options__":
            fields["b"] = shown["__options__"] if shown["__options__"] != "(blank)" else "(none selected)"
        raw = None if value is None else str(value)
        problems.append(
            Problem(
                expectation=rule.gx_type,
                kind=rule.kind,
                action=rule.action,
                row=int(row),
                submission_id=None if sid is None else str(sid),
                column=column_header,
                value=REDACTED if raw is not None and redact else raw,
                reason=rule.template.format(**fields).strip(),
                member=ctx.member,
                path=path,
            )
        )
    return problems


def _bad_tokens(rule: Rule, value: Any, ctx: RuleContext) -> str:
    if not rule.choices or value is None:
        return ""
    bad = [t for t in str(value).split() if t not in rule.choices]
    if rule.column and _is_private(ctx, rule.column):
        return "some options are"
    return (", ".join(f"'{t}'" for t in bad) + (" is" if len(bad) == 1 else " are")) if bad else ""
