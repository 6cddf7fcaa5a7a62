"""Test-only crash points: make the process kill itself at a named point, to test crash safety.

`crash_point("mid-load-before-commit")` does nothing unless the environment variable `ASSESS_CRASH_AT`
names that point; then it sends SIGKILL to its own process, exactly like `kill -9` from outside (no
`finally`, no `atexit`, no flush). `ASSESS_CRASH_AT=name:N` crashes at the N-th time the point is reached.
"""

from __future__ import annotations

import os
import signal

_ENV = "ASSESS_CRASH_AT"
_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ASSESS_CRASH_AT names this point (test-only; free otherwise)."""
    wanted = os.environ.get(_ENV)
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
