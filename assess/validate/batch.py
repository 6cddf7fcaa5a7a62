"""Validate several staged files of one shape in one Great Expectations run: one suite over all their rows.

GX costs tens of milliseconds per expectation whatever the rows, so a wide form's ~360 expectations cost
seconds per file; a run with many new files pays that once. The rows of file `f` get `_file = f` and a
batch-wide `_row` (f x ROW_BASE + row); per-file rules (the unique id, the share of rows a rule fails on)
partition by `_file`, and each file gets the `ValidationResult` that `suite.validate` would give it alone.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import duckdb

from ..core.problems import Action, Problem, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import literal
from ..core.xlsform import XLSForm
from ..read.export import Staged
from .build import build_rules
from .findings import failing_rows, problems_for
from .gx import RuleOutcome, enable_gx_duckdb, run_pandas_route, run_sql_route, sql_route_available
from .rules import TABLE, Rule, RuleContext
from .suite import (
    _check_flags,
    applies_counts,
    finished_result,
    form_problem_notes,
    may_be_form_problem,
    prepare_duckdb,
    sort_outcomes,
)

log = logging.getLogger(__name__)

ROW_BASE = 10**10  # a file's rows in a batch: f * ROW_BASE + its row (a file has fewer rows than this)
# GX expectations that judge each row on its own (a batch gives the same answer per row as one file)
ROW_BY_ROW = ("expect_column_values_to_", "expect_column_pair_values_to_", "expect_multicolumn_values_to_")
ACROSS_ROWS = ("unique", "increasing", "decreasing")
_WINDOW = re.compile(r"\bover\s*\(", re.IGNORECASE)
_PER_FILE_WINDOW = re.compile(r"\bover\s*\(\s*partition\s+by\s+_file\b", re.IGNORECASE)
_SUBQUERY = re.compile(r"\bselect\b", re.IGNORECASE)


def shape(staged: Staged) -> tuple | None:
    """Files of equal shape get the same rules; None: validated alone (repeat groups join other tables)."""
    if staged.repeats:
        return None
    return (
        staged.format,
        staged.id_column,
        tuple((c.header, c.name, c.question, c.option, c.part) for c in staged.columns),
    )


def row_by_row(rule: Rule) -> bool:
    """True when the rule judges each row alone, or partitions by file: it may run over a batch."""
    if rule.flag is not None:
        windows = len(_WINDOW.findall(rule.flag))
        return not _SUBQUERY.search(rule.flag) and windows == len(_PER_FILE_WINDOW.findall(rule.flag))
    return rule.gx_type.startswith(ROW_BY_ROW) and not any(w in rule.gx_type for w in ACROSS_ROWS)


def _source(files: list[Staged]) -> str:
    return " UNION ALL ".join(
        f"SELECT * REPLACE (CAST(_row AS BIGINT) + {f * ROW_BASE} AS _row), {f} AS _file "
        f"FROM read_parquet({literal(str(s.path))})"
        for f, s in enumerate(files)
    )


def validate_batch(
    files: list[Staged],
    form: XLSForm,
    settings: Settings,
    *,
    workdirs: list[Path],
    route: str = "auto",
) -> list[ValidationResult] | None:
    """One `ValidationResult` per file (as `suite.validate` gives), from one GX run over all their rows.

    None when the files cannot share a run (a rule reads across rows, or fails for the table as a whole):
    validate them one by one then.
    """
    use_sql = route == "sql" or (route == "auto" and sql_route_available())
    if use_sql and not enable_gx_duckdb():
        raise RuntimeError("the GX DuckDB route is not available with this Great Expectations version")
    rules, ctx = build_rules(files[0], form, settings)
    if not all(row_by_row(r) for r in rules):
        return None
    db_path = workdirs[0] / "validation-batch.duckdb"
    total = sum(s.rows for s in files)
    prepare_duckdb(files[0], ctx, db_path, materialize=total <= 50_000, source=_source(files))
    con = duckdb.connect(str(db_path))
    try:
        rules = _check_flags(con, rules, ctx)
    finally:
        con.close()
    outcomes = run_sql_route(rules, db_path) if use_sql else run_pandas_route(rules, db_path)
    log.info("GX ran %d expectations on %d files (%d rows) at once", len(rules), len(files), total)
    failed, whole = sort_outcomes(rules, outcomes, ctx)
    if whole:
        return None  # a failure without rows cannot be told to one file
    con = duckdb.connect(str(db_path))
    try:
        found = failing_rows(con, failed, ctx)
        per_file = _split(found, len(files))
        applies = _applies(con, [rule for _, rule, _ in failed], len(files))
    finally:
        con.close()
    return [
        _file_result(staged, rules, outcomes, failed, per_file[f], applies[f], ctx, workdirs[f], use_sql)
        for f, staged in enumerate(files)
    ]


def _split(found: dict[int, list[tuple]], n: int) -> list[dict[int, list[tuple]]]:
    """Each file's failing rows per rule, with the file's own row numbers."""
    out: list[dict[int, list[tuple]]] = [{i: [] for i in found} for _ in range(n)]
    for i, rows in found.items():
        for row, *rest in rows:
            out[int(row) // ROW_BASE][i].append((int(row) % ROW_BASE, *rest))
    return out


def _applies(con: duckdb.DuckDBPyConnection, rules: list[Rule], n: int) -> list[list[int]]:
    """Per file, the rows each failed rule applies to (one GROUP BY over the batch)."""
    if not rules:
        return [[] for _ in range(n)]
    counts = {
        int(f): list(rest)
        for f, *rest in con.execute(
            f"SELECT _file, {applies_counts(rules)} FROM {TABLE} GROUP BY _file"
        ).fetchall()
    }
    return [counts.get(f, [0] * len(rules)) for f in range(n)]


def _file_result(
    staged: Staged,
    rules: list[Rule],
    outcomes: dict[int, RuleOutcome],
    failed: list[tuple[int, Rule, RuleOutcome]],
    found: dict[int, list[tuple]],
    applies: list[int],
    ctx: RuleContext,
    workdir: Path,
    use_sql: bool,
) -> ValidationResult:
    """One file's result: its failing rows, its own form-problem test, its own rules report."""
    failing = {i: len({r[0] for r in found[i]}) for i, _, _ in failed}
    candidates = [
        (i, rule, failing[i]) for i, rule, _ in failed if may_be_form_problem(rule, failing[i], ctx.settings)
    ]
    by_index = {i: base for (i, _, _), base in zip(failed, applies, strict=True)}
    suspects = form_problem_notes(candidates, [by_index[i] for i, _, _ in candidates], staged.rows)
    own = dict(outcomes)
    problems: list[Problem] = []
    for i, rule, _ in failed:
        own[i] = RuleOutcome(success=not found[i], unexpected=failing[i])
        if not found[i]:
            continue
        kept = dataclasses.replace(rule, action=Action.WARN) if i in suspects else rule
        problems += problems_for(kept, own[i], ctx, found[i])
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    docs = [(r.kind, r.gx_type, r.describe, own.get(j)) for j, r in enumerate(rules)]
    suspect_rules = [suspects[i] for i, _, _ in failed if i in suspects]
    return finished_result(
        problems, docs, ctx.not_checked, ctx.not_enforced, suspect_rules, staged, workdir, use_sql
    )
