"""The DuckDB store: files log, typed submissions with lineage, per-option selections, quarantine.

Each file loads in one transaction. A later file replaces earlier rows with the same (round, submission
id), so cumulative Kobo exports never double count, and the same file dropped twice changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from .faults import crash_point
from .privacy import is_private_column, private_questions
from .problems import ValidationResult
from .readers import Staged, truthy_sql
from .settings import Settings
from .xlsform import XLSForm


def sql(name: str) -> str:
    """A named query from assess/sql/."""
    return resources.files("assess.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def q(name: str) -> str:
    """Quote an identifier (names come from the XLSForm / export headers, never from survey answers)."""
    return '"' + name.replace('"', '""') + '"'


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no store yet. Run `assess run` first.")
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(sql("schema"))
    return con


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileChanged(OSError):
    """The dropped file changed while it was being copied (still being written); try again later."""


def archive_file(path: Path, sha: str, archive_dir: Path) -> Path:
    """Copy a dropped file into the content-addressed archive (never modified afterwards).

    The copy is hashed as it is written: if its content is not `sha` (the file changed since it was
    hashed), nothing is archived and FileChanged is raised, so the archive never holds a half-written file.
    """
    suffix = "".join(Path(path).suffixes[-1:]).lower()[:10]
    target = archive_dir / sha[:2] / f"{sha}{suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if h.hexdigest() != sha:
            raise FileChanged(f"{Path(path).name} changed while it was being copied")
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


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


def _column_sql(col: str, qtype: str | None, private: bool, key_param: str) -> tuple[str, str]:
    """(SQL type, SQL expression) for one staged text column."""
    ref = q(col)
    if private:
        return "VARCHAR", f"CASE WHEN {ref} IS NOT NULL THEN sha256({key_param} || ':' || {ref}) END"
    if qtype == "integer":
        d = f"TRY_CAST({ref} AS DOUBLE)"
        return "BIGINT", f"CASE WHEN {d} = floor({d}) AND abs({d}) < 9e15 THEN CAST({d} AS BIGINT) END"
    if qtype in ("decimal", "range"):
        return "DOUBLE", f"TRY_CAST({ref} AS DOUBLE)"
    return "VARCHAR", ref


def ensure_columns(con: duckdb.DuckDBPyConnection, wanted: dict[str, str]) -> dict[str, str]:
    """Add missing submission columns; return the column types as they are in the table."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'submissions'"
    ).fetchall()
    by_lower = {name.lower(): typ for name, typ in rows}  # DuckDB identifiers are case-insensitive
    out = {}
    for name, typ in wanted.items():
        if name.lower() not in by_lower:
            con.execute(f"ALTER TABLE submissions ADD COLUMN {q(name)} {typ}")
            by_lower[name.lower()] = typ
        out[name] = by_lower[name.lower()]
    return out


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
) -> LoadCounts:
    """Load the accepted rows of one staged file and its problems, in one transaction."""
    private = private_questions(form, settings)
    bad_rows = sorted(result.quarantined_rows())
    now = datetime.now(UTC).replace(tzinfo=None)
    selects: list[tuple[str, str]] = []
    wanted: dict[str, str] = {}
    for c in staged.columns:
        if c.option is not None:
            continue  # option columns live in `selections`
        qtype = form.questions[c.question].type if c.question and c.part is None else None
        priv = is_private_column(c.name, c.question, private) or (c.question is None and c.header in private)
        typ, expr = _column_sql(c.name, qtype, priv, "$key")
        if qtype == "select_multiple" and staged.option_columns(c.question or ""):
            # option columns win over the summary column (hand-cleaned data can disagree)
            parts = [f"CASE WHEN {truthy_sql(q(col))} THEN '{opt.replace(chr(39), chr(39) * 2)}' END"
                     for opt, col in staged.option_columns(c.question or "").items()]
            expr = f"NULLIF(concat_ws(' ', {', '.join(parts)}), '')"
        wanted[c.name] = typ
        selects.append((c.name, expr))
    con.execute("BEGIN TRANSACTION")
    try:
        existing = ensure_columns(con, wanted)
        src = f"read_parquet('{str(staged.path).replace(chr(39), chr(39) * 2)}')"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _accepted AS SELECT * FROM {src} "
            "WHERE _sid IS NOT NULL AND _row NOT IN (SELECT unnest($bad::BIGINT[])) "
            "QUALIFY row_number() OVER (PARTITION BY _sid ORDER BY _row DESC) = 1",
            {"bad": bad_rows},
        )
        params = {"round": settings.round, "file": info.name, "sha": info.sha256, "now": now, "key": key}
        con.execute(
            "DELETE FROM submissions WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted)",
            {"round": settings.round},
        )
        con.execute(
            "DELETE FROM selections WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted)",
            {"round": settings.round},
        )
        cols = ["round", "submission_id", "source_file", "source_sha256", "source_row", "loaded_at"]
        exprs = ["$round", "_sid", "$file", "$sha", "_row", "$now"]
        for name, expr in selects:
            cols.append(q(name))
            exprs.append(f"CAST({expr} AS {existing[name]})")
        used = {k: v for k, v in params.items() if f"${k}" in " ".join(exprs)}
        con.execute(f"INSERT INTO submissions ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM _accepted", used)
        _load_selections(con, staged, form, settings.round)
        accepted = con.execute("SELECT count(*) FROM _accepted").fetchone()[0]
        _load_problems(con, result, info, settings.round, run_id, now)
        con.execute(sql("supersede_quarantine"), {"file": info.name, "round": settings.round, "sha256": info.sha256})
        quarantined = staged.rows - accepted
        warnings = sum(1 for p in result.problems if p.action == "warn")
        con.execute(
            "INSERT OR REPLACE INTO files VALUES ($sha, $round, $name, $fmt, $rows, $acc, $quar, $warn, 'loaded', "
            "NULL, $archive, $received, $now, $run)",
            {"sha": info.sha256, "round": settings.round, "name": info.name, "fmt": staged.format,
             "rows": staged.rows, "acc": accepted, "quar": quarantined, "warn": warnings,
             "archive": str(info.archive_path), "received": info.received_at, "now": now, "run": run_id},
        )
        con.execute("DROP TABLE _accepted")
        crash_point("mid-load-before-commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadCounts(rows=staged.rows, accepted=accepted, quarantined=quarantined, warnings=warnings)


def _load_selections(con: duckdb.DuckDBPyConnection, staged: Staged, form: XLSForm, round_: str) -> None:
    parts: list[str] = []
    for question in form.questions.values():
        if question.type != "select_multiple":
            continue
        qn = question.name.replace("'", "''")
        options = staged.option_columns(question.name)
        if options:
            for opt, col in options.items():
                o = opt.replace("'", "''")
                parts.append(f"SELECT _sid, '{qn}', '{o}', {truthy_sql(q(col))} FROM _accepted")
        elif question.name in staged.question_columns:
            col = q(staged.question_columns[question.name])
            for opt in form.choice_names(question.name):
                o = opt.replace("'", "''")
                parts.append(
                    f"SELECT _sid, '{qn}', '{o}', CASE WHEN {col} IS NOT NULL THEN "
                    f"list_contains(string_split(regexp_replace(trim({col}), '\\s+', ' ', 'g'), ' '), '{o}') END "
                    "FROM _accepted"
                )
    for i in range(0, len(parts), 200):
        con.execute(
            "INSERT INTO selections SELECT $round, * FROM (" + " UNION ALL ".join(parts[i:i + 200]) + ")",
            {"round": round_},
        )


def _load_problems(con, result: ValidationResult, info: FileInfo, round_: str, run_id: str, now: datetime) -> None:
    if not result.problems:
        return
    rows = [
        (round_, p.submission_id, info.name, info.sha256, p.row, p.column, p.value, p.expectation, p.reason, p.kind,
         p.action, None, run_id, now)
        for p in result.problems
    ]
    con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def record_rejected(con: duckdb.DuckDBPyConnection, *, info: FileInfo, settings: Settings, reason: str,
                    rows: int | None, fmt: str | None, run_id: str) -> None:
    """A structurally unusable file: one quarantine line, and the files log says why."""
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM quarantine WHERE sha256 = $sha AND round = $round",
                    {"sha": info.sha256, "round": settings.round})
        con.execute(
            "INSERT INTO quarantine VALUES ($round, NULL, $name, $sha, NULL, NULL, NULL, 'file_is_usable', $reason, "
            "'structure', 'quarantine', NULL, $run, $now)",
            {"round": settings.round, "name": info.name, "sha": info.sha256, "reason": reason, "run": run_id,
             "now": now},
        )
        con.execute(
            "INSERT OR REPLACE INTO files VALUES ($sha, $round, $name, $fmt, $rows, 0, $rows, 0, 'rejected', $reason, "
            "$archive, $received, $now, $run)",
            {"sha": info.sha256, "round": settings.round, "name": info.name, "fmt": fmt, "rows": rows,
             "reason": reason, "archive": str(info.archive_path), "received": info.received_at, "now": now,
             "run": run_id},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
