"""Row-level validation of one staged file: the entry point `validate` builds the form's rules, runs them as a
Great Expectations suite on DuckDB over the staged Parquet, and lists every failing row as a `Problem`.

A file with repeat groups is checked table by table (its households, then each repeat group's member rows, one
suite each); a member row's problem names its sheet / zip member (`Problem.member`) and instance path.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from ..core.problems import Action, Kind, Problem, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import literal
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..read.export import Staged, StagedRepeat
from .build import build_repeat_rules, build_rules
from .findings import failing_rows, file_level_problem, problems_for, rows_query
from .gx import RuleOutcome, enable_gx_duckdb, run_pandas_route, run_sql_route, sql_route_available
from .rules import COUNT_PREFIX, TABLE, Rule, RuleContext
from .sqlrewrite import canonical_codes, options_as_text

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ DuckDB


def prepare_duckdb(
    staged: Staged | StagedRepeat,
    ctx: RuleContext,
    db_path: Path,
    *,
    materialize: bool = False,
    source: str | None = None,
) -> None:
    """A DuckDB file with a `data` view (or table) over the staged Parquet plus typed number helpers.

    Big files are read through a view (materialising 1M rows costs more than all the checks); small ones are
    copied into a table (`materialize`). Select answers are read with whole-number codes written `2019.0` as
    the choice code `2019` (`ctx.code_columns`), as the store loads them. A repeat group's rows come with the
    answers of their ancestors (`__up__<q>`), and any table with the instance counts its rules ask for
    (`__count__<repeat>`). `source`: the rows instead of `source_sql` (a batch of files, `validate.batch`).
    """
    if db_path.exists():
        db_path.unlink()
    helpers = "".join(f", TRY_CAST({q(col)} AS DOUBLE) AS {q(h)}" for col, h in ctx.number_helpers.items())
    codes = ", ".join(
        f"{canonical_codes(q(col), choices, multiple=multiple)} AS {q(col)}"
        for col, (choices, multiple) in ctx.code_columns.items()
    )
    star = f"* REPLACE ({codes})" if codes else "*"
    kind = "TABLE" if materialize else "VIEW"
    con = duckdb.connect(str(db_path))
    try:
        con.execute(
            f"CREATE {kind} {TABLE} AS SELECT {star}{helpers} FROM ({source or source_sql(staged, ctx)}) AS b"
        )
        ctx.sql_statements += 1
        for repeat, columns in ctx.indexed.items():
            selects = ", ".join(f"{expr} AS {q(col)}" for col, expr in columns.items())
            path = literal(str(ctx.file_repeats[repeat].path))
            con.execute(
                f"CREATE VIEW {q('__m_' + repeat)} AS SELECT _hh_row AS __ir_hh, _parent_path AS __ir_parent, "
                f"_pos AS __ir_pos, {selects} FROM read_parquet({path}) WHERE _hh_row IS NOT NULL"
            )
            ctx.sql_statements += 1
    finally:
        con.close()


def source_sql(staged: Staged | StagedRepeat, ctx: RuleContext) -> str:
    """The rows a table's rules read (alias `d`): the staged Parquet, for a repeat group joined to its parent
    instances and household, plus the repeat counts the rules ask for."""
    extra: list[str] = []
    joins: list[str] = []
    if isinstance(staged, StagedRepeat):
        prev = "d"
        found = "true"
        for i, level in enumerate(ctx.ancestors(ctx.repeat)):
            table = ctx.file_repeats.get(level)
            if table is None:
                break
            alias = f"a{i}"
            joins.append(
                f"LEFT JOIN (SELECT * FROM read_parquet({literal(str(table.path))}) WHERE _hh_row IS NOT NULL "
                "QUALIFY row_number() OVER (PARTITION BY _hh_row, _path ORDER BY _row) = 1) "
                f"{alias} ON {alias}._hh_row = {prev}._hh_row AND {alias}._path = {prev}._parent_path"
            )
            extra += _ancestor_values(ctx, table, alias)
            if i == 0:
                found = f"({alias}._row IS NOT NULL)"
            prev = alias
        if ctx.household is not None:
            joins.append(
                f"LEFT JOIN read_parquet({literal(str(ctx.household.path))}) h ON h._row = d._hh_row"
            )
            extra += _ancestor_values(ctx, ctx.household, "h")
        extra.append(f"{found} AS __parent_found")
    else:
        extra.append("0 AS _file")  # the file's number in a batch (`validate.batch`); rules partition by it
    for column, cond in ctx.count_columns.items():
        repeat = column.removeprefix(COUNT_PREFIX)
        path = literal(str(ctx.file_repeats[repeat].path))
        extra.append(
            f"(SELECT count(*) FROM read_parquet({path}) c WHERE c._hh_row IS NOT NULL AND {cond}) "
            f"AS {q(column)}"
        )
    return (
        f"SELECT d.*{''.join(', ' + e for e in extra)} FROM read_parquet({literal(str(staged.path))}) d "
        + " ".join(joins)
    )


def _ancestor_values(ctx: RuleContext, table: Staged | StagedRepeat, alias: str) -> list[str]:
    out = []
    for column, question in ctx.ancestor_columns.items():
        if ctx.form.questions[question].repeat != (table.repeat if isinstance(table, StagedRepeat) else None):
            continue
        col = table.question_columns.get(question)
        value = f"{alias}.{q(col)}" if col else options_as_text(table.option_columns(question), alias)
        out.append(f"{value} AS {q(column)}")
    return out


# one row is enough to compile every expression (a window flag over the whole table would sort it all)
_ONE_ROW = f"(SELECT * FROM {TABLE} LIMIT 1) AS {TABLE}"


def _check_flags(con: duckdb.DuckDBPyConnection, rules: list[Rule], ctx: RuleContext) -> list[Rule]:
    """Drop rules whose SQL DuckDB rejects (e.g. a regex RE2 cannot compile) into not_checked.

    All flags are tried in one statement first; only when that fails is each tried alone to find the culprits.
    """
    flags = [r.flag for r in rules if r.flag is not None]
    if flags:
        try:
            ctx.sql_statements += 1
            con.execute(f"SELECT {', '.join(f'({f})' for f in flags)} FROM {_ONE_ROW}").fetchall()
            return rules
        except duckdb.Error:
            pass
    kept = []
    for rule in rules:
        if rule.flag is None:
            kept.append(rule)
            continue
        try:
            ctx.sql_statements += 1
            con.execute(f"SELECT ({rule.flag}) FROM {_ONE_ROW}").fetchall()
            kept.append(rule)
        except duckdb.Error as exc:
            what = f"{rule.kind} of {rule.question}" if rule.question else rule.kind
            ctx.not_checked.append(f"{what}: {rule.describe} ({str(exc).splitlines()[0][:120]})")
    return kept


# ------------------------------------------------------------------------------------------------ form problems

# A rule of these kinds that fails on more than FORM_PROBLEM_SHARE of the rows it applies to, when it applies to
# FORM_PROBLEM_MIN_ROWS rows or more, is taken for a problem with the form (a constraint data collection never
# enforced, a choice list that does not match the export), not with the data: its rows are kept, with warnings,
# unless `[validation.policy]` names the kind explicitly. Unique-id, region, window and custom rules never are.
FORM_PROBLEM_KINDS = (Kind.CONSTRAINT, Kind.REQUIRED, Kind.CHOICE)
FORM_PROBLEM_SHARE = 0.5
FORM_PROBLEM_MIN_ROWS = 20


def may_be_form_problem(rule: Rule, failing: int, settings: Settings) -> bool:
    return (
        rule.kind in FORM_PROBLEM_KINDS
        and rule.action == Action.QUARANTINE
        and settings.explicit_policy(rule.kind) is None
        and failing > FORM_PROBLEM_SHARE * FORM_PROBLEM_MIN_ROWS
    )


def _form_problems(
    con: duckdb.DuckDBPyConnection, candidates: list[tuple[int, Rule, int]], ctx: RuleContext, total: int
) -> dict[int, str]:
    """rule index -> the note saying why its failures are warnings, for the candidates failing on most rows.

    The denominator is the rows a rule applies to (`Rule.applies`: rows with an answer, or where a required
    question was asked; every row when None), counted in one pass over the table.
    """
    if not candidates or total < FORM_PROBLEM_MIN_ROWS:
        return {}
    ctx.sql_statements += 1
    row = con.execute(f"SELECT {applies_counts([rule for _, rule, _ in candidates])} FROM {TABLE}").fetchone()
    return form_problem_notes(candidates, list(row) if row else [total] * len(candidates), total)


def applies_counts(rules: list[Rule]) -> str:
    """SQL aggregates: the rows each rule applies to (the denominator of the form-problem test)."""
    return ", ".join(
        f"count(*) FILTER (WHERE coalesce({rule.applies}, false))" if rule.applies else "count(*)"
        for rule in rules
    )


def form_problem_notes(
    candidates: list[tuple[int, Rule, int]], applies: list[int], total: int
) -> dict[int, str]:
    """rule index -> its note, for the candidates (index, rule, failing rows) failing on most rows they apply to."""
    if total < FORM_PROBLEM_MIN_ROWS:
        return {}
    notes = {}
    for (i, rule, failing), base in zip(candidates, applies, strict=True):
        if base >= FORM_PROBLEM_MIN_ROWS and failing > FORM_PROBLEM_SHARE * base:
            of = (
                f"{base:,} rows"
                if base == total
                else f"the {base:,} rows it applies to ({total:,} in the file)"
            )
            notes[i] = (
                f"rule '{rule.describe}' fails on {failing:,} of {of}: probably a form problem; rows kept. "
                f'Fix the form or set [validation.policy] {rule.kind} = "quarantine".'
            )
    return notes


# ------------------------------------------------------------------------------------------------ entry


def validate(
    staged: Staged,
    form: XLSForm,
    settings: Settings,
    *,
    workdir: Path,
    route: str = "auto",
    timings: dict[str, float] | None = None,
) -> ValidationResult:
    """Run the form's rules on one staged file; never raises for bad data (bad rows become Problems).

    route: "auto" (GX on DuckDB when available, else pandas), "sql" or "pandas".
    timings: when given, filled with seconds per phase and the number of SQL statements run here.
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + now - clock
        clock = now

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    use_sql = route == "sql" or (route == "auto" and sql_route_available())
    if use_sql and not enable_gx_duckdb():
        raise RuntimeError("the GX DuckDB route is not available with this Great Expectations version")
    problems: list[Problem] = []
    not_checked: list[str] = []
    not_enforced: list[str] = []
    suspect_rules: list[str] = []
    docs: list[tuple[str, str, str, RuleOutcome | None]] = []
    statements = 0
    tables: list[str | None] = [None, *staged.repeats]
    for i, repeat in enumerate(tables):
        if repeat is None:
            rules, ctx = build_rules(staged, form, settings)
        else:
            rules, ctx = build_repeat_rules(staged, repeat, form, settings)
        lap("rules")
        db_path = workdir / ("validation.duckdb" if repeat is None else f"validation-{i}.duckdb")
        found, outcomes, rules = _validate_table(ctx.staged, rules, ctx, db_path, use_sql, timings, lap)
        problems += found
        not_checked += ctx.not_checked
        not_enforced += ctx.not_enforced
        suspect_rules += ctx.suspect_rules
        prefix = "" if repeat is None else f"[{repeat}] "
        docs += [(r.kind, r.gx_type, prefix + r.describe, outcomes.get(j)) for j, r in enumerate(rules)]
        statements += ctx.sql_statements
    problems.sort(key=lambda p: (p.member is not None, p.member or "", p.row is None, p.row or 0))
    result = finished_result(
        problems, docs, not_checked, not_enforced, suspect_rules, staged, workdir, use_sql
    )
    lap("docs")
    timings["statements"] = statements
    return result


def _validate_table(
    staged: Staged | StagedRepeat,
    rules: list[Rule],
    ctx: RuleContext,
    db_path: Path,
    use_sql: bool,
    timings: dict[str, float],
    lap,
) -> tuple[list[Problem], dict[int, RuleOutcome], list[Rule]]:
    """One table's suite: GX decides which rules fail, then every failing row is listed."""
    prepare_duckdb(staged, ctx, db_path, materialize=staged.rows <= 50_000)
    con = duckdb.connect(str(db_path))
    try:
        rules = _check_flags(con, rules, ctx)
    finally:
        con.close()
    lap("prepare")
    outcomes = run_sql_route(rules, db_path, timings) if use_sql else run_pandas_route(rules, db_path)
    lap("gx")
    log.info("GX ran %d expectations in %.1f s", len(rules), timings["gx"])

    failed, whole = sort_outcomes(rules, outcomes, ctx)
    problems = [file_level_problem(rule, outcome, ctx.member) for _, rule, outcome in whole]
    sql_started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    try:
        found = failing_rows(con, failed, ctx)
        failing = {i: len({r[0] for r in found[i]}) for i, _, _ in failed}
        suspects = _form_problems(
            con,
            [
                (i, rule, failing[i])
                for i, rule, _ in failed
                if may_be_form_problem(rule, failing[i], ctx.settings)
            ],
            ctx,
            staged.rows,
        )
    finally:
        con.close()
    timings["rows_sql"] = timings.get("rows_sql", 0.0) + time.perf_counter() - sql_started
    for i, rule, outcome in failed:
        if i in suspects:
            rule.action = Action.WARN
            ctx.suspect_rules.append(suspects[i])
        problems += problems_for(rule, outcome, ctx, found[i])
    lap("rows")
    log.info("failing rows of %d rules read in %.1f s", len(failed), timings["rows"])
    return problems, outcomes, rules


Failed = list[tuple[int, Rule, RuleOutcome]]


def sort_outcomes(
    rules: list[Rule], outcomes: dict[int, RuleOutcome], ctx: RuleContext
) -> tuple[Failed, Failed]:
    """The failed rules whose rows can be listed, and those failing for the table as a whole; a check that
    could not run goes to `ctx.not_checked`."""
    failed: Failed = []
    whole: Failed = []
    for i, rule in enumerate(rules):
        outcome = outcomes.get(i)
        if outcome is None or outcome.success:
            continue
        if outcome.error:
            what = f"{rule.kind} of {rule.question}" if rule.question else rule.kind
            ctx.not_checked.append(
                f"{what}: {rule.describe} (the check could not run: {outcome.error[:160]})"
            )
        elif rule.row_level and rows_query(rule, outcome) is not None:
            failed.append((i, rule, outcome))
        else:
            whole.append((i, rule, outcome))
    return failed, whole


def finished_result(
    problems: list[Problem],
    docs: list[tuple[str, str, str, RuleOutcome | None]],
    not_checked: list[str],
    not_enforced: list[str],
    suspect_rules: list[str],
    staged: Staged,
    workdir: Path,
    use_sql: bool,
) -> ValidationResult:
    """A file's ValidationResult, with its rules report (validation.html) written beside its staging."""
    from .docs import write_validation_docs

    result = ValidationResult(
        problems=problems,
        not_checked=list(dict.fromkeys(not_checked)),
        rules=len(docs),
        not_enforced=list(dict.fromkeys(not_enforced)),
        suspect_rules=suspect_rules,
    )
    result.docs_path = str(
        write_validation_docs(
            workdir / "validation.html",
            file_name=staged.path.name,
            route="GX on DuckDB (SQL)" if use_sql else "GX on pandas",
            rules=docs,
            not_checked=result.not_checked,
            not_enforced=result.not_enforced,
            suspect_rules=result.suspect_rules,
        )
    )
    return result
