"""Row-level validation of one staged file: the entry point `validate` builds the form's rules, runs them as a
Great Expectations suite on DuckDB over the staged Parquet, and lists every failing row as a `Problem`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from ..core.problems import Problem, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import literal
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..read.export import Staged
from .build import build_rules
from .findings import failing_rows, failing_rows_one, file_level_problem, problems_for, rows_query
from .gx import enable_gx_duckdb, run_pandas_route, run_sql_route, sql_route_available
from .rules import TABLE, Rule, RuleContext

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ DuckDB


def prepare_duckdb(staged: Staged, ctx: RuleContext, db_path: Path, *, materialize: bool = False) -> None:
    """A DuckDB file with a `data` view (or table) over the staged Parquet plus typed number helpers.

    Big files are read through a view (materialising 1M rows costs more than all the checks); small ones are
    copied into a table (`materialize`).
    """
    if db_path.exists():
        db_path.unlink()
    helpers = "".join(f", TRY_CAST({q(col)} AS DOUBLE) AS {q(h)}" for col, h in ctx.number_helpers.items())
    kind = "TABLE" if materialize else "VIEW"
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"CREATE {kind} {TABLE} AS SELECT *{helpers} FROM read_parquet({literal(str(staged.path))})")
        ctx.sql_statements += 1
    finally:
        con.close()


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


# ------------------------------------------------------------------------------------------------ entry


def validate(staged: Staged, form: XLSForm, settings: Settings, *, workdir: Path,
             route: str = "auto", timings: dict[str, float] | None = None) -> ValidationResult:
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
    rules, ctx = build_rules(staged, form, settings)
    lap("rules")
    db_path = workdir / "validation.duckdb"
    prepare_duckdb(staged, ctx, db_path, materialize=staged.rows <= 50_000)
    con = duckdb.connect(str(db_path))
    try:
        rules = _check_flags(con, rules, ctx)
    finally:
        con.close()
    lap("prepare")
    use_sql = route == "sql" or (route == "auto" and sql_route_available())
    if use_sql and not enable_gx_duckdb():
        raise RuntimeError("the GX DuckDB route is not available with this Great Expectations version")
    outcomes = run_sql_route(rules, db_path, timings) if use_sql else run_pandas_route(rules, db_path)
    lap("gx")
    log.info("GX ran %d expectations in %.1f s", len(rules), timings["gx"])

    problems: list[Problem] = []
    failed = []
    for i, rule in enumerate(rules):
        outcome = outcomes.get(i)
        if outcome is None or outcome.success:
            continue
        if outcome.error:
            what = f"{rule.kind} of {rule.question}" if rule.question else rule.kind
            ctx.not_checked.append(f"{what}: {rule.describe} (the check could not run: {outcome.error[:160]})")
        elif rule.row_level and rows_query(rule, outcome) is not None:
            failed.append((i, rule, outcome))
        else:
            problems.append(file_level_problem(rule, outcome))
    sql_started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    try:
        try:
            found = failing_rows(con, failed, ctx)
        except duckdb.Error:
            log.warning("listing failing rows in one statement failed; listing them rule by rule", exc_info=True)
            found = {i: failing_rows_one(con, rule, outcome, ctx) for i, rule, outcome in failed}
    finally:
        con.close()
    timings["rows_sql"] = time.perf_counter() - sql_started
    for i, rule, outcome in failed:
        problems += problems_for(rule, outcome, ctx, found[i])
    lap("rows")
    log.info("failing rows of %d rules read in %.1f s", len(failed), timings["rows"])
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    result = ValidationResult(problems=problems, not_checked=list(dict.fromkeys(ctx.not_checked)), rules=len(rules))
    from .docs import write_validation_docs

    result.docs_path = str(write_validation_docs(
        workdir / "validation.html", file_name=staged.path.name, route="GX on DuckDB (SQL)" if use_sql else
        "GX on pandas", rules=[(r.kind, r.gx_type, r.describe, outcomes.get(i)) for i, r in enumerate(rules)],
        not_checked=result.not_checked))
    lap("docs")
    timings["statements"] = ctx.sql_statements
    return result
