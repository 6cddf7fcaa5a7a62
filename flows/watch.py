"""`assess watch`: watch the inbox and start a run when dropped files are complete.

watchdog reports file events; `assess.inbox.settle.Settler` decides when files are complete and batches them
(closed by their writer and open for writing by nobody, or unchanged for `stable_seconds` where close events
are not seen: see that module).
Each batch of files the store has not seen becomes one run:

* standalone (default): the run flow is called in this process (Prefect's embedded server starts once,
  on the first run, and is reused);
* `--emit-event`: an `assess.inbox.settled` event goes to the Prefect server (PREFECT_API_URL), and the
  deployment served by `assess serve` starts the run through its trigger.

Between runs this process holds no DuckDB connection, so `assess export`, `check` and `run` keep working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from assess.core.names import safe_name
from assess.core.settings import Settings
from assess.core.summary import RunSummary
from assess.inbox import writers
from assess.inbox.discover import new_files, wanted
from assess.inbox.settle import Settler

log = logging.getLogger("assess.watch")
Batch = Callable[[list[Path]], None]


class _Handler(FileSystemEventHandler):
    def __init__(self, inbox: Path, settler: Settler) -> None:
        self.inbox, self.settler = inbox, settler

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = Path(str(getattr(event, "dest_path", "") or event.src_path))
        if not wanted(path, self.inbox):
            return
        if event.event_type == "closed":  # inotify close-write: the writer is done with it (Linux only)
            self.settler.closed(path)
        else:
            self.settler.touch(path)


def unseen(settings: Settings, paths: list[Path] | None) -> list[Path]:
    """Drop files whose exact content is already in the store (a re-saved or re-touched file, or a file
    loaded under another round: said in the log, as `assess run` says it)."""
    inbox = new_files(settings, only=paths, settle=False)
    for skipped in inbox.other_round:
        log.warning("%s", skipped.message())
    return inbox.new


def local_runner(
    settings: Settings,
    reports: bool = True,
    *,
    display: Callable[[], AbstractContextManager[object]] | None = None,
    on_result: Callable[[RunSummary], None] | None = None,
) -> Batch:
    """Run the flow in this process for each batch; a failed run is logged (and notified by the flow hook).

    `display` wraps each run (the CLI's progress rows); `on_result` gets each completed run's summary.
    """

    def run(files: list[Path]) -> None:
        from assess.ops.lock import StoreBusy
        from flows.run import run_assessment

        try:
            with display() if display else nullcontext():
                result = run_assessment(
                    str(settings.config_path), reports=reports, files=[str(f) for f in files]
                )
            if on_result:
                on_result(result)
            log.info("run %s: %d file(s) processed", result.run_id, len(result.files))
        except StoreBusy as exc:
            log.error("%s", exc)
        except Exception:
            log.exception("the run for %d file(s) failed", len(files))

    return run


def event_emitter(settings: Settings) -> Batch:
    """Emit one `assess.inbox.settled` event per batch for the served deployment's trigger."""
    from prefect.events import emit_event

    from flows.deploy import SETTLED_EVENT, resource_id

    def emit(files: list[Path]) -> None:
        event = emit_event(
            event=SETTLED_EVENT,
            resource={
                "prefect.resource.id": resource_id(settings),
                "prefect.resource.name": str(settings.inbox),
            },
            payload={"files": [str(f) for f in files], "config_path": str(settings.config_path)},
        )
        log.info("event %s sent for %d file(s)", event.id if event else "(not sent)", len(files))

    return emit


def watch(
    settings: Settings,
    on_batch: Batch,
    *,
    stable_seconds: float = 5.0,
    debounce_seconds: float = 2.0,
    poll_seconds: float = 0.5,
    stop: threading.Event | None = None,
    scan_existing: bool = True,
) -> None:
    """Watch `settings.inbox` until `stop` is set (or Ctrl-C); call `on_batch` with each batch of new files."""
    stop = stop or threading.Event()
    inbox = settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    settler = Settler(
        stable_seconds=stable_seconds,
        debounce_seconds=debounce_seconds,
        writers=writers.open_for_writing if writers.available() else None,
    )
    observer = Observer()
    observer.schedule(_Handler(inbox, settler), str(inbox), recursive=True)
    observer.start()
    try:
        if scan_existing:  # files dropped while nobody watched
            for p in unseen(settings, None):
                settler.touch(p)
        while not stop.wait(poll_seconds):
            batch = settler.poll()
            if batch:
                batch = unseen(settings, batch)
            if batch:
                log.info("%d file(s) ready: %s", len(batch), ", ".join(safe_name(p.name) for p in batch))
                on_batch(batch)
    finally:
        observer.stop()
        observer.join(10)
