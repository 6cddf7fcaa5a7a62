"""Row-level validation (interim: submission id present and unique; the GX suite replaces this)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .problems import Problem, ValidationResult
from .readers import Staged
from .settings import Settings
from .xlsform import XLSForm


def validate(staged: Staged, form: XLSForm, settings: Settings, *, workdir: Path) -> ValidationResult:
    con = duckdb.connect()
    path = str(staged.path).replace("'", "''")
    id_header = next(c.header for c in staged.columns if c.name == staged.id_column)
    problems = [
        Problem(expectation="expect_column_values_to_not_be_null", kind="unique", row=r, column=id_header,
                reason=f"the submission id ({id_header}) is empty", action="quarantine")
        for (r,) in con.execute(f"SELECT _row FROM read_parquet('{path}') WHERE _sid IS NULL").fetchall()
    ]
    dups = con.execute(
        f"SELECT _row, _sid FROM read_parquet('{path}') WHERE _sid IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY _sid ORDER BY _row) > 1"
    ).fetchall()
    problems += [
        Problem(expectation="expect_column_values_to_be_unique", kind="unique", row=r, submission_id=s,
                column=id_header, value=s, reason="the same submission id appears earlier in this file",
                action=settings.policy.get("unique", settings.on_fail))
        for r, s in dups
    ]
    return ValidationResult(problems=problems, rules=2)
