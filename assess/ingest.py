"""Ingest one dropped file: archive it, read it, check it, validate it, load it.

Split in two so that reading and validation (the slow part) need no store lock and can run in parallel
workers; only `load_outcome` writes to the DuckDB store.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import store
from .checks import structural_checks
from .faults import crash_point
from .problems import Problem, ValidationResult
from .readers import SUPPORTED_SUFFIXES, Staged, StructuralError, is_ignored, stage_export
from .settings import Settings
from .validation import validate
from .xlsform import XLSForm

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    name: str
    source: Path
    sha256: str
    archive_path: Path
    received_at: datetime
    status: str = "staged"  # staged | rejected | duplicate | loaded | retry (changed while read; not recorded)
    reason: str | None = None
    format: str | None = None
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    staged: Staged | None = None
    result: ValidationResult | None = None
    warnings: list[str] = field(default_factory=list)
    workdir: Path | None = None  # this staging's own folder (under staging_dir)

    def summary(self) -> dict:
        return {
            "file": self.name, "sha256": self.sha256, "status": self.status, "reason": self.reason,
            "format": self.format, "rows": self.rows, "accepted": self.accepted, "quarantined": self.quarantined,
            "warnings": len(self.warnings) + sum(1 for p in (self.result.problems if self.result else [])
                                                 if p.action == "warn"),
        }


def safe_name(name: str, limit: int = 80) -> str:
    """A file-system safe rendering of a user's file name (no path parts, no control characters)."""
    base = os.path.basename(name.replace("\\", "/"))
    base = re.sub(r"[^\w.\- ]+", "_", base, flags=re.UNICODE).strip(" .") or "file"
    # at most `limit` characters and 2 * `limit` bytes: names built from it must stay under 255 bytes
    return base[:limit].encode("utf-8")[: 2 * limit].decode("utf-8", errors="ignore")


def discover(settings: Settings) -> list[Path]:
    """Files waiting in the inbox, oldest first (cumulative exports must load in the order they were made)."""
    inbox = settings.inbox
    if not inbox.exists():
        return []
    found = [p for p in inbox.rglob("*") if p.is_file() and not is_ignored(p)
             and not any(part.startswith(".") for part in p.relative_to(inbox).parts)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def seen_files(settings: Settings) -> set[str]:
    """sha256 of files already processed in this round (needs no write lock)."""
    if not settings.store_path.exists():
        return set()
    try:
        con = duckdb.connect(str(settings.store_path), read_only=True)
    except duckdb.IOException:
        return set()  # a writer holds it; the load step re-checks under the lock
    try:
        return {r[0] for r in con.execute("SELECT sha256 FROM files WHERE round = ?", [settings.round]).fetchall()}
    except duckdb.CatalogException:
        return set()
    finally:
        con.close()


def staging_dir(settings: Settings, sha: str) -> Path:
    return settings.processed / "staging" / settings.round / sha


def stage_file(path: Path, settings: Settings, form: XLSForm) -> FileOutcome:
    """Archive, read, check and validate one file. Never raises for a bad file: the outcome says why."""
    path = Path(path)
    try:
        sha = store.sha256_file(path)
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        archive = store.archive_file(path, sha, settings.archive_dir)
    except OSError as exc:
        # still being written, moved away or unreadable: not recorded as processed, so a later run retries it
        return FileOutcome(name=path.name, source=path, sha256="", archive_path=Path(),
                           received_at=datetime.now(UTC).replace(tzinfo=None), status="retry",
                           reason=_retry_reason(exc))
    crash_point("after-archive")
    out = FileOutcome(name=path.name, source=path, sha256=sha, archive_path=archive, received_at=received)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        out.status, out.reason = "rejected", (
            f"'{path.suffix or 'no extension'}' files are not survey exports. Drop the CSV or XLSX export "
            "downloaded from KoboToolbox or ODK Central."
        )
        return out
    # a folder of this run's own: two runs may stage the same file at once (a watcher and a schedule)
    work = staging_dir(settings, sha) / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True, exist_ok=True)
    out.workdir = work
    try:
        staged = stage_export(archive, form, work / "rows.parquet", id_column=settings.id_column)
        out.staged, out.format, out.rows = staged, staged.format, staged.rows
        out.warnings.extend(staged.warnings)
        structural_checks(staged, form, settings)
        out.result = validate(staged, form, settings, workdir=work)
    except StructuralError as exc:
        out.status, out.reason = "rejected", str(exc)
    except (duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        log.exception("unexpected error reading %s", safe_name(path.name))
        out.status, out.reason = "rejected", (
            f"the file could not be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            "Export it again as CSV or XLSX; if it keeps failing, send it to the data officer."
        )
    if _changed_since(path, sha):
        out.status, out.reason, out.staged, out.result = "retry", _retry_reason(store.FileChanged()), None, None
    return out


RETRY = "it was not loaded and will be read again on the next run"


def _retry_reason(exc: OSError) -> str:
    if isinstance(exc, store.FileChanged):
        return f"the file changed while it was being read (still being copied or saved?); {RETRY}"
    if isinstance(exc, FileNotFoundError):
        return f"the file disappeared before it could be read (moved or renamed?); {RETRY} if it is back"
    return f"the file could not be opened ({exc.strerror or type(exc).__name__}); {RETRY}"


def _changed_since(path: Path, sha: str) -> bool:
    """True when the dropped file no longer has the content that was read (a writer was still at it)."""
    try:
        return store.sha256_file(path) != sha
    except FileNotFoundError:
        return False  # moved away after it was archived: the archived copy is complete and consistent
    except OSError:
        return True


def load_outcome(con: duckdb.DuckDBPyConnection, out: FileOutcome, settings: Settings, form: XLSForm,
                 run_id: str, key: str) -> FileOutcome:
    """Write one staged file into the store (the caller holds the store lock)."""
    if out.status == "retry":
        return out  # not recorded: the next run reads it again
    status = store.file_status(con, out.sha256, settings.round)
    if status is not None:
        out.status = "duplicate"
        out.reason = "this exact file was already processed in this round; nothing changed"
        return out
    info = store.FileInfo(name=out.name, sha256=out.sha256, archive_path=out.archive_path,
                          received_at=out.received_at)
    if out.status == "rejected" or out.staged is None:
        out.status = "rejected"
        out.quarantined = out.rows
        store.record_rejected(con, info=info, settings=settings, reason=out.reason or "unusable file",
                              rows=out.rows, fmt=out.format, run_id=run_id)
        return out
    try:
        counts = store.load_staged(con, staged=out.staged, result=out.result or ValidationResult(), form=form,
                                   settings=settings, info=info, run_id=run_id, key=key)
    except duckdb.IOException:
        raise  # the store itself is unwell (disk full, lock): stop, nothing of this file was written
    except duckdb.Error as exc:
        # rolled back; one odd file must not stop the others in the run
        log.exception("could not load %s", safe_name(out.name))
        out.status, out.quarantined = "rejected", out.rows
        out.reason = (f"the file was read but could not be stored ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:200]}). Send it to the data officer.")
        store.record_rejected(con, info=info, settings=settings, reason=out.reason, rows=out.rows, fmt=out.format,
                              run_id=run_id)
        return out
    out.status, out.accepted, out.quarantined = "loaded", counts.accepted, counts.quarantined
    return out


def load_batch(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], settings: Settings, form: XLSForm,
               run_id: str, key: str, *, write_receipts: Callable[[FileOutcome], object],
               logger: logging.Logger | logging.LoggerAdapter = log) -> list[FileOutcome]:
    """Load staged files one transaction each, then write their receipts (the caller holds the store lock).

    Safe to kill at any point: a file is loaded or not, a killed run's missing receipts are written by the
    next run, and its staging leftovers are removed then.
    """
    redo = begin_load(con, settings, run_id)
    for out in outcomes:
        load_outcome(con, out, settings, form, run_id, key)
        logger.info("%s: %s (%d accepted, %d quarantined)", safe_name(out.name), out.status, out.accepted,
                    out.quarantined)
    crash_point("after-commit-before-receipt")
    for out in [*redo, *outcomes]:
        try:
            write_receipts(out)
        except OSError:  # the store is the record; a receipt that cannot be written must not fail every run
            logger.exception("could not write the receipt of %s", safe_name(out.name))
        cleanup_staging(settings, out)
    sweep_staging(con, settings)
    finish_load(con, settings, run_id, outcomes)
    return outcomes


def sweep_staging(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Remove staging left by killed runs for files already in the store (it holds raw answers).

    Safe beside a concurrent run staging the same file: its load finds the file recorded and reads nothing.
    """
    root = settings.processed / "staging" / settings.round
    if not root.is_dir():
        return
    done = {r[0] for r in con.execute("SELECT sha256 FROM files WHERE round = ?", [settings.round]).fetchall()}
    for d in root.iterdir():
        if d.name in done:
            shutil.rmtree(d, ignore_errors=True)


def begin_load(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> list[FileOutcome]:
    """Mark this run as loading; return the files of earlier runs killed before their receipts were written.

    The caller holds the store lock, so a run still marked `loading` was killed after loading files (which
    committed and will not be read again) but maybe before their receipts: they are rebuilt from the store.
    """
    crashed = [r[0] for r in con.execute(
        "SELECT run_id FROM runs WHERE round = $round AND status = 'loading'", {"round": settings.round}).fetchall()]
    redo: list[FileOutcome] = []
    for (sha,) in con.execute(
        "SELECT sha256 FROM files WHERE round = $round AND run_id IN (SELECT unnest($runs::VARCHAR[])) "
        "ORDER BY processed_at", {"round": settings.round, "runs": crashed},
    ).fetchall():
        redo.append(stored_outcome(con, sha, settings))
    con.execute("INSERT OR REPLACE INTO runs (run_id, round, started_at, status) VALUES ($run, $round, $now, "
                "'loading')", {"run": run_id, "round": settings.round, "now": datetime.now(UTC).replace(tzinfo=None)})
    return redo


def finish_load(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, outcomes: list[FileOutcome]) -> None:
    """Mark this run's load (store and receipts) complete, and the killed runs it finished as interrupted."""
    con.execute("BEGIN TRANSACTION")
    con.execute("UPDATE runs SET status = 'interrupted' WHERE round = $round AND status = 'loading' AND run_id <> $run",
                {"round": settings.round, "run": run_id})
    con.execute(
        "UPDATE runs SET status = 'loaded', finished_at = $now, files = $files, accepted = $acc, quarantined = $quar "
        "WHERE run_id = $run",
        {"run": run_id, "now": datetime.now(UTC).replace(tzinfo=None), "files": len(outcomes),
         "acc": sum(o.accepted for o in outcomes), "quar": sum(o.quarantined for o in outcomes)},
    )
    con.execute("COMMIT")


def stored_outcome(con: duckdb.DuckDBPyConnection, sha: str, settings: Settings) -> FileOutcome:
    """A processed file's outcome as the store has it (its reader warnings are not kept)."""
    name, fmt, rows, acc, quar, status, reason, archive, received = con.execute(
        "SELECT name, format, rows, accepted, quarantined, status, reason, archive_path, received_at FROM files "
        "WHERE sha256 = $sha AND round = $round", {"sha": sha, "round": settings.round}).fetchone()
    problems = [Problem(expectation=e, reason=r, kind=k, row=row, submission_id=sid, column=c, value=v, action=a)
                for sid, row, c, v, e, r, k, a in con.execute(
                    'SELECT submission_id, "row", "column", value, expectation, reason, kind, action FROM quarantine '
                    "WHERE sha256 = $sha AND round = $round AND expectation <> 'file_is_usable' ORDER BY \"row\"",
                    {"sha": sha, "round": settings.round}).fetchall()]
    return FileOutcome(name=name, source=Path(archive or ""), sha256=sha, archive_path=Path(archive or ""),
                       received_at=received, status=status, reason=reason, format=fmt, rows=rows or 0,
                       accepted=acc or 0, quarantined=quar or 0,
                       result=None if status == "rejected" else ValidationResult(problems=problems))


def cleanup_staging(settings: Settings, out: FileOutcome) -> None:
    if not out.sha256:
        return  # never read (changed or vanished): no staging folder of its own
    if out.workdir is None:  # a hand-off or a killed run's file: the whole folder of that file is done
        shutil.rmtree(staging_dir(settings, out.sha256), ignore_errors=True)
        return
    shutil.rmtree(out.workdir, ignore_errors=True)  # not another run's staging of the same file
    try:
        out.workdir.parent.rmdir()
    except OSError:
        pass  # not empty: another run is staging the same file


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)
