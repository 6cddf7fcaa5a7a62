"""Render the reports only when an input of theirs changed (assess/store/inputs.py); else keep the files.

Inputs of the reports: the estimates they show (the run that made them), the files kept aside, the form,
the `[report]` and `[survey]` options, the templates, the logo and the package version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.progress import Progress, reporter
from ..core.settings import Settings
from ..core.summary import RunSummary
from ..core.xlsform import XLSForm
from ..store import inputs
from ..store.connection import connect
from .build import build_reports


@dataclass
class Rendered:
    paths: list[Path]
    redone: bool
    changed: list[str] = field(default_factory=list)
    since: str | None = None  # the run whose report files were kept


def refresh_reports(
    settings: Settings,
    form: XLSForm,
    run: RunSummary,
    *,
    progress: Progress | None = None,
    before_render=None,
    html_only: bool = False,
) -> Rendered:
    """Write the round's reports unless they are up to date, and record what they were rendered from.
    The caller holds the store lock. `before_render()` is called just before rendering (a crash point);
    `html_only` writes HTML instead of PDFs (tests; see `build_reports`)."""
    con = connect(settings.store_path, read_only=True)
    try:
        plan = inputs.plan(con, settings, inputs.REPORT)
        last = plan.last
        kept = [Path(p) for p in (last.result.get("paths", []) if last else [])]
        if plan.up_to_date and last is not None and all(p.is_file() for p in kept):
            steps = reporter(progress)
            steps.start("report", len(kept))
            steps.finish("report", f"up to date (run {last.run_id})")
            return Rendered(kept, redone=False, since=last.run_id)
        if before_render is not None:
            before_render()
        paths = build_reports(con, settings, form, run, progress=progress, html_only=html_only)
    finally:
        con.close()
    con = connect(settings.store_path)
    try:
        inputs.record_stage(
            con, run.run_id, settings, inputs.REPORT, plan.prints, {"paths": [str(p) for p in paths]}
        )
    finally:
        con.close()
    return Rendered(paths, redone=True, changed=plan.changed if last else ["never run"])
