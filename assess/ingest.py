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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import store
from .checks import structural_checks
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
    status: str = "staged"  # staged | rejected | duplicate | loaded
    reason: str | None = None
    format: str | None = None
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    staged: Staged | None = None
    result: ValidationResult | None = None
    warnings: list[str] = field(default_factory=list)

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
    return base[:limit]


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
    sha = store.sha256_file(path)
    archive = store.archive_file(path, sha, settings.archive_dir)
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    out = FileOutcome(name=path.name, source=path, sha256=sha, archive_path=archive, received_at=received)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        out.status, out.reason = "rejected", (
            f"'{path.suffix or 'no extension'}' files are not survey exports. Drop the CSV or XLSX export "
            "downloaded from KoboToolbox or ODK Central."
        )
        return out
    work = staging_dir(settings, sha)
    work.mkdir(parents=True, exist_ok=True)
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
    return out


def load_outcome(con: duckdb.DuckDBPyConnection, out: FileOutcome, settings: Settings, form: XLSForm,
                 run_id: str, key: str) -> FileOutcome:
    """Write one staged file into the store (the caller holds the store lock)."""
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
    else:
        counts = store.load_staged(con, staged=out.staged, result=out.result or ValidationResult(), form=form,
                                   settings=settings, info=info, run_id=run_id, key=key)
        out.status, out.accepted, out.quarantined = "loaded", counts.accepted, counts.quarantined
    return out


def cleanup_staging(settings: Settings, out: FileOutcome) -> None:
    shutil.rmtree(staging_dir(settings, out.sha256), ignore_errors=True)


def problems_for_receipt(out: FileOutcome) -> list[Problem]:
    if out.status == "rejected":
        return [Problem(expectation="file_is_usable", reason=out.reason or "", kind="structure")]
    return list(out.result.problems if out.result else [])


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)
