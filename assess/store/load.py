"""The DuckDB store: files log, typed submissions with lineage, per-option selections, member tables of the
repeat groups (`r_<repeat>`), quarantine.

Each file loads in one transaction. A later file replaces earlier rows with the same (round, submission
id), so cumulative Kobo exports never double count, and the same file dropped twice changes nothing. A household
that loads replaces its members too, in every repeat group the file holds (a file without a repeat group, such
as a Kobo CSV, leaves that group's members as they were); a household kept aside keeps its members out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..core.privacy import is_private_column, private_questions
from ..core.problems import Action, FileStatus, Kind, MemberCount, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import fetch_value, named_query, table_columns, transaction
from ..core.sqlutil import quote as q
from ..core.xlsform import SELECT_TYPES, STRUCTURE_TYPES, XLSForm
from ..ops.faults import crash_point
from ..read.export import Staged, StagedRepeat, truthy_sql
from ..validate.members import accept, member_table
from ..validate.sqlrewrite import canonical_codes


def sql(name: str) -> str:
    """A named query from assess/store/sql/."""
    return named_query("assess.store", name)


def file_status(con: duckdb.DuckDBPyConnection, sha: str, round_: str) -> str | None:
    row = con.execute(sql("file_status"), {"sha256": sha, "round": round_}).fetchone()
    return row[0] if row else None


@dataclass
class FileInfo:
    name: str
    sha256: str
    archive_path: Path
    received_at: datetime


@dataclass
class LoadCounts:
    rows: int
    accepted: int
    quarantined: int
    warnings: int
    members: list[MemberCount] = field(default_factory=list)


# The fixed columns of every member table `r_<repeat>`, before one typed column per question of the repeat.
MEMBER_COLUMNS = (
    "round",
    "submission_id",
    "path",
    "parent_path",
    "source_file",
    "source_sha256",
    "source_member",
    "source_row",
    "loaded_at",
)


def _column_sql(
    col: str, qtype: str | None, private: bool, key_param: str, choices: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(SQL type, SQL expression) for one staged text column; `choices`: a select question's codes (a code
    written `2019.0` by Excel, R or pandas is loaded as the choice `2019`, as validation reads it)."""
    ref = q(col)
    if private:
        return "VARCHAR", f"CASE WHEN {ref} IS NOT NULL THEN sha256({key_param} || ':' || {ref}) END"
    if qtype == "integer":
        d = f"TRY_CAST({ref} AS DOUBLE)"
        return "BIGINT", f"CASE WHEN {d} = floor({d}) AND abs({d}) < 9e15 THEN CAST({d} AS BIGINT) END"
    if qtype in ("decimal", "range"):
        return "DOUBLE", f"TRY_CAST({ref} AS DOUBLE)"
    if qtype in ("select_one", "select_multiple"):
        return "VARCHAR", canonical_codes(ref, choices, multiple=qtype == "select_multiple")
    return "VARCHAR", ref


def ensure_columns(
    con: duckdb.DuckDBPyConnection, wanted: dict[str, str], table: str = "submissions"
) -> dict[str, str]:
    """Add missing columns to `submissions` (or a member table); return the column types as they are in it."""
    by_lower = {
        name.lower(): typ for name, typ in table_columns(con, table).items()
    }  # DuckDB identifiers are case-insensitive
    out = {}
    for name, typ in wanted.items():
        if name.lower() not in by_lower:
            con.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(name)} {typ}")
            by_lower[name.lower()] = typ
        out[name] = by_lower[name.lower()]
    return out


class _Params:
    """Named parameters collected while SQL text is built: values never go into the text itself."""

    def __init__(self, **fixed: object) -> None:
        self.values: dict[str, object] = dict(fixed)

    def add(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def used(self, text: str) -> dict[str, object]:
        """The parameters `text` refers to (DuckDB refuses unused named parameters)."""
        named = set(re.findall(r"\$(\w+)", text))  # `$p2` is not used by a text with only `$p20`
        return {k: v for k, v in self.values.items() if k in named}


def load_staged(
    con: duckdb.DuckDBPyConnection,
    *,
    staged: Staged,
    result: ValidationResult,
    form: XLSForm,
    settings: Settings,
    info: FileInfo,
    run_id: str,
    key: str,
    warnings: int,
    notes: list[str],
) -> LoadCounts:
    """Load the accepted rows of one staged file and its problems, in one transaction.

    `warnings` is the file's one warning count (`FileOutcome.warning_count`), `notes` the reader's notes."""
    private = private_questions(form, settings)
    now = datetime.now(UTC).replace(tzinfo=None)
    params = _Params(round=settings.round, file=info.name, sha=info.sha256, now=now, key=key)
    selects: list[tuple[str, str]] = []
    wanted: dict[str, str] = {}
    for c in staged.columns:
        if c.option is not None:
            continue  # option columns live in `selections`
        qtype = form.questions[c.question].type if c.question and c.part is None else None
        priv = is_private_column(c.name, c.question, private) or (c.question is None and c.header in private)
        choices = tuple(form.choice_names(c.question)) if c.question and qtype in SELECT_TYPES else ()
        typ, expr = _column_sql(c.name, qtype, priv, "$key", choices)
        if qtype == "select_multiple" and staged.option_columns(c.question or ""):
            # option columns win over the summary column (hand-cleaned data can disagree)
            parts = [
                f"CASE WHEN {truthy_sql(q(col))} THEN {params.add(opt)} END"
                for opt, col in staged.option_columns(c.question or "").items()
            ]
            expr = f"NULLIF(concat_ws(' ', {', '.join(parts)}), '')"
        wanted[c.name] = typ
        selects.append((c.name, expr))
    with transaction(con):
        existing = ensure_columns(con, wanted)
        members = accept(con, staged, result)
        # selections are written and replaced with their household: none in the store, nothing to delete (a
        # DELETE scans the whole history, 16 rows per household and option question, once per file)
        if fetch_value(con, sql("replaced_count"), {"round": settings.round}):
            con.execute(sql("replace_submissions"), {"round": settings.round})
            con.execute(sql("replace_selections"), {"round": settings.round})
        cols = ["round", "submission_id", "source_file", "source_sha256", "source_row", "loaded_at"]
        exprs = ["$round", "_sid", "$file", "$sha", "_row", "$now"]
        for name, expr in selects:
            cols.append(q(name))
            exprs.append(f"CAST({expr} AS {existing[name]})")
        insert = f"INSERT INTO submissions ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM _accepted"
        con.execute(insert, params.used(insert))
        _load_selections(con, staged, form, settings.round)
        for n, rep in enumerate(staged.repeats.values()):
            _load_members(con, rep, member_table(n), form, private, params)
        accepted = fetch_value(con, "SELECT count(*) FROM _accepted")
        _load_problems(con, result, info, settings.round, run_id, now)
        con.execute(
            sql("supersede_quarantine"), {"file": info.name, "round": settings.round, "sha256": info.sha256}
        )
        quarantined = staged.rows - accepted
        con.execute(
            sql("record_file"),
            {
                "sha": info.sha256,
                "round": settings.round,
                "name": info.name,
                "fmt": staged.format,
                "rows": staged.rows,
                "acc": accepted,
                "quar": quarantined,
                "warn": warnings,
                "notes": notes,
                "status": FileStatus.LOADED.value,
                "reason": None,
                "archive": str(info.archive_path),
                "received": info.received_at,
                "now": now,
                "run": run_id,
            },
        )
        if members:
            con.executemany(
                sql("record_file_members"),
                [
                    (
                        info.sha256,
                        settings.round,
                        m.repeat,
                        m.member,
                        m.rows,
                        m.accepted,
                        m.quarantined,
                        m.with_household,
                    )
                    for m in members
                ],
            )
        con.execute("DROP VIEW _accepted")
        con.execute("DROP TABLE _accepted_rows")
        for n in range(len(staged.repeats)):
            con.execute(f"DROP TABLE {member_table(n)}")
        crash_point("mid-load-before-commit")
    return LoadCounts(
        rows=staged.rows, accepted=accepted, quarantined=quarantined, warnings=warnings, members=members
    )


def ensure_member_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A repeat group's member table, with its fixed columns (question columns are added as forms grow)."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {q(table)} (
        round VARCHAR NOT NULL, submission_id VARCHAR NOT NULL, path VARCHAR NOT NULL, parent_path VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL, source_member VARCHAR NOT NULL,
        source_row BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (round, submission_id, path))""")


def _member_values(
    rep: StagedRepeat, form: XLSForm, private: set[str], params: _Params
) -> list[tuple[str, str, str]]:
    """(column, SQL type, SQL expression over the member rows) per question of the repeat in the file: typed as
    households are, private answers keyed-hashed, select_multiple as its codes in choice-list order (option
    columns win over the summary column)."""
    out = []
    for question in form.questions.values():
        if question.repeat != rep.repeat or question.type in STRUCTURE_TYPES:
            continue
        col = rep.question_columns.get(question.name)
        options = rep.option_columns(question.name)
        if col is None and not options:
            continue
        name = (
            question.name if question.name.lower() not in MEMBER_COLUMNS else (col or question.name + "__2")
        )
        priv = question.name in private
        if question.type == "select_multiple":
            text = (
                f"NULLIF(concat_ws(' ', {', '.join(f'CASE WHEN {truthy_sql(q(c))} THEN {params.add(o)} END' for o, c in options.items())}), '')"
                if options
                else q(col or "")
            )
            choices = params.add(form.choice_names(question.name))
            tokens = f"regexp_split_to_array(trim({text}), '\\s+')"
            ordered = (
                f"NULLIF(array_to_string(list_concat(list_filter({choices}::VARCHAR[], lambda c: "
                f"list_contains({tokens}, c)), list_filter(list_distinct({tokens}), lambda t: t <> '' AND NOT "
                f"list_contains({choices}::VARCHAR[], t))), ' '), '')"
            )
            expr = (
                f"CASE WHEN {ordered} IS NOT NULL THEN sha256($key || ':' || {ordered}) END"
                if priv
                else ordered
            )
            out.append((name, "VARCHAR", expr))
        elif col is not None:
            codes = tuple(form.choice_names(question.name)) if question.type in SELECT_TYPES else ()
            typ, expr = _column_sql(col, question.type, priv, "$key", codes)
            out.append((name, typ, expr))
    return out


def _load_members(
    con: duckdb.DuckDBPyConnection,
    rep: StagedRepeat,
    rows: str,
    form: XLSForm,
    private: set[str],
    params: _Params,
) -> None:
    """Replace the members of the file's loading households in the repeat's table with its loading rows."""
    table = form.repeats[rep.repeat].table if rep.repeat in form.repeats else "r_" + rep.repeat
    ensure_member_table(con, table)
    values = _member_values(rep, form, private, params)
    existing = ensure_columns(con, {name: typ for name, typ, _ in values}, table)
    con.execute(
        f"DELETE FROM {q(table)} WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted)",
        {"round": params.values["round"]},
    )
    cols = [*MEMBER_COLUMNS, *(q(name) for name, _, _ in values)]
    exprs = [
        "$round",
        "_sid",
        "_path",
        "_parent_path",
        "$file",
        "$sha",
        params.add(rep.member),
        "_row",
        "$now",
        *(f"CAST({expr} AS {existing[name]})" for name, _, expr in values),
    ]
    insert = f"INSERT INTO {q(table)} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {rows}"
    con.execute(insert, params.used(insert))


def _load_selections(con: duckdb.DuckDBPyConnection, staged: Staged, form: XLSForm, round_: str) -> None:
    """One row per household x select_multiple option: selected true/false, NULL when not offered.

    Option columns (`q/opt`, 1/0) go in one UNPIVOT over all of them; a question with only its summary
    column ("a b") gives one row per choice of its list.
    """
    cols: list[str] = []
    questions: list[str] = []
    options: list[str] = []
    parts: list[str] = []
    params = _Params(round=round_)
    for question in form.questions.values():
        if question.type != "select_multiple":
            continue
        found = staged.option_columns(question.name)
        for opt, col in found.items():
            cols.append(col)
            questions.append(question.name)
            options.append(opt)
        if not found and question.name in staged.question_columns:
            col = canonical_codes(
                q(staged.question_columns[question.name]), form.choice_names(question.name), multiple=True
            )
            parts.append(
                f"SELECT _sid, {params.add(question.name)}, o, CASE WHEN {col} IS NOT NULL THEN "
                f"list_contains(string_split(regexp_replace(trim({col}), '\\s+', ' ', 'g'), ' '), o) END "
                # each choice once: a list naming a choice twice must not give a household two rows of it
                f"FROM _accepted, unnest({params.add(list(dict.fromkeys(form.choice_names(question.name))))}"
                "::VARCHAR[]) AS c(o)"
            )
    if cols:
        quoted = ", ".join(q(c) for c in cols)
        cast = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in cols)
        con.execute(
            f"INSERT INTO selections SELECT $round, u._sid, m.question, m.option, {truthy_sql('u.v')} "
            f"FROM (SELECT _sid, {cast} FROM _accepted) UNPIVOT INCLUDE NULLS (v FOR col IN ({quoted})) AS u "
            "JOIN (SELECT unnest($cols) AS col, unnest($questions) AS question, unnest($options) AS option) AS m "
            "USING (col)",
            {"round": round_, "cols": cols, "questions": questions, "options": options},
        )
    if parts:
        statement = "INSERT INTO selections SELECT $round, * FROM (" + " UNION ALL ".join(parts) + ")"
        con.execute(statement, params.used(statement))


def _load_problems(
    con: duckdb.DuckDBPyConnection,
    result: ValidationResult,
    info: FileInfo,
    round_: str,
    run_id: str,
    now: datetime,
) -> None:
    """Every problem of the file in one INSERT over an Arrow table (one statement, not one per problem)."""
    if not result.problems:
        return
    import pyarrow as pa

    n = len(result.problems)
    problems = result.problems
    table = pa.table(
        {
            "round": pa.array([round_] * n, pa.string()),
            "submission_id": pa.array([p.submission_id for p in problems], pa.string()),
            "file": pa.array([info.name] * n, pa.string()),
            "sha256": pa.array([info.sha256] * n, pa.string()),
            "row": pa.array([p.row for p in problems], pa.int64()),
            "column": pa.array([p.column for p in problems], pa.string()),
            "value": pa.array([None if p.value is None else str(p.value) for p in problems], pa.string()),
            "expectation": pa.array([p.expectation for p in problems], pa.string()),
            "reason": pa.array([p.reason for p in problems], pa.string()),
            "kind": pa.array([str(p.kind) for p in problems], pa.string()),
            "action": pa.array([str(p.action) for p in problems], pa.string()),
            "run_id": pa.array([run_id] * n, pa.string()),
            "recorded_at": pa.array([now] * n, pa.timestamp("us")),
            "member": pa.array([p.member for p in problems], pa.string()),
            "path": pa.array([p.path for p in problems], pa.string()),
        }
    )
    con.register("_problems", table)
    try:
        con.execute(sql("insert_problems"))
    finally:
        con.unregister("_problems")


def record_rejected(
    con: duckdb.DuckDBPyConnection,
    *,
    info: FileInfo,
    settings: Settings,
    reason: str,
    rows: int | None,
    fmt: str | None,
    run_id: str,
) -> None:
    """A structurally unusable file: one quarantine line, and the files log says why."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        con.execute(sql("forget_file_problems"), {"sha": info.sha256, "round": settings.round})
        con.executemany(
            sql("insert_problem"),
            [
                (
                    settings.round,
                    None,
                    info.name,
                    info.sha256,
                    None,
                    None,
                    None,
                    "file_is_usable",
                    reason,
                    Kind.STRUCTURE.value,
                    Action.QUARANTINE.value,
                    None,
                    run_id,
                    now,
                    None,
                    None,
                )
            ],
        )
        con.execute(
            sql("record_file"),
            {
                "sha": info.sha256,
                "round": settings.round,
                "name": info.name,
                "fmt": fmt,
                "rows": rows,
                "acc": 0,
                "quar": rows,
                "warn": 0,
                "notes": [],
                "status": FileStatus.REJECTED.value,
                "reason": reason,
                "archive": str(info.archive_path),
                "received": info.received_at,
                "now": now,
                "run": run_id,
            },
        )
