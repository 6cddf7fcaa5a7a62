"""One writer at a time per store: an advisory file lock beside the DuckDB file."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreBusy(Exception):
    """Another run holds the store lock."""


@contextmanager
def store_lock(path: Path, *, wait: float = 600.0, poll: float = 0.5) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed); wait up to `wait` seconds, else StoreBusy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = ""
                    try:
                        holder = Path(path).read_text().strip()
                    except OSError:
                        pass
                    raise StoreBusy(
                        f"{path.parent / 'assessment.duckdb'} is being written by another run"
                        f"{' (' + holder + ')' if holder else ''}; waited {wait:.0f} s. Try again when it ends."
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
