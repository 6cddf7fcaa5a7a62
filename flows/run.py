"""The assessment run: discover new files -> stage (read + validate) -> load -> estimate -> report.

A table of contents over `assess`; each task is one call into the library. Tasks hand each other paths
and small summaries; the DuckDB store is the hand-off.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from assess import analysis, ingest, receipts_io, report, store
from assess.lock import store_lock
from assess.privacy import hash_key
from assess.settings import Settings, load_settings
from assess.xlsform import XLSForm, read_xlsform


@task(name="discover", cache_policy=NO_CACHE)
def discover(settings: Settings) -> list[Path]:
    seen = ingest.seen_files(settings)
    files = ingest.discover(settings)
    new = [p for p in files if store.sha256_file(p) not in seen]
    get_run_logger().info("%d file(s) in the inbox, %d new", len(files), len(new))
    return new


@task(name="stage", cache_policy=NO_CACHE, task_run_name="stage {path.name}",
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=lambda t, r, s: isinstance(
          getattr(s, "data", None), OSError))
def stage(path: Path, settings: Settings, form: XLSForm) -> ingest.FileOutcome:
    out = ingest.stage_file(path, settings, form)
    logger = get_run_logger()
    if out.status == "rejected":
        logger.warning("%s rejected: %s", ingest.safe_name(out.name), out.reason)
    else:
        problems = len(out.result.problems) if out.result else 0
        logger.info("%s: %d rows read, %d problem(s)", ingest.safe_name(out.name), out.rows, problems)
    return out


@task(name="load", cache_policy=NO_CACHE)
def load(outcomes: list[ingest.FileOutcome], settings: Settings, form: XLSForm, run_id: str) -> list[dict]:
    key = hash_key(settings)
    con = store.connect(settings.store_path)
    try:
        for out in outcomes:
            ingest.load_outcome(con, out, settings, form, run_id, key)
            get_run_logger().info("%s: %s (%d accepted, %d quarantined)", ingest.safe_name(out.name), out.status,
                                  out.accepted, out.quarantined)
    finally:
        con.close()
    for out in outcomes:
        receipts_io.write_receipts(out, settings, form, run_id)
        ingest.cleanup_staging(settings, out)
    return [o.summary() for o in outcomes]


@task(name="estimate", cache_policy=NO_CACHE)
def estimate(settings: Settings, form: XLSForm) -> dict:
    con = store.connect(settings.store_path)
    try:
        return analysis.run_estimates(con, settings, form)
    finally:
        con.close()


@task(name="report", cache_policy=NO_CACHE)
def render_reports(settings: Settings, form: XLSForm, run: dict) -> list[str]:
    con = store.connect(settings.store_path, read_only=True)
    try:
        return [str(p) for p in report.build_reports(con, settings, form, run)]
    finally:
        con.close()


@flow(name="assessment-run", log_prints=True)
def run_assessment(config_path: str, reports: bool = True) -> dict:
    """Process every new export in the inbox and refresh estimates and reports."""
    started = time.monotonic()
    settings = load_settings(config_path)
    form = read_xlsform(settings.xlsform)
    analysis.check_config_against_form(settings, form)
    run_id = uuid.uuid4().hex[:12]
    files = discover(settings)
    outcomes = [stage(p, settings, form) for p in files]
    with store_lock(settings.lock_path):
        summaries = load(outcomes, settings, form, run_id)
        est = estimate(settings, form)
    run = {"run_id": run_id, "round": settings.round, "files": summaries, "estimates": est}
    written = render_reports(settings, form, run) if reports else []
    run["reports"] = written
    run["duration_s"] = round(time.monotonic() - started, 1)
    create_markdown_artifact(key="run-summary", markdown=receipts_io.run_summary_markdown(run),
                             description=f"Assessment run {run_id}")
    return run
