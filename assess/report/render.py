"""HTML -> PDF with WeasyPrint, one file per job, in a small process pool. A PDF is written under a temporary
name and renamed, so a reader never sees half a file.

Speed (benchmarks/bench_reports.py, profiled with pyinstrument): WeasyPrint's layout, drawing and PDF writing
are most of a report's ~1 s of CPU. Around them, this module (1) starts the pool before the pages are
composed and takes each page as soon as it is (`RenderPool.submit`), so composing, spawning the workers and
importing WeasyPrint overlap the rendering; (2) parses `report.css` and sets up fonts once per worker process,
not once per PDF. Install `libharfbuzz-subset0` (WeasyPrint's fast font subsetter; scripts/system-deps.sh).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .fetch import make_fetcher
from .templates import templates_dir

# Kept light on purpose: the spawned workers import this module, so it needs only WeasyPrint, the fetcher and
# the templates folder (no store, no pandas).

STYLESHEET_LINK = '<link rel="stylesheet" href="report.css">'  # as templates/_base.html.j2 writes it


@dataclass
class RenderJob:
    html: str
    out: Path
    roots: list[str]
    files: list[str] = field(default_factory=list)


def _shared() -> tuple[Any, Any]:
    """report.css parsed, and the font configuration: once per process (every PDF uses the same), again
    when the file changes (a long-running `assess watch`)."""
    css_path = templates_dir() / "report.css"
    return _parsed(css_path, css_path.stat().st_mtime_ns)


@cache
def _parsed(css_path: Path, mtime_ns: int) -> tuple[Any, Any]:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(string=css_path.read_text(encoding="utf-8"), base_url=css_path.as_uri(), font_config=fonts)
    return css, fonts


def render_job(job: RenderJob) -> int:
    """HTML -> PDF (tagged, fonts embedded), written atomically; returns the page count."""
    from weasyprint import HTML

    css, fonts = _shared()
    html, stylesheets = job.html, []
    if (
        STYLESHEET_LINK in html
    ):  # the report's own stylesheet, already parsed: the same rules, in the same place
        html, stylesheets = html.replace(STYLESHEET_LINK, "", 1), [css]
    fetcher = make_fetcher(job.roots, job.files)
    document = HTML(string=html, base_url=templates_dir().as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=stylesheets, font_config=fonts
    )
    job.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.out.with_name(f".{job.out.name}.{os.getpid()}.tmp")
    try:
        document.write_pdf(tmp, pdf_tags=True)
        os.replace(tmp, job.out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(document.pages)


def _warm() -> None:
    """Run in each worker as it starts: import WeasyPrint and parse the CSS while the pages are composed."""
    _shared()


class RenderPool:
    """Renders jobs as they are submitted: in a spawned process pool (safe inside a threaded flow run) when
    `expected` jobs are more than two and `workers` > 1, else inline. `on_done(job)` is called in this
    process once per PDF written; `finish()` waits for all and returns the page counts in job order."""

    def __init__(
        self, expected: int, workers: int | None = None, on_done: Callable[[RenderJob], None] | None = None
    ) -> None:
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.on_done = on_done
        self.jobs: list[RenderJob] = []
        self.futures: list[Future[int]] = []
        self.reported: set[int] = set()
        self.inline: list[int] = []
        self.pool = (
            ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_warm)
            if workers > 1 and expected > 2
            else None
        )

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: RenderJob) -> None:
        self.jobs.append(job)
        if self.pool is None:
            self.inline.append(render_job(job))
            self._report(len(self.jobs) - 1)
            return
        self.futures.append(self.pool.submit(render_job, job))
        for i, future in enumerate(self.futures):  # report what finished meanwhile, without waiting
            if future.done():
                self._check(i, future)

    def _report(self, i: int) -> None:
        if i not in self.reported:
            self.reported.add(i)
            if self.on_done:
                self.on_done(self.jobs[i])

    def _check(self, i: int, future: Future[int]) -> None:
        exc = future.exception()
        if exc is not None:  # stop the queued jobs; the running ones finish
            assert self.pool is not None
            self.pool.shutdown(wait=True, cancel_futures=True)
            raise exc
        self._report(i)

    def finish(self) -> list[int]:
        if self.pool is None:
            return self.inline
        index = {f: i for i, f in enumerate(self.futures)}
        pending = {f for f in self.futures if not f.done()}
        for f in self.futures:
            if f.done():
                self._check(index[f], f)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                self._check(index[f], f)
        return [f.result() for f in self.futures]


def render_all(
    jobs: list[RenderJob], workers: int | None = None, on_done: Callable[[RenderJob], None] | None = None
) -> list[int]:
    """Render jobs in a process pool; inline when few. Returns the page counts in job order. `on_done(job)`
    is called in this process as each PDF is written (in the order they finish)."""
    with RenderPool(len(jobs), workers, on_done) as pool:
        for job in jobs:
            pool.submit(job)
        return pool.finish()
