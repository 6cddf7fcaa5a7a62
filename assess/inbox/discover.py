"""Which inbox files are new: the one answer that `assess run`, `assess watch` and the work-pool fan-out use.

A file is new when its content (sha256) is not yet in the store for this round and it is not waiting in
staging. Content already loaded under another round is skipped too (the round trap: changing `[survey] round`
must not load the same households again), unless the run asks to reload it into this round. Lock files,
partial downloads, temp files and dot-files are never exports. A file that vanishes
while it is looked at is simply not new (it is gone); one still growing is left for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..core.problems import FileStatus
from ..core.settings import Settings
from ..core.sqlutil import named_query
from ..core.summary import SkippedFile
from .archive import sha256_file
from .settle import split_settled

# Files that are never exports: office lock files, partial downloads, hidden files.
IGNORED_PATTERNS = (r"^~\$", r"^\.", r"\.part$", r"\.crdownload$", r"\.tmp$", r"\.download$", r"^\.~lock")


def is_ignored(path: Path) -> bool:
    name = path.name
    return any(re.search(p, name, flags=re.IGNORECASE) for p in IGNORED_PATTERNS)


def wanted(path: Path, inbox: Path) -> bool:
    """True for a file a coordinator dropped; False for lock files, partial downloads, temp and hidden files."""
    path = Path(path)
    try:
        rel = path.relative_to(inbox)
    except ValueError:
        return False
    if any(part.startswith(".") for part in rel.parts):
        return False
    return not is_ignored(path)


def inbox_files(settings: Settings) -> list[Path]:
    """Files waiting in the inbox, oldest first (cumulative exports must load in the order they were made)."""
    inbox = settings.inbox
    if not inbox.exists():
        return []
    found = []
    for p in inbox.rglob("*"):
        if not wanted(p, inbox):
            continue
        try:
            if p.is_file():
                found.append((p.stat().st_mtime, p.name, p))
        except OSError:
            continue  # vanished between listing and looking
    return [p for _, _, p in sorted(found)]


def _read_files(settings: Settings, query: str, params: dict) -> list[tuple]:
    """Rows of a named query on the store's `files` table, read-only; none when there is no store yet."""
    if not settings.store_path.exists():
        return []
    try:
        con = duckdb.connect(str(settings.store_path), read_only=True)
    except duckdb.IOException:
        return []  # a writer holds it; the run discovers again under the store lock
    try:
        return con.execute(named_query("assess.inbox", query), params).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()


def seen_files(settings: Settings) -> set[str]:
    """sha256 of files already processed in this round (needs no write lock)."""
    params = {"round": settings.round}
    # a store from before cleaning logs has no cleaning_logs table: that query then gives no rows
    return {r[0] for q in ("seen_files", "seen_cleaning_logs") for r in _read_files(settings, q, params)}


def loaded_in_other_rounds(settings: Settings) -> dict[str, str]:
    """sha256 -> the (first) other round that has this content loaded."""
    params = {"round": settings.round, "loaded": FileStatus.LOADED.value}
    out: dict[str, str] = {}
    for sha, round_ in _read_files(settings, "loaded_in_other_rounds", params):
        out.setdefault(sha, round_)
    for sha, round_ in _read_files(settings, "cleaning_logs_in_other_rounds", {"round": settings.round}):
        out.setdefault(sha, round_)
    return out


@dataclass
class NewFiles:
    """The inbox as a run sees it."""

    new: list[Path] = field(default_factory=list)  # complete and not yet processed, oldest first
    growing: list[Path] = field(default_factory=list)  # still being written: the next run takes them
    seen: int = 0  # already processed (or staged) files left alone
    other_round: list[SkippedFile] = field(default_factory=list)  # loaded under another round: skipped


def new_files(
    settings: Settings,
    only: Iterable[str | Path] | None = None,
    *,
    settle: bool = True,
    staged: Callable[[str], bool] | None = None,
    reload_into_round: bool = False,
) -> NewFiles:
    """Inbox files this round has not processed. `only`: just these (the watcher names what it saw settle);
    `settle`: hold back files still being written; `staged`: also skip what a worker already staged;
    `reload_into_round`: also take files already loaded under another round (else listed in `other_round`)."""
    files = inbox_files(settings)
    if only is not None:
        wanted_paths = {Path(f).resolve() for f in only}
        files = [p for p in files if p.resolve() in wanted_paths]
    growing: list[Path] = []
    if settle:
        files, growing = split_settled(files)
    seen = seen_files(settings)
    elsewhere = {} if reload_into_round else loaded_in_other_rounds(settings)
    out = NewFiles(growing=growing)
    for p in files:
        try:
            sha = sha256_file(p)
        except OSError:
            continue  # vanished or unreadable while hashed: nothing to process now
        if sha in seen or (staged is not None and staged(sha)):
            out.seen += 1
        elif sha in elsewhere:
            out.other_round.append(SkippedFile(file=p.name, loaded_in=elsewhere[sha], round=settings.round))
        else:
            out.new.append(p)
    return out
