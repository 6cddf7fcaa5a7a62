"""The hand-off between parallel ingest workers and the one writer: a staged file's outcome on shared storage.

A worker stages one file (`validate.stage.stage_file`: archive, read, validate; no store access) into
`processed/staging/<round>/<sha256>/rows.parquet` and then writes `outcome.json` beside it, last and
atomically, so its presence means the directory is complete. The aggregation step reads every complete
directory and loads them into DuckDB under the store lock.

Paths inside `outcome.json` are relative to the `processed` (or inbox) folder, so workers on other
machines may mount the shared storage at a different path.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from ..core.problems import FileStatus, MemberCount, Problem, ValidationResult
from ..core.settings import Settings
from ..core.sqlutil import atomic_write_json
from ..read.export import Column, Staged, StagedRepeat
from .stage import FileOutcome

OUTCOME = "outcome.json"
VERSION = 2  # 2: repeat groups (staged member tables, member counts); version 1 hand-offs still read
READABLE_VERSIONS = (1, 2)


def _rel(path: Path | str | None, base: Path) -> str | None:
    if path is None:
        return None
    p = Path(path)
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(p)


def _abs(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    p = Path(value)
    return p if p.is_absolute() else base / p


def write_outcome(out: FileOutcome, settings: Settings) -> Path:
    """Write `outcome.json` for a staged file (after rows.parquet); return its path."""
    base = settings.processed
    staged = None
    if out.staged is not None:
        staged = {
            "path": _rel(out.staged.path, base),
            "format": out.staged.format,
            "rows": out.staged.rows,
            "columns": [asdict(c) for c in out.staged.columns],
            "id_column": out.staged.id_column,
            "warnings": list(out.staged.warnings),
            "repeats": [
                {
                    "repeat": r.repeat,
                    "member": r.member,
                    "path": _rel(r.path, base),
                    "rows": r.rows,
                    "columns": [asdict(c) for c in r.columns],
                    "parent": r.parent,
                }
                for r in out.staged.repeats.values()
            ],
        }
    result = None
    if out.result is not None:
        result = {
            "problems": [p.as_dict() for p in out.result.problems],
            "not_checked": list(out.result.not_checked),
            "not_enforced": list(out.result.not_enforced),
            "suspect_rules": list(out.result.suspect_rules),
            "rules": out.result.rules,
            "docs_path": _rel(out.result.docs_path, base),
        }
    data = {
        "version": VERSION,
        "round": settings.round,
        "name": out.name,
        "source": _rel(out.source, settings.inbox),
        "sha256": out.sha256,
        "archive_path": _rel(out.archive_path, base),
        "received_at": out.received_at.isoformat(),
        "status": out.status,
        "reason": out.reason,
        "format": out.format,
        "rows": out.rows,
        "warnings": list(out.warnings),
        "staged": staged,
        "result": result,
        "members": [m.as_dict() for m in out.members],
    }
    path = settings.staging_dir(out.sha256) / OUTCOME
    atomic_write_json(path, data)
    return path


def read_outcome(path: Path, settings: Settings) -> FileOutcome:
    """Rebuild the FileOutcome a worker wrote (paths resolved against this machine's folders)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("version") not in READABLE_VERSIONS:
        raise ValueError(f"{path}: hand-off version {data.get('version')!r}, expected {VERSION}")
    base = settings.processed
    staged = None
    if data["staged"] is not None:
        s = data["staged"]
        staged = Staged(
            path=_abs(s["path"], base) or Path(),
            format=s["format"],
            rows=s["rows"],
            columns=[Column(**c) for c in s["columns"]],
            id_column=s["id_column"],
            warnings=list(s["warnings"]),
            repeats={
                r["repeat"]: StagedRepeat(
                    repeat=r["repeat"],
                    member=r["member"],
                    path=_abs(r["path"], base) or Path(),
                    rows=r["rows"],
                    columns=[Column(**c) for c in r["columns"]],
                    parent=r["parent"],
                )
                for r in s.get("repeats", [])
            },
        )
    result = None
    if data["result"] is not None:
        r = data["result"]
        docs = _abs(r["docs_path"], base)
        result = ValidationResult(
            problems=[Problem(**p) for p in r["problems"]],
            not_checked=list(r["not_checked"]),
            not_enforced=list(r.get("not_enforced", [])),
            suspect_rules=list(r.get("suspect_rules", [])),
            rules=r["rules"],
            docs_path=str(docs) if docs else None,
        )
    return FileOutcome(
        name=data["name"],
        source=_abs(data["source"], settings.inbox) or Path(data["name"]),
        sha256=data["sha256"],
        archive_path=_abs(data["archive_path"], base) or Path(),
        received_at=datetime.fromisoformat(data["received_at"]),
        status=FileStatus(data["status"]),
        reason=data["reason"],
        format=data["format"],
        rows=data["rows"],
        staged=staged,
        result=result,
        warnings=list(data["warnings"]),
        members=[MemberCount(**m) for m in data.get("members", [])],
    )


def staged_outcomes(settings: Settings) -> list[Path]:
    """Complete hand-offs waiting for this round, in the order their files were made (cumulative exports)."""
    root = settings.staging_root
    if not root.exists():
        return []
    found = []
    for path in root.glob(f"*/{OUTCOME}"):
        try:
            received = json.loads(path.read_text(encoding="utf-8"))["received_at"]
        except (OSError, ValueError, KeyError):
            continue  # unreadable: skipped now, reported by the aggregation's log
        found.append((received, path.parent.name, path))
    return [p for _, _, p in sorted(found)]


def is_staged(settings: Settings, sha: str) -> bool:
    return (settings.staging_dir(sha) / OUTCOME).exists()
