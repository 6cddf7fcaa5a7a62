"""Members: questions asked per row of a repeat group (the household roster), and household numbers made
from those rows (`[[indicators.members]]`).

A `[needs] questions` entry that lives in a repeat is estimated over the repeat's rows: each row becomes a
unit of `est_units` (`_unit` = the repeat's name) that carries its household's weight, stratum, PSU (the
household, or its cluster) and areas, and `_hh` = the household's `_rid`; `compute_estimates` runs one design
per unit type. The rows come from the store table `r_<repeat>` (round, submission_id = the household's id,
path, parent_path, ..., one typed column per question of the repeat; a select_multiple holds the
space-separated codes).

`[[indicators.members]]` entries are household-level numbers (one row per household in `est_values`,
kind 'mean') from the rows where a condition holds: `count` (how many), `any` (1/0), `all` (1/0), `share`
(fraction of the rows). A household without any row in the repeat has no value (it did not answer the
roster), unless the repeat's `repeat_count` is 0 for it: then `count` and `any` are 0 (`all` and `share`
of no rows stay missing). A row whose condition cannot be decided (a blank answer) does not match, as in
the form itself.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ..core.settings import ConfigError, MemberIndicatorSpec, Settings
from ..core.sqlutil import fetch_value, table_columns, table_exists
from ..core.sqlutil import quote as q
from ..core.xlsform import Question, XLSForm
from ..core.xpath import Untranslatable, references, to_sql

# member-indicator aggregates over the rows of one household: SQL over `hit` (1.0 when the row matches, else
# 0.0), and the value when the form says the household has no row (repeat_count = 0)
_AGGREGATES = {
    "count": ("sum(hit)", "0.0"),
    "any": ("max(hit)", "0.0"),
    "all": ("min(hit)", "NULL"),
    "share": ("avg(hit)", "NULL"),
}


def member_questions(settings: Settings, form: XLSForm) -> list[Question]:
    """The `[needs] questions` that live in a repeat group (estimated over its rows)."""
    return [form.questions[n] for n in settings.needs if n in form.questions and form.questions[n].repeat]


def check_members_config(settings: Settings, form: XLSForm) -> None:
    """`[[indicators.members]]` against the form: the repeat exists, the name is new, the condition reads
    questions of that repeat (or of the household) and can be translated. ConfigError naming the entry."""
    where = f"{settings.config_path}: "
    for i, spec in enumerate(settings.indicators.members, start=1):
        at = f"{where}[[indicators.members]] entry {i} ('{spec.name}'): "
        repeat = form.repeats.get(spec.repeat)
        if repeat is None:
            known = ", ".join(form.repeats) or "none"
            raise ConfigError(
                f"{at}repeat '{spec.repeat}' is not a repeat group of the form {form.path.name} "
                f"(its repeat groups: {known}); use the name of its begin_repeat row."
            )
        if spec.name in form.questions:
            raise ConfigError(
                f"{at}'{spec.name}' is already a question of the form {form.path.name}; give the "
                "new household column another name."
            )
        for name in sorted(references(spec.when)):
            question = form.questions.get(name)
            if question is None:
                raise ConfigError(
                    f"{at}'${{{name}}}' is not a question of the form {form.path.name}; fix the name "
                    "in the condition."
                )
            if question.repeat not in (None, spec.repeat):
                raise ConfigError(
                    f"{at}'${{{name}}}' is a question of the repeat '{question.repeat}'; a condition "
                    f"can use the questions of the repeat '{spec.repeat}' and of the household."
                )
        try:
            to_sql(spec.when, lambda n: (q(n), form.questions[n].type))
        except (Untranslatable, ValueError) as exc:
            raise ConfigError(
                f'{at}the condition "{spec.when}" cannot be used ({exc}); write it like an '
                'XLSForm relevant, e.g. "${age} >= 5 and ${age} <= 17".'
            ) from exc


def add_member_units(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> None:
    """Append to `est_units` one unit per row of each repeat group that a needs question lives in, with its
    household's design (weight, stratum, PSU, areas); `_hh` is the household's `_rid`, `_path` the row's path.
    Rows of households outside the design (not accepted, no valid weight) are left out, like their household."""
    repeats = list(dict.fromkeys(question.repeat for question in member_questions(settings, form)))
    cols = [c for c in table_columns(con, "est_units") if c not in ("_rid", "_unit", "_hh", "_path")]
    for name in repeats:
        assert name is not None
        repeat = form.repeats.get(name)
        if repeat is None or not table_exists(con, repeat.table):
            continue  # no export carried this repeat yet: nothing to estimate
        offset = fetch_value(con, "SELECT coalesce(max(_rid), 0) FROM est_units")
        copied = ", ".join(f"u.{q(c)}" for c in cols)
        con.execute(
            f"INSERT INTO est_units (_rid, {', '.join(q(c) for c in cols)}, _unit, _hh, _path) "
            f"SELECT $offset + row_number() OVER (ORDER BY m.submission_id, m.path), {copied}, $unit, u._rid, m.path "
            f"FROM {q(repeat.table)} m JOIN est_units u ON u._unit = 'household' AND u.submission_id = m.submission_id "
            "WHERE m.round = $round",
            {"offset": offset, "unit": name, "round": settings.round},
        )


def add_member_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, question: Question
) -> None:
    """Append the values of a needs question that lives in a repeat, one per row of the repeat (as
    `build_values` does per household): select_one -> 0/1 per answer, select_multiple -> 0/1 per option from
    the space-separated codes, integer/decimal -> the value (`missing_codes` missing); NULL when unanswered."""
    assert question.repeat is not None
    repeat = form.repeats.get(question.repeat)
    if (
        repeat is None
        or not table_exists(con, repeat.table)
        or question.name not in table_columns(con, repeat.table)
    ):
        return  # no export carried this question yet
    table, col = q(repeat.table), q(question.name)
    text = f"NULLIF(trim(CAST(m.{col} AS VARCHAR)), '')"
    rows = (
        f"FROM est_units u JOIN {table} m ON m.round = $round AND m.submission_id = u.submission_id "
        "AND m.path = u._path"
    )
    params: dict[str, object] = {"q": question.name, "round": settings.round, "unit": question.repeat}
    if question.type == "select_multiple":
        options = form.choice_names(question.name)
        seen = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT unnest(regexp_split_to_array({text}, '\\s+')) FROM {table} m "
                f"WHERE m.round = $round AND {text} IS NOT NULL ORDER BY 1",
                {"round": settings.round},
            ).fetchall()
        ]
        params["opts"] = options + [o for o in seen if o not in options]
        con.execute(
            f"INSERT INTO est_values SELECT u._rid, $q, o.option, 'prop', CASE WHEN {text} IS NULL THEN NULL "
            f"WHEN list_contains(regexp_split_to_array({text}, '\\s+'), o.option) THEN 1.0 ELSE 0.0 END "
            f"{rows} CROSS JOIN (SELECT unnest($opts::VARCHAR[]) AS option) o WHERE u._unit = $unit",
            params,
        )
    elif question.type == "select_one":
        params["opts"] = form.choice_names(question.name)
        con.execute(
            f"INSERT INTO est_values SELECT u._rid, $q, o.option, 'prop', CASE WHEN {text} IS NULL THEN NULL "
            f"WHEN {text} = o.option THEN 1.0 ELSE 0.0 END "
            f"{rows} CROSS JOIN (SELECT unnest($opts::VARCHAR[]) AS option) o WHERE u._unit = $unit",
            params,
        )
    else:
        params["missing"] = list(settings.missing_codes)
        value = f"TRY_CAST(m.{col} AS DOUBLE)"
        con.execute(
            f"INSERT INTO est_values SELECT u._rid, $q, '', 'mean', CASE WHEN {value} IN "
            f"(SELECT unnest($missing::DOUBLE[])) THEN NULL ELSE {value} END {rows} WHERE u._unit = $unit",
            params,
        )


def add_member_indicator_values(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    spec: MemberIndicatorSpec,
    submission_cols: set[str],
) -> None:
    """Append the household values of one `[[indicators.members]]` entry (kind 'mean', one per household)."""
    repeat = form.repeats.get(spec.repeat)
    if repeat is None or not table_exists(con, repeat.table):
        return  # no export carried this repeat yet
    where = f"{settings.config_path}: [[indicators.members]] '{spec.name}': "
    member_cols = set(table_columns(con, repeat.table))
    try:
        cond = to_sql(spec.when, _resolver(form, spec.repeat, member_cols, submission_cols))
    except (Untranslatable, ValueError) as exc:
        raise ConfigError(f'{where}{exc}; export the question or fix the condition "{spec.when}".') from exc
    aggregate, empty = _AGGREGATES[spec.aggregate]
    none = "false"
    if repeat.repeat_count and repeat.parent is None:  # "no row" is an answer when the form asked for none
        try:
            none = to_sql(f"({repeat.repeat_count}) = 0", _resolver(form, None, set(), submission_cols))
        except (Untranslatable, ValueError):
            none = "false"
    con.execute(
        "INSERT INTO est_values "
        f"SELECT u._rid, $name, '', 'mean', CASE WHEN a.value IS NOT NULL THEN a.value WHEN {none} THEN {empty} END "
        "FROM est_units u JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id "
        "LEFT JOIN (SELECT m.submission_id, "
        f"CAST({aggregate} AS DOUBLE) AS value FROM (SELECT m.submission_id, "
        f"CASE WHEN coalesce({cond}, false) THEN 1.0 ELSE 0.0 END AS hit "
        f"FROM {q(repeat.table)} m LEFT JOIN submissions s ON s.round = m.round AND s.submission_id = m.submission_id "
        "WHERE m.round = $round AND m.submission_id IN (SELECT submission_id FROM est_units WHERE _unit = 'household')) m "
        "GROUP BY m.submission_id) a ON a.submission_id = u.submission_id "
        "WHERE u._unit = 'household'",
        {"name": spec.name, "round": settings.round},
    )


def _resolver(
    form: XLSForm, repeat: str | None, member_cols: set[str], submission_cols: set[str]
) -> Callable[[str], tuple[str, str]]:
    """`${name}` -> the row's column (`m.`) for a question of `repeat`, the household's (`s.`) for a household one."""

    def resolve(name: str) -> tuple[str, str]:
        question = form.questions.get(name)
        qtype = question.type if question is not None else "text"
        if question is not None and repeat is not None and question.repeat == repeat and name in member_cols:
            return f"NULLIF(CAST(m.{q(name)} AS VARCHAR), '')", qtype
        if (question is None or question.repeat is None) and name in submission_cols:
            return f"NULLIF(CAST(s.{q(name)} AS VARCHAR), '')", qtype
        raise Untranslatable(f"${{{name}}} is not a column of the loaded data")

    return resolve
