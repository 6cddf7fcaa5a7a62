"""Progress of a run, reported by the library to whoever draws it (the CLI draws it with rich; nobody else must).

The library never imports a display: functions that take a while accept a `Progress` and call it as their work
advances. A run has a few named stages, each started once (a later `start` with a total only sets the total):

    "stage"     files read and validated, n/N
    "load"      rows written to the store
    "estimate"  estimates computed (no total; `finish` gives a note)
    "report"    PDFs written, n/N as each one finishes

`current()` is the observer the flows pass down; the CLI installs one with `observing(...)` around an
in-process flow call. A failing observer is logged and ignored: drawing progress never fails a run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

log = logging.getLogger(__name__)


class Progress(Protocol):
    def start(self, stage: str, total: int | None = None) -> None:
        """The stage began (or learnt its total)."""

    def advance(self, stage: str, step: int = 1, item: str | None = None) -> None:
        """`step` more units of the stage are done; `item` names the last one (a file, a report)."""

    def finish(self, stage: str, note: str | None = None) -> None:
        """The stage is complete; `note` is a short result ("1234 rows") for stages without a total."""


class NullProgress:
    """Reports nothing (the default)."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, stage: str, step: int = 1, item: str | None = None) -> None:
        pass

    def finish(self, stage: str, note: str | None = None) -> None:
        pass


class _Guarded:
    """Calls the observer, never lets its errors reach the run."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner

    def _call(self, name: str, *args) -> None:
        try:
            getattr(self.inner, name)(*args)
        except Exception:
            log.debug("progress observer failed in %s", name, exc_info=True)

    def start(self, stage: str, total: int | None = None) -> None:
        self._call("start", stage, total)

    def advance(self, stage: str, step: int = 1, item: str | None = None) -> None:
        self._call("advance", stage, step, item)

    def finish(self, stage: str, note: str | None = None) -> None:
        self._call("finish", stage, note)


NULL: Progress = NullProgress()
_current: Progress = NULL
_lock = threading.Lock()


def current() -> Progress:
    """The observer installed by `observing` (a no-op when none is)."""
    return _current


@contextmanager
def observing(progress: Progress) -> Iterator[Progress]:
    """Report the progress of what runs inside the block (in this process, any thread) to `progress`."""
    global _current
    guarded = _Guarded(progress)
    with _lock:
        previous, _current = _current, guarded
    try:
        yield guarded
    finally:
        with _lock:
            _current = previous


def reporter(progress: Progress | None) -> Progress:
    """`progress` made safe to call, or a no-op for None."""
    if progress is None:
        return NULL
    return progress if isinstance(progress, NullProgress | _Guarded) else _Guarded(progress)
