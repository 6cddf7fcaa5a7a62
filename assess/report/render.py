"""HTML -> PDF with WeasyPrint, one file per job, in a small process pool. A PDF is written under a temporary
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .fetch import make_fetcher
from .templates import templates_dir

# Kept light on purpose: the spawned workers import this module, so it needs only WeasyPrint, the fetcher and
# the templates folder (no store, no pandas).
# Speed: about 0.5 s of CPU per page; install `libharfbuzz-subset0` (WeasyPrint's fast font subsetter),
# see benchmarks/bench_reports.py.


@dataclass
class RenderJob:
    html: str
    out: Path
    roots: list[str]
    files: list[str] = field(default_factory=list)


def render_job(job: RenderJob) -> int:
    """HTML -> PDF (tagged, fonts embedded), written atomically; returns the page count."""
    from weasyprint import HTML

    fetcher = make_fetcher(job.roots, job.files)
    document = HTML(string=job.html, base_url=templates_dir().as_uri() + "/", url_fetcher=fetcher).render()
    job.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.out.with_name(f".{job.out.name}.{os.getpid()}.tmp")
    try:
        document.write_pdf(tmp, pdf_tags=True)
        os.replace(tmp, job.out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(document.pages)


def render_all(
    jobs: list[RenderJob], workers: int | None = None, on_done: Callable[[RenderJob], None] | None = None
) -> list[int]:
    """Render jobs in a process pool (spawned: safe inside a threaded flow run); inline when few.

    Returns the page counts in job order. `on_done(job)` is called in this process as each PDF is written
    (in the order they finish), so a caller can show n/N while the pool works.
    """
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) <= 2:
        pages = []
        for job in jobs:
            pages.append(render_job(job))
            if on_done:
                on_done(job)
        return pages
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(render_job, job): i for i, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:  # stop the queued jobs; the running ones finish
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise future.exception()  # type: ignore[misc]
                if on_done:
                    on_done(jobs[futures[future]])
        return [f.result() for f in futures]
