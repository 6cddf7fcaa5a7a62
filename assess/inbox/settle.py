"""Deciding when dropped files are ready: stable-size detection and batching (ignore rules: `discover.py`).

Pure logic with an injectable clock and `stat`, so it is tested without sleeping; `flows/watch.py` feeds it
file-system events from watchdog and starts runs with the batches it returns.

A file is *ready* when its size and modification time have not changed for `stable_seconds` (a copy over
a slow share or a browser download grows for a while). A *batch* is released when every pending file is
ready and no new event came for `debounce_seconds`, so fifty files dropped at once make one run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Pending:
    signature: tuple[int, int] | None  # (size, mtime_ns); None until first seen on disk
    changed_at: float  # clock time of the last signature change
    first_seen: float


def _signature(path: Path, stat: Callable[[Path], os.stat_result]) -> tuple[int, int] | None:
    try:
        st = stat(path)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return (st.st_size, st.st_mtime_ns)


class Settler:
    """Collects paths from file events and releases them in batches once they have stopped growing.

    Thread-safe: watchdog calls `touch` from its observer thread while the main loop calls `poll`.
    """

    def __init__(self, stable_seconds: float = 5.0, debounce_seconds: float = 2.0, max_wait_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic,
                 stat: Callable[[Path], os.stat_result] = os.stat) -> None:
        self.stable_seconds = stable_seconds
        self.debounce_seconds = debounce_seconds
        self.max_wait_seconds = max_wait_seconds
        self._clock = clock
        self._stat = stat
        self._pending: dict[Path, _Pending] = {}
        self._last_event = float("-inf")
        self._lock = threading.Lock()

    def touch(self, path: Path) -> None:
        """Record an event for `path` (created, modified or moved into the inbox)."""
        now = self._clock()
        with self._lock:
            self._last_event = now
            item = self._pending.get(Path(path))
            if item is None:
                self._pending[Path(path)] = _Pending(None, now, now)
            else:
                item.changed_at = now  # an event means it may still be changing; re-check from here

    def pending(self) -> list[Path]:
        with self._lock:
            return sorted(self._pending)

    def poll(self) -> list[Path]:
        """Re-check pending files; return a batch of ready files (possibly empty) and forget them."""
        now = self._clock()
        with self._lock:
            ready: list[Path] = []
            unsettled = False
            for path, item in list(self._pending.items()):
                sig = _signature(path, self._stat)
                if sig is None and item.signature is not None:
                    del self._pending[path]  # gone (renamed or deleted) before it settled
                    continue
                if sig != item.signature:
                    item.signature, item.changed_at = sig, now
                if sig is not None and now - item.changed_at >= self.stable_seconds:
                    ready.append(path)
                else:
                    unsettled = True
                    if sig is None and now - item.first_seen >= self.stable_seconds:
                        del self._pending[path]  # an event for a file that never appeared
            quiet = now - self._last_event >= self.debounce_seconds
            overdue = bool(ready) and any(now - self._pending[p].first_seen >= self.max_wait_seconds for p in ready)
            if not ready or not (quiet and not unsettled or overdue):
                return []
            for p in ready:
                del self._pending[p]
            return sorted(ready)


def split_settled(paths: Iterable[Path], settle_seconds: float = 2.0,
                  clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                  stat: Callable[[Path], os.stat_result] = os.stat) -> tuple[list[Path], list[Path]]:
    """Split `paths` into (settled, still growing) for a run that was not started by the watcher.

    Files modified in the last `settle_seconds` are looked at again after a short wait; only those that
    changed meanwhile are held back (the next run picks them up). Old files cost nothing.
    """
    paths = list(paths)
    sigs = {p: _signature(p, stat) for p in paths}
    young = [p for p in paths if sigs[p] is not None and clock() - sigs[p][1] / 1e9 < settle_seconds]  # type: ignore[index]
    if young:
        newest = max(sigs[p][1] / 1e9 for p in young)  # type: ignore[index]
        sleep(max(0.0, min(settle_seconds, newest + settle_seconds - clock())))
    growing = [p for p in young if _signature(p, stat) != sigs[p]]
    return [p for p in paths if p not in growing and sigs[p] is not None], growing
