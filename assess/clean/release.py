"""Quarantined households addressed by a cleaning log: the row is re-read from its archived file, the cleaning in
effect is applied to it, the file's own rules run on that one row (`validate`), and when it passes the raw row
loads like an accepted row (`load_staged`; the cleaned view shows the corrected values) and its quarantine lines
are marked released by the log line. A released row whose change is taken back (`no_action`) and fails again
goes back to quarantine.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..core.privacy import private_questions
from ..core.problems import Action, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import fetch_one, literal, table_columns, transaction
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..read.export import Staged, StructuralError, stage_export
from ..store.load import FileInfo, load_staged
from ..validate.suite import validate
from .layer import uninstall

RELEASED = "released"


class ReleaseError(Exception):
    """The kept-aside row cannot be re-read (its archived file is gone or unreadable); the message says why."""


@dataclass
class KeptRow:
    """A household row as its file holds it: where it is kept aside, the staged file, its raw text values."""

    sid: str
    file: str
    sha: str
    row: int
    info: FileInfo
    staged: Staged
    raw: dict[str, str | None]


def kept_aside(con: duckdb.DuckDBPyConnection, round_: str, sid: str) -> tuple[str, str, int] | None:
    """(file, sha256, row) of the household row of `sid` kept aside now, the latest one; None when none is."""
    hit = con.execute(
        'SELECT file, sha256, "row" FROM quarantine WHERE round = $r AND submission_id = $s AND superseded_by '
        "IS NULL AND action = 'quarantine' AND member IS NULL AND \"row\" IS NOT NULL "
        'ORDER BY recorded_at DESC, "row" DESC LIMIT 1',
        {"r": round_, "s": sid},
    ).fetchone()
    return (hit[0], hit[1], int(hit[2])) if hit else None


def released(con: duckdb.DuckDBPyConnection, round_: str, sid: str) -> tuple[str, str, int] | None:
    """(file, sha256, row) of the row of `sid` a cleaning log released and that is still the loaded row."""
    db = q(fetch_one(con, "SELECT current_database()")[0])
    hit = con.execute(
        f'SELECT DISTINCT x.file, x.sha256, x."row" FROM quarantine x JOIN {db}.main.submissions s '
        "ON s.round = x.round "
        'AND s.submission_id = x.submission_id AND s.source_sha256 = x.sha256 AND s.source_row = x."row" '
        "WHERE x.round = $r AND x.submission_id = $s AND x.released_sha256 IS NOT NULL AND x.member IS NULL",
        {"r": round_, "s": sid},
    ).fetchone()
    return (hit[0], hit[1], int(hit[2])) if hit else None


class Rows:
    """Re-reads kept-aside rows, each archived file once per log (the reader `stage_file` uses)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> None:
        self.con, self.settings, self.form = con, settings, form
        self.files: dict[str, tuple[FileInfo, Staged]] = {}
        self.rows: dict[str, KeptRow] = {}
        self.work = settings.processed / "staging" / f"release-{uuid.uuid4().hex[:8]}"

    def get(self, sid: str, where: tuple[str, str, int]) -> KeptRow:
        if sid in self.rows and self.rows[sid].sha == where[1]:
            return self.rows[sid]
        file, sha, row = where
        if sha not in self.files:
            hit = self.con.execute(
                "SELECT archive_path, received_at FROM files WHERE sha256 = ? AND round = ?",
                [sha, self.settings.round],
            ).fetchone()
            if hit is None or not hit[0] or not Path(hit[0]).exists():
                raise ReleaseError(
                    f"the archived copy of {file} is missing; correct the export and drop it again"
                )
            archive = Path(hit[0])
            try:
                staged = stage_export(
                    archive,
                    self.form,
                    self.work / sha[:16] / "rows.parquet",
                    id_column=self.settings.id_column,
                )
            except (StructuralError, duckdb.Error, OSError, ValueError) as exc:
                raise ReleaseError(f"{file} could not be read again ({exc})") from exc
            self.files[sha] = (FileInfo(file, sha, archive, hit[1]), staged)
        info, staged = self.files[sha]
        with duckdb.connect() as mem:
            got = mem.execute(
                f"SELECT * FROM read_parquet({literal(str(staged.path))}) WHERE _row = ?", [row]
            )
            values, names = got.fetchone(), [d[0] for d in got.description]
        if values is None:
            raise ReleaseError(f"row {row} of {file} could not be found again")
        raw = dict(zip(names, values, strict=True))
        self.rows[sid] = KeptRow(sid, file, sha, row, info, staged, raw)
        return self.rows[sid]

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def _one_row(kept: KeptRow, out: Path, changes: dict[str, str | None]) -> Staged:
    """The kept row alone (its member rows too) as a staged file, with `changes` (staged column -> text)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        names = list(changes)
        replace_sql = ", ".join(f"CAST(${i + 1} AS VARCHAR) AS {q(c)}" for i, c in enumerate(names))
        select = f"SELECT * {f'REPLACE ({replace_sql}) ' if names else ''}FROM read_parquet({literal(str(kept.staged.path))})"
        con.execute(
            f"CREATE TABLE one AS {select} WHERE _row = ${len(names) + 1}", [*changes.values(), kept.row]
        )
        con.execute(f"COPY one TO {literal(str(out / 'rows.parquet'))} (FORMAT parquet)")
        repeats = {}
        for n, (name, rep) in enumerate(kept.staged.repeats.items()):
            path = out / f"members-{n}.parquet"
            con.execute(
                f"COPY (SELECT * FROM read_parquet({literal(str(rep.path))}) WHERE _hh_row = {int(kept.row)}) "
                f"TO {literal(str(path))} (FORMAT parquet)"
            )
            rows = con.execute(f"SELECT count(*) FROM read_parquet({literal(str(path))})").fetchone()
            repeats[name] = replace(rep, path=path, rows=int(rows[0]) if rows else 0)
    finally:
        con.close()
    return replace(kept.staged, path=out / "rows.parquet", rows=1, repeats=repeats)


def corrected(
    con: duckdb.DuckDBPyConnection, kept: KeptRow, settings: Settings, form: XLSForm, plain: dict[str, str]
) -> dict[str, str | None]:
    """Staged column -> text: the cleaning in effect on the household row (a private question's change is
    known in clear only from the log being applied, `plain`; an earlier one keeps the raw value)."""
    out: dict[str, str | None] = {}
    rows = con.execute(
        "SELECT question, new_value FROM cleaning_effective WHERE round = ? AND submission_id = ? AND path = '' "
        "AND question <> '*'",
        [settings.round, kept.sid],
    ).fetchall()
    columns = kept.staged.question_columns
    for question, value in rows:
        if question not in columns:
            continue
        if question in plain or value is None:
            value = plain.get(question, value)
        elif question in _private(settings, form):
            continue
        out[columns[question]] = value
        options = kept.staged.option_columns(question)
        if options:
            codes = set((value or "").split())
            for opt, col in options.items():
                out[col] = None if value is None else ("1" if opt in codes else "0")
    return out


def _private(settings: Settings, form: XLSForm) -> set[str]:
    return set(private_questions(form, settings))


def recheck(
    con: duckdb.DuckDBPyConnection,
    kept: KeptRow,
    settings: Settings,
    form: XLSForm,
    work: Path,
    plain: dict[str, str],
) -> tuple[Staged, ValidationResult, list[str]]:
    """Validate the kept row with the cleaning in effect: (the raw one-row staged, the result, the reasons the
    household row is still kept aside; empty when it passes)."""
    fixed = _one_row(kept, work / "fixed", corrected(con, kept, settings, form, plain))
    result = validate(fixed, form, settings, workdir=work / "validation")
    reasons = [
        f"{p.column}: {p.reason}" if p.column else p.reason
        for p in result.problems
        if p.action == Action.QUARANTINE and p.member is None and p.row is not None
    ]
    return _one_row(kept, work / "raw", {}), result, list(dict.fromkeys(reasons))


def release(
    con: duckdb.DuckDBPyConnection,
    kept: KeptRow,
    raw: Staged,
    result: ValidationResult,
    settings: Settings,
    form: XLSForm,
    log: tuple[str, str, int],
    run_id: str,
    key: str,
) -> None:
    """Load the raw row like an accepted row, keep its file's own record as it was, and mark its quarantine
    lines released by the log line (name, sha256, line)."""
    file_row = con.execute(
        "SELECT * FROM files WHERE sha256 = ? AND round = ?", [kept.sha, settings.round]
    ).fetchall()
    members = con.execute(
        "SELECT * FROM file_members WHERE sha256 = ? AND round = ?", [kept.sha, settings.round]
    ).fetchall()
    uninstall(con)  # the store's tables, not the cleaned views (clean_round installs them again)
    start = datetime.now(UTC).replace(tzinfo=None)
    load_staged(
        con, staged=raw, result=result, form=form, settings=settings, info=kept.info, run_id=run_id, key=key,
        warnings=0, notes=[],
    )  # fmt: skip
    name, sha, line = log
    with transaction(con):
        con.execute(
            "UPDATE quarantine SET superseded_by = $name, released_by = $name, released_sha256 = $sha, "
            "released_line = $line WHERE round = $r AND submission_id = $s AND sha256 = $file "
            "AND superseded_by IS NULL AND recorded_at < $start",
            {"name": name, "sha": sha, "line": line, "r": settings.round, "s": kept.sid, "file": kept.sha,
             "start": start},
        )  # fmt: skip
        _restore(con, "files", file_row, kept.sha, settings.round)
        _restore(con, "file_members", members, kept.sha, settings.round)


def _restore(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], sha: str, round_: str) -> None:
    con.execute(f"DELETE FROM {table} WHERE sha256 = ? AND round = ?", [sha, round_])
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", [list(r) for r in rows])


def put_back(con: duckdb.DuckDBPyConnection, sid: str, sha: str, round_: str) -> None:
    """A released row that fails again: out of the store's tables, its quarantine lines kept aside again."""
    tables = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND (table_name = 'selections' OR table_name LIKE 'r\\_%' ESCAPE '\\')"
        ).fetchall()
    ]
    uninstall(con)
    with transaction(con):
        con.execute(
            "DELETE FROM submissions WHERE round = ? AND submission_id = ? AND source_sha256 = ?",
            [round_, sid, sha],
        )
        for t in tables:
            if "submission_id" in table_columns(con, t):
                con.execute(f"DELETE FROM {q(t)} WHERE round = ? AND submission_id = ?", [round_, sid])
        con.execute(
            "DELETE FROM quarantine WHERE round = ? AND submission_id = ? AND sha256 = ? AND superseded_by IS NULL",
            [round_, sid, sha],
        )
        con.execute(
            "UPDATE quarantine SET superseded_by = NULL, released_by = NULL, released_sha256 = NULL, "
            "released_line = NULL WHERE round = ? AND submission_id = ? AND sha256 = ? AND released_sha256 IS NOT NULL",
            [round_, sid, sha],
        )
