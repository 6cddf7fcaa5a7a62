"""The store lock: one writer at a time, a clear message for the one that gives up, released on exit."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from assess.ops.lock import StoreBusy, store_lock


def _hold(path, ready, release):
    with store_lock(path):
        ready.set()
        release.wait(30)


def test_second_writer_waits_then_gives_up_with_a_clear_message(tmp_path):
    lock = tmp_path / "processed" / ".assessment.lock"
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(lock, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(StoreBusy) as err:
            with store_lock(lock, wait=0.6, poll=0.1):
                pass
        assert time.monotonic() - started >= 0.5  # it waited before giving up
        msg = str(err.value)
        assert "assessment.duckdb" in msg and "another run" in msg and f"pid {holder.pid}" in msg
    finally:
        release.set()
        holder.join(30)
    with store_lock(lock, wait=1):  # released when the holder ended
        pass


def test_waiting_writer_gets_the_lock_when_the_first_finishes(tmp_path):
    lock = tmp_path / ".lock"
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(lock, ready, release))
    holder.start()
    assert ready.wait(30)
    release_at = time.monotonic() + 0.5
    import threading

    threading.Timer(0.5, release.set).start()
    with store_lock(lock, wait=20, poll=0.05):
        assert time.monotonic() >= release_at - 0.05
    holder.join(30)


def test_lock_released_after_an_exception(tmp_path):
    lock = tmp_path / ".lock"
    with pytest.raises(RuntimeError):
        with store_lock(lock):
            raise RuntimeError("boom")
    with store_lock(lock, wait=0):
        pass
