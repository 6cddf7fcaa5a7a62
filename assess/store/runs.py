"""A run's writes to the store: load staged files (one transaction each), write their receipts, and finish
what a killed run left (missing receipts, staging leftovers). The caller holds the store lock.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..core.names import safe_name
from ..core.problems import FileStatus, MemberCount, Problem, ValidationResult
from ..core.progress import Progress, reporter
from ..core.settings import Settings
from ..core.sqlutil import fetch_one, named_query, transaction
from ..core.xlsform import XLSForm
from ..ops.faults import crash_point
from ..validate.stage import FileOutcome
from . import load as store

log = logging.getLogger(__name__)

LOAD_CHECKPOINT_THRESHOLD = "256MB"  # WAL size at which a load checkpoints before its end (bounds its memory)


def _q(name: str) -> str:
    return named_query("assess.store", name)


def load_outcome(
    con: duckdb.DuckDBPyConnection, out: FileOutcome, settings: Settings, form: XLSForm, run_id: str, key: str
) -> FileOutcome:
    """Write one staged file into the store (the caller holds the store lock)."""
    if out.status == FileStatus.RETRY:
        return out  # not recorded: the next run reads it again
    status = store.file_status(con, out.sha256, settings.round)
    if status is not None:
        out.status = FileStatus.DUPLICATE
        out.reason = "this exact file was already processed in this round; nothing changed"
        return out
    info = store.FileInfo(
        name=out.name, sha256=out.sha256, archive_path=out.archive_path, received_at=out.received_at
    )
    if out.status == FileStatus.REJECTED or out.staged is None:
        out.status = FileStatus.REJECTED
        out.quarantined = out.rows
        store.record_rejected(
            con,
            info=info,
            settings=settings,
            reason=out.reason or "unusable file",
            rows=out.rows,
            fmt=out.format,
            run_id=run_id,
        )
        return out
    try:
        counts = store.load_staged(
            con,
            staged=out.staged,
            result=out.result or ValidationResult(),
            form=form,
            settings=settings,
            info=info,
            run_id=run_id,
            key=key,
            warnings=out.warning_count,
            notes=list(out.warnings),
        )
    except duckdb.IOException:
        raise  # the store itself is unwell (disk full, lock): stop, nothing of this file was written
    except duckdb.Error as exc:
        # rolled back; one odd file must not stop the others in the run
        log.exception("could not load %s", safe_name(out.name))
        out.status, out.quarantined = FileStatus.REJECTED, out.rows
        out.reason = (
            f"the file was read but could not be stored ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}). Send it to the data officer."
        )
        store.record_rejected(
            con, info=info, settings=settings, reason=out.reason, rows=out.rows, fmt=out.format, run_id=run_id
        )
        return out
    out.status, out.accepted, out.quarantined = FileStatus.LOADED, counts.accepted, counts.quarantined
    out.members = counts.members
    return out


def load_batch(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[FileOutcome],
    settings: Settings,
    form: XLSForm,
    run_id: str,
    key: str,
    *,
    write_receipts: Callable[[FileOutcome], object],
    logger: logging.Logger | logging.LoggerAdapter = log,
    progress: Progress | None = None,
) -> list[FileOutcome]:
    """Load staged files one transaction each, then write their receipts (the caller holds the store lock).

    `progress` hears stage "load" in rows: each file's rows as its transaction commits.

    Safe to kill at any point: a file is loaded or not, a killed run's missing receipts are written by the
    next run, and its staging leftovers are removed then.
    """
    steps = reporter(progress)
    steps.start("load", sum(o.rows for o in outcomes))
    redo = begin_load(con, settings, run_id)
    # Each file still commits on its own (to the write-ahead log, durable); the store file itself is
    # rewritten once after the last one, not at every commit (DuckDB's 16 MB default: 0.4 s per 10,000 rows).
    con.execute(f"SET checkpoint_threshold = '{LOAD_CHECKPOINT_THRESHOLD}'")
    try:
        for out in outcomes:
            load_outcome(con, out, settings, form, run_id, key)
            steps.advance("load", out.rows, safe_name(out.name))
            logger.info(
                "%s: %s (%d accepted, %d quarantined)",
                safe_name(out.name),
                out.status,
                out.accepted,
                out.quarantined,
            )
    finally:
        con.execute("RESET checkpoint_threshold")
    con.execute("CHECKPOINT")
    crash_point("after-commit-before-receipt")
    for out in [*redo, *outcomes]:
        try:
            write_receipts(out)
        except OSError:  # the store is the record; a receipt that cannot be written must not fail every run
            logger.exception("could not write the receipt of %s", safe_name(out.name))
        cleanup_staging(settings, out)
    sweep_staging(con, settings)
    finish_load(con, settings, run_id, outcomes)
    steps.finish("load")
    return outcomes


def sweep_staging(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Remove staging left by killed runs for files already in the store (it holds raw answers).

    Safe beside a concurrent run staging the same file: its load finds the file recorded and reads nothing.
    """
    root = settings.staging_root
    if not root.is_dir():
        return
    done = {r[0] for r in con.execute(_q("files_in_round"), {"round": settings.round}).fetchall()}
    for d in root.iterdir():
        if d.name in done:
            shutil.rmtree(d, ignore_errors=True)


def begin_load(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> list[FileOutcome]:
    """Mark this run as loading; return the files of earlier runs killed before their receipts were written.

    The caller holds the store lock, so a run still marked `loading` was killed after loading files (which
    committed and will not be read again) but maybe before their receipts: they are rebuilt from the store.
    """
    killed = con.execute(_q("runs_killed_files"), {"round": settings.round}).fetchall()
    redo = [stored_outcome(con, sha, settings) for (sha,) in killed]
    con.execute(
        _q("runs_begin"),
        {"run": run_id, "round": settings.round, "now": datetime.now(UTC).replace(tzinfo=None)},
    )
    return redo


def finish_load(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, outcomes: list[FileOutcome]
) -> None:
    """Mark this run's load (store and receipts) complete, and the killed runs it finished as interrupted."""
    with transaction(con):
        con.execute(_q("runs_interrupted"), {"round": settings.round, "run": run_id})
        con.execute(
            _q("runs_loaded"),
            {
                "run": run_id,
                "now": datetime.now(UTC).replace(tzinfo=None),
                "files": len(outcomes),
                "acc": sum(o.accepted for o in outcomes),
                "quar": sum(o.quarantined for o in outcomes),
            },
        )


def stored_outcome(con: duckdb.DuckDBPyConnection, sha: str, settings: Settings) -> FileOutcome:
    """A processed file's outcome as the store has it."""
    params = {"sha": sha, "round": settings.round}
    name, fmt, rows, acc, quar, status, reason, archive, received, notes = fetch_one(
        con, _q("stored_file"), params
    )
    problems = [
        Problem(
            expectation=e,
            reason=r,
            kind=k,
            row=row,
            submission_id=sid,
            column=c,
            value=v,
            action=a,
            member=m,
            path=path,
        )
        for sid, row, c, v, e, r, k, a, m, path in con.execute(_q("stored_problems"), params).fetchall()
    ]
    members = [MemberCount(*row) for row in con.execute(_q("stored_file_members"), params).fetchall()]
    return FileOutcome(
        name=name,
        source=Path(archive or ""),
        sha256=sha,
        archive_path=Path(archive or ""),
        received_at=received,
        status=FileStatus(status),
        reason=reason,
        format=fmt,
        rows=rows or 0,
        accepted=acc or 0,
        quarantined=quar or 0,
        warnings=list(notes or []),
        result=None if status == FileStatus.REJECTED else ValidationResult(problems=problems),
        members=members,
    )


def cleanup_staging(settings: Settings, out: FileOutcome) -> None:
    if not out.sha256:
        return  # never read (changed or vanished): no staging folder of its own
    if out.workdir is None:  # a hand-off or a killed run's file: the whole folder of that file is done
        shutil.rmtree(settings.staging_dir(out.sha256), ignore_errors=True)
        return
    shutil.rmtree(out.workdir, ignore_errors=True)  # not another run's staging of the same file
    try:
        out.workdir.parent.rmdir()
    except OSError:
        pass  # not empty: another run is staging the same file
