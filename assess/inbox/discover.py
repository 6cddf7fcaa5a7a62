"""Which inbox files are new: the one answer that `assess run`, `assess watch` and the work-pool fan-out use.

A file is new when its content (sha256) is not yet in the store for this round and it is not waiting in
staging. Lock files, partial downloads, temp files and dot-files are never exports. A file that vanishes
while it is looked at is simply not new (it is gone); one still growing is left for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..core.settings import Settings
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


@dataclass
class NewFiles:
    """The inbox as a run sees it."""

    new: list[Path] = field(default_factory=list)  # complete and not yet processed, oldest first
    growing: list[Path] = field(default_factory=list)  # still being written: the next run takes them
    seen: int = 0  # already processed (or staged) files left alone


def new_files(settings: Settings, only: Iterable[str | Path] | None = None, *, settle: bool = True,
              staged: Callable[[str], bool] | None = None) -> NewFiles:
    """Inbox files this round has not processed. `only`: just these (the watcher names what it saw settle);
    `settle`: hold back files still being written; `staged`: also skip what a worker already staged."""
    files = inbox_files(settings)
    if only is not None:
        wanted_paths = {Path(f).resolve() for f in only}
        files = [p for p in files if p.resolve() in wanted_paths]
    growing: list[Path] = []
    if settle:
        files, growing = split_settled(files)
    seen = seen_files(settings)
    out = NewFiles(growing=growing)
    for p in files:
        try:
            sha = sha256_file(p)
        except OSError:
            continue  # vanished or unreadable while hashed: nothing to process now
        if sha in seen or (staged is not None and staged(sha)):
            out.seen += 1
        else:
            out.new.append(p)
    return out
