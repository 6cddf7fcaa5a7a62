"""Deciding when dropped files are ready: complete-file detection and batching (ignore rules: `discover.py`).

Pure logic with an injectable clock, `stat` and open-for-writing check, so it is tested without sleeping;
`flows/watch.py` feeds it file-system events from watchdog and starts runs with the batches it returns.

A file is *ready* when both hold:

* **nobody has it open for writing**, as far as this machine can tell (`writers`: on Linux
  `assess.inbox.writers.open_for_writing`, which reads /proc; only processes this user may inspect); and
* **its writer is done**, which is known one of two ways:
  - *closed*: the writer closed it after writing (inotify's close-write, watchdog's `FileClosedEvent`,
    given to `closed()`) and its size and time then stayed the same for `closed_seconds` (default 0.5 s);
  - *stable* (no close-write seen since its last change): its size and modification time have not changed
    for `stable_seconds`. This is the rule for writers whose close we cannot see: a network share (a
    remote machine's writes raise no close event; a polling observer raises none at all), other
    platforms, a file moved into the inbox, a file already there when watching starts.

So a local writer that pauses longer than `stable_seconds` with the file still open holds it back (the
/proc check), and a closed file is read without waiting `stable_seconds`. A writer whose pause we cannot
see (another machine, another user's process) is covered by `stable_seconds` alone: raise it for slow
shares. A *batch* is released when every pending file is ready and no new event came for
`debounce_seconds`, so fifty files dropped at once make one run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

Writers = Callable[[list[Path]], set[Path]]  # of these paths, the ones some process has open for writing


@dataclass
class _Pending:
    signature: tuple[int, int] | None  # (size, mtime_ns); None until first seen on disk
    changed_at: float  # clock time of the last signature change (or event)
    first_seen: float
    closed: bool = False  # a close-write came after the last change event


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

    def __init__(
        self,
        stable_seconds: float = 5.0,
        debounce_seconds: float = 2.0,
        max_wait_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[Path], os.stat_result] = os.stat,
        writers: Writers | None = None,
        closed_seconds: float = 0.5,
    ) -> None:
        self.stable_seconds = stable_seconds
        self.debounce_seconds = debounce_seconds
        self.max_wait_seconds = max_wait_seconds
        self.closed_seconds = min(closed_seconds, stable_seconds)
        self._clock = clock
        self._stat = stat
        self._writers = writers
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
                item.closed = False

    def closed(self, path: Path) -> None:
        """Record that a writer closed `path` after writing to it (inotify close-write)."""
        now = self._clock()
        with self._lock:
            self._last_event = now
            item = self._pending.setdefault(Path(path), _Pending(None, now, now))
            item.changed_at, item.closed = now, True

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
                quiet_for = self.closed_seconds if item.closed else self.stable_seconds
                if sig is not None and now - item.changed_at >= quiet_for:
                    ready.append(path)
                else:
                    unsettled = True
                    if sig is None and now - item.first_seen >= self.stable_seconds:
                        del self._pending[path]  # an event for a file that never appeared
            if ready and self._writers is not None:
                held = self._writers(list(ready))
                if held:  # still open for writing: changing for all we know, whatever its size says
                    for p in held:
                        self._pending[p].changed_at, self._pending[p].closed = now, False
                    ready = [p for p in ready if p not in held]
                    unsettled = True
            quiet = now - self._last_event >= self.debounce_seconds
            overdue = bool(ready) and any(
                now - self._pending[p].first_seen >= self.max_wait_seconds for p in ready
            )
            if not ready or not (quiet and not unsettled or overdue):
                return []
            for p in ready:
                del self._pending[p]
            return sorted(ready)


def split_settled(
    paths: Iterable[Path],
    settle_seconds: float = 2.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    stat: Callable[[Path], os.stat_result] = os.stat,
) -> tuple[list[Path], list[Path]]:
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
