"""Scale-out: one ingest flow run per file on a work pool, then one aggregation run that writes the store.

    fan_out ──► run_deployment(ingest-file, file A) ─► worker 1: stage + validate A ─► staging/<sha A>/
            ├─► run_deployment(ingest-file, file B) ─► worker 2: stage + validate B ─► staging/<sha B>/
            └─► aggregate: under the store lock, load every staged hand-off ─► estimates ─► reports

Ingest runs never open the DuckDB file (they write Parquet + outcome.json, `assess.handoff`), so any
number can run at once on any machine that sees the same `processed/` folder; only `aggregate` writes.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from assess.clean.run import split_logs
from assess.core.names import safe_name
from assess.core.problems import FileStatus
from assess.core.settings import load_settings
from assess.core.summary import RunSummary, SkippedFile
from assess.core.xlsform import read_form
from assess.inbox.discover import new_files
from assess.ops.lock import store_lock
from assess.store.runs import cleanup_staging
from assess.validate import handoff
from assess.validate.stage import FileOutcome, stage_file
from flows.run import clean, estimate, load, notify_rejected, render_reports, transient_io

INGEST_DEPLOYMENT = "assess-ingest-file/ingest-file"


@task(
    name="stage-and-hand-off",
    cache_policy=NO_CACHE,
    task_run_name="stage {path.name}",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=transient_io,
)
def stage_and_hand_off(path: Path, config_path: str) -> dict:
    settings = load_settings(config_path)
    form = read_form(settings)
    out = stage_file(path, settings, form)
    if out.status == FileStatus.RETRY:  # changed while being read: no hand-off; the next fan-out picks it up
        get_run_logger().warning("%s: %s", safe_name(out.name), out.reason)
        cleanup_staging(settings, out)
    else:
        written = handoff.write_outcome(out, settings)
        get_run_logger().info(
            "%s: %s, %d rows, hand-off %s", safe_name(out.name), out.status, out.rows, written.parent
        )
    return {"file": out.name, "sha256": out.sha256, "status": str(out.status), "rows": out.rows}


@flow(name="assess-ingest-file", log_prints=True)
def ingest_file(config_path: str, file_path: str) -> dict:
    """Stage and validate one dropped file into the shared staging folder (no store access)."""
    return stage_and_hand_off(Path(file_path), config_path)


@task(name="read-hand-offs", cache_policy=NO_CACHE)
def read_hand_offs(config_path: str) -> list[FileOutcome]:
    settings = load_settings(config_path)
    outs = [handoff.read_outcome(p, settings) for p in handoff.staged_outcomes(settings)]
    get_run_logger().info("%d staged file(s) waiting to be loaded", len(outs))
    return outs


@flow(name="assess-aggregate", log_prints=True)
def aggregate(config_path: str, reports: bool = True, lock_wait: float = 600.0) -> RunSummary:
    """Load every staged hand-off into the store (one writer, under the lock), then estimates and reports."""
    started = time.monotonic()
    settings = load_settings(config_path)
    form = read_form(settings)
    run_id = uuid.uuid4().hex[:12]
    with store_lock(settings.lock_path, wait=lock_wait):
        outcomes = read_hand_offs(config_path)
        loaded = load(outcomes, settings, form, run_id)
        cleaned = clean(settings, form, run_id, split_logs(new_files(settings).new)[1])
        run = RunSummary(
            run_id=run_id,
            round=settings.round,
            files=loaded,
            estimates=estimate(settings, form, run_id),
            cleaning=cleaned.lines(),
        )
        run.reports = (
            render_reports(settings, form, run) if reports and run.estimates.households.interviewed else []
        )
    run.duration_s = round(time.monotonic() - started, 1)
    if run.all_rejected:
        notify_rejected(settings, run)
    create_markdown_artifact(
        key="run-summary", markdown=run.markdown("Aggregation run"), description=f"Aggregation run {run_id}"
    )
    return run


@task(name="new-files", cache_policy=NO_CACHE)
def files_to_ingest(config_path: str, reload_into_round: bool = False) -> tuple[list[str], list[SkippedFile]]:
    settings = load_settings(config_path)
    inbox = new_files(
        settings, staged=lambda sha: handoff.is_staged(settings, sha), reload_into_round=reload_into_round
    )
    logger = get_run_logger()
    for skipped in inbox.other_round:
        logger.warning("%s", skipped.message())
    logger.info("%d new file(s) to ingest; %d still being written", len(inbox.new), len(inbox.growing))
    exports, _ = split_logs(inbox.new)  # filled cleaning logs are applied by the aggregation (issue 17)
    return [str(p) for p in exports], inbox.other_round


@flow(name="assess-fan-out", log_prints=True)
def fan_out(
    config_path: str,
    ingest_deployment: str = INGEST_DEPLOYMENT,
    reports: bool = True,
    timeout_s: float = 3600.0,
    reload_into_round: bool = False,
) -> RunSummary:
    """Start one ingest run per new file on the work pool, wait for them, then aggregate once. Files already
    loaded under another round are skipped (`RunSummary.skipped`) unless `reload_into_round`."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    files, skipped = files_to_ingest(config_path, reload_into_round)
    runs = [
        run_deployment(
            ingest_deployment,
            parameters={"config_path": config_path, "file_path": f},
            timeout=0,
            flow_run_name=f"ingest {Path(f).name}",
        )
        for f in files
    ]
    finals = _wait_all([fr.id for fr in runs], get_client, timeout_s)
    failed = [
        f"{fr.name}: {fr.state.name if fr.state else 'unknown'}"
        for fr in finals
        if not fr.state or not fr.state.is_completed()
    ]
    if failed:
        logger.warning(
            "ingest runs that did not complete (their files stay in the inbox): %s", "; ".join(failed)
        )
    result = aggregate(config_path, reports=reports)
    result.ingest_runs = [str(fr.id) for fr in runs]
    result.failed_ingest_runs = failed
    result.skipped = skipped
    return result


def _wait_all(ids: list, get_client, timeout_s: float, poll: float = 1.0) -> list:
    """Poll until every flow run is in a final state (or the timeout passes); return the last reads."""
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(poll)
