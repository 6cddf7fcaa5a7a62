"""What a data officer sees in the terminal while a run works: one progress row per stage instead of logs.

* `StageDisplay` draws the library's `assess.core.progress.Progress` with rich.progress: files staged n/N, rows
  loaded, estimates, reports n/N (in a pipe, rich prints the rows once, when the run ends).
* `quiet_logs` keeps Prefect's and the libraries' INFO lines off the terminal (they still go to the Prefect
  API, so the UI has every line) and prints warnings and errors as one plain line each, above the progress.
  `assess run -v` skips both and shows the logs as they come.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column
from rich.text import Text

from assess.core.progress import observing

LABELS = {
    "start": "Starting the run",
    "stage": "Files staged",
    "load": "Rows loaded",
    "estimate": "Estimates",
    "report": "Reports",
}
ORDER = tuple(LABELS)


class _Count(ProgressColumn):
    """n/N for stages with a total, or the stage's note once it has one (never wrapped)."""

    def get_table_column(self) -> Column:
        return Column(no_wrap=True, overflow="ellipsis")

    def render(self, task: Task) -> Text:
        if task.fields.get("note"):
            return Text(task.fields["note"])
        if task.total is None or not task.fields.get("counted"):
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}")


class StageDisplay:
    """`assess.core.progress.Progress` drawn as one rich progress row per stage (a context manager).

    Rows appear as stages start; a stage that starts completes the ones before it (a flow runs them in
    order). When the run fails, the rows stay as they were.
    """

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<16}", style="bold"),
            BarColumn(bar_width=20),
            TimeElapsedColumn(),
            _Count(),
            console=console,
        )
        self._rows: dict[str, TaskID] = {}

    def __enter__(self) -> StageDisplay:
        self.progress.start()
        self.start("start")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            for stage in list(self._rows):
                self._close(stage)
        self.progress.stop()

    def _task(self, stage: str) -> Task:
        return next(t for t in self.progress.tasks if t.id == self._rows[stage])

    def _row(self, stage: str) -> TaskID:
        if stage not in self._rows:
            self._rows[stage] = self.progress.add_task(
                LABELS.get(stage, stage), total=None, note="", counted=False
            )
        return self._rows[stage]

    def _close(self, stage: str) -> None:
        task = self._task(stage)
        if not task.finished:
            total = task.total if task.total is not None else (task.completed or 1)
            self.progress.update(task.id, total=total, completed=total)

    def start(self, stage: str, total: int | None = None) -> None:
        if stage in ORDER:
            for earlier in ORDER[: ORDER.index(stage)]:
                if earlier in self._rows:
                    self._close(earlier)
        if stage in self._rows and total is None:  # started again (a retried task)
            self.progress.reset(self._rows[stage], note="")
            return
        task_id = self._row(stage)
        if total is not None:
            self.progress.update(task_id, total=total, counted=True)

    def advance(self, stage: str, step: int = 1, item: str | None = None) -> None:
        self.progress.advance(self._row(stage), step)

    def finish(self, stage: str, note: str | None = None) -> None:
        self._row(stage)
        self._close(stage)
        if note:
            self.progress.update(self._rows[stage], note=note)


class TerminalLines(logging.Handler):
    """Log records as one plain, unwrapped line each on `console` (above a live progress display).

    Default: warnings and errors, as "warning: ...". With `stamp`, every record at `level` or above, with its time
    (the watcher's own narrative).
    """

    def __init__(self, console: Console, level: int = logging.WARNING, stamp: bool = False) -> None:
        super().__init__(level)
        self.console, self.stamp = console, stamp
        self.setFormatter(logging.Formatter("%(message)s"))  # set: Prefect then leaves the root logger to us

    def emit(self, record: logging.LogRecord) -> None:
        # a failed flow or task run is reported by the CLI itself, once, without the engine's traceback
        if record.levelno >= logging.ERROR and record.name.startswith(
            ("prefect.flow_runs", "prefect.task_runs")
        ):
            return
        try:
            lines = record.getMessage().splitlines()
            text = escape(lines[0] if lines else "")
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                text += escape(f": {type(exc).__name__}: {exc}".splitlines()[0])
            if record.levelno >= logging.WARNING:
                colour = "red" if record.levelno >= logging.ERROR else "yellow"
                text = f"[{colour}]{record.levelname.lower()}:[/] {text}"
            if self.stamp:
                text = time.strftime("%H:%M:%S ", time.localtime(record.created)) + text
            self.console.print(text, highlight=False, soft_wrap=True)
        except Exception:
            self.handleError(record)


def _prefect_console_handlers() -> list[logging.Handler]:
    """Prefect's console handlers on any logger (none until Prefect has configured logging)."""
    loggers = [
        logging.getLogger(),
        *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    return [h for lg in loggers for h in lg.handlers if type(h).__name__ == "PrefectConsoleHandler"]


@contextmanager
def quiet_logs(console: Console) -> Iterator[None]:
    """Only warnings and errors reach the terminal, as plain lines; everything else goes on as before.

    Loggers keep their levels, so Prefect's API handler still gets every INFO line of the flow and task runs
    (the UI shows the full log). Prefect's own console handlers are muted for the duration: the ones already
    configured now, and the root's for good when Prefect configures logging later (it leaves the root logger
    alone when another formatted handler is already there).
    """
    root = logging.getLogger()
    ours = TerminalLines(console)
    root.addHandler(ours)
    muted = [(h, h.level) for h in _prefect_console_handlers()]
    for handler, _ in muted:
        handler.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        root.removeHandler(ours)
        for handler, level in muted:
            handler.setLevel(level)


@contextmanager
def stage_display(console: Console) -> Iterator[StageDisplay]:
    """Progress rows for the flow calls made inside the block (in this process)."""
    with StageDisplay(console) as display, observing(display):
        yield display


@contextmanager
def run_display(console: Console, verbose: bool) -> Iterator[None]:
    """Around an in-process flow call: progress rows and quiet logs, or (verbose) the logs as they come."""
    if verbose:
        with console.status("Starting Prefect and running the assessment flow..."):
            yield
        return
    with quiet_logs(console), stage_display(console):
        yield


def watcher_lines(console: Console, logger: str = "assess.watch") -> None:
    """The watcher's own INFO lines (files ready, run done) on `console`, with their time, whatever is quiet."""
    log = logging.getLogger(logger)
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(TerminalLines(console, logging.INFO, stamp=True))
