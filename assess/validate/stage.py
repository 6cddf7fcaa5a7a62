"""Stage one dropped file: archive it, read it, check its structure, validate its rows.

Needs no store access, so parallel workers can stage files while one writer loads them (`store.runs`).
Never raises for a bad file: the `FileOutcome` says what happened and why.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb

from ..core.names import safe_name
from ..core.problems import Action, FileStatus, MemberCount, ValidationResult
from ..core.settings import Settings
from ..core.summary import FileSummary
from ..core.xlsform import XLSForm
from ..inbox.archive import FileChanged, archive_file, sha256_file
from ..ops.faults import crash_point
from ..read.export import SUPPORTED_SUFFIXES, Staged, StructuralError, stage_export, unsupported_reason
from ..read.structure import structural_checks
from .batch import shape, validate_batch
from .members import would_load
from .suite import validate

log = logging.getLogger(__name__)

RETRY = "it was not loaded and will be read again on the next run"


@dataclass
class FileOutcome:
    """One dropped file on its way through a run: staged, then loaded, rejected or left for a retry."""

    name: str
    source: Path
    sha256: str
    archive_path: Path
    received_at: datetime
    status: FileStatus = FileStatus.STAGED
    reason: str | None = None
    format: str | None = None
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    staged: Staged | None = None
    result: ValidationResult | None = None
    warnings: list[str] = field(
        default_factory=list
    )  # reader notes (encoding, separators, duplicate headers)
    workdir: Path | None = None  # this staging's own folder (under settings.staging_dir)
    # member rows per repeat group: what loading would do (staged), what it did (loaded)
    members: list[MemberCount] = field(default_factory=list)

    @property
    def warning_count(self) -> int:
        """Reader notes plus rows kept with a warning: the one count the CLI, receipts and reports show."""
        return len(self.warnings) + (self.result.warnings if self.result else 0)

    def summary(self) -> FileSummary:
        return FileSummary(
            file=self.name,
            sha256=self.sha256,
            status=FileStatus(self.status),
            reason=self.reason,
            format=self.format,
            rows=self.rows,
            accepted=self.accepted,
            quarantined=self.quarantined,
            warnings=self.warning_count,
            notes=list(self.result.suspect_rules) if self.result else [],
        )


def stage_file(path: Path, settings: Settings, form: XLSForm) -> FileOutcome:
    """Archive, read, check and validate one file. Never raises for a bad file: the outcome says why."""
    return stage_files([path], settings, form)[0]


def stage_files(
    paths: list[Path],
    settings: Settings,
    form: XLSForm,
    *,
    on_staged: Callable[[FileOutcome], object] | None = None,
) -> list[FileOutcome]:
    """Archive, read and check each file, then validate the files of one shape together (one GX run over
    all their rows, `validate.batch`); the outcomes are those `stage_file` gives each file alone."""
    outcomes = [_read(Path(p), settings, form) for p in paths]
    groups: dict[tuple, list[FileOutcome]] = {}
    for out in outcomes:
        key = shape(out.staged) if out.status == FileStatus.STAGED and out.staged else None
        if key is not None:
            groups.setdefault(key, []).append(out)
    for group in groups.values():
        if len(group) > 1:
            _validate_together(group, settings, form)
    for out in outcomes:
        if out.status == FileStatus.STAGED and out.staged and out.result is None:
            _guarded(out, partial(_validate_one, out, settings, form))
        if out.workdir is not None and _changed_since(out.source, out.sha256):
            out.status, out.reason, out.staged, out.result = (
                FileStatus.RETRY,
                _retry_reason(FileChanged()),
                None,
                None,
            )
        if on_staged is not None:
            on_staged(out)
    return outcomes


def _read(path: Path, settings: Settings, form: XLSForm) -> FileOutcome:
    """Archive, read and check the structure of one file (status STAGED, REJECTED or RETRY)."""
    try:
        sha = sha256_file(path)
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
        archive = archive_file(path, sha, settings.archive_dir)
    except OSError as exc:
        # still being written, moved away or unreadable: not recorded as processed, so a later run retries it
        return FileOutcome(
            name=path.name,
            source=path,
            sha256="",
            archive_path=Path(),
            received_at=datetime.now(UTC).replace(tzinfo=None),
            status=FileStatus.RETRY,
            reason=_retry_reason(exc),
        )
    crash_point("after-archive")
    out = FileOutcome(name=path.name, source=path, sha256=sha, archive_path=archive, received_at=received)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        out.status, out.reason = FileStatus.REJECTED, unsupported_reason(path.suffix)
        return out
    # a folder of this run's own: two runs may stage the same file at once (a watcher and a schedule)
    work = settings.staging_dir(sha) / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True, exist_ok=True)
    out.workdir = work

    def read() -> None:
        staged = stage_export(archive, form, work / "rows.parquet", id_column=settings.id_column)
        out.staged, out.format, out.rows = staged, staged.format, staged.rows
        out.warnings.extend(staged.warnings)
        structural_checks(staged, form, settings)

    _guarded(out, read)
    return out


def _validate_one(out: FileOutcome, settings: Settings, form: XLSForm) -> None:
    assert out.staged is not None and out.workdir is not None
    out.result = validate(out.staged, form, settings, workdir=out.workdir)
    out.members = would_load(out.staged, out.result)


def _validate_together(group: list[FileOutcome], settings: Settings, form: XLSForm) -> None:
    """One GX run for the files of one shape; left to `_validate_one` when they cannot share it."""
    files = [o.staged for o in group if o.staged is not None]
    workdirs = [o.workdir for o in group if o.workdir is not None]
    try:
        results = validate_batch(files, form, settings, workdirs=workdirs)
    except (duckdb.Error, OSError, UnicodeError, ValueError):
        log.warning(
            "validating %d files at once failed; validating them one by one", len(group), exc_info=True
        )
        return
    if results is None:
        return
    for out, result in zip(group, results, strict=True):
        out.result = result
        _guarded(out, partial(_count_members, out))


def _count_members(out: FileOutcome) -> None:
    if out.staged is not None and out.result is not None:
        out.members = would_load(out.staged, out.result)


def _guarded(out: FileOutcome, step: Callable[[], object]) -> None:
    """Run one step of reading a file; a bad file is rejected with the reason, never raised."""
    try:
        step()
    except StructuralError as exc:
        out.status, out.reason = FileStatus.REJECTED, str(exc)
    except (duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        log.exception("unexpected error reading %s", safe_name(out.name))
        out.status, out.reason = (
            FileStatus.REJECTED,
            (
                f"the file could not be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
                "Export it again as CSV or XLSX; if it keeps failing, send it to the data officer."
            ),
        )


def _retry_reason(exc: OSError) -> str:
    if isinstance(exc, FileChanged):
        return f"the file changed while it was being read (still being copied or saved?); {RETRY}"
    if isinstance(exc, FileNotFoundError):
        return f"the file disappeared before it could be read (moved or renamed?); {RETRY} if it is back"
    return f"the file could not be opened ({exc.strerror or type(exc).__name__}); {RETRY}"


def _changed_since(path: Path, sha: str) -> bool:
    """True when the dropped file no longer has the content that was read (a writer was still at it)."""
    try:
        return sha256_file(path) != sha
    except FileNotFoundError:
        return False  # moved away after it was archived: the archived copy is complete and consistent
    except OSError:
        return True


def would_load_every_row(out: FileOutcome) -> bool:
    """`assess check`'s answer: the file is usable and no row would be kept aside."""
    if out.status == FileStatus.REJECTED:
        return False
    return not (out.result and out.result.quarantined_rows()) and not any(
        m.quarantined or m.with_household for m in out.members
    )


__all__ = ["Action", "FileOutcome", "stage_file", "stage_files", "would_load_every_row"]
