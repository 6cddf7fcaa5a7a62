"""The assessment run: discover new files -> stage (read + validate) -> load -> estimate -> report.

A table of contents over `assess`; each task is one call into the library. Tasks hand each other paths
and small summaries; the DuckDB store is the hand-off.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from assess.clean.run import CleaningSummary, clean_round, split_logs
from assess.core.names import safe_name
from assess.core.privacy import hash_key
from assess.core.problems import FileStatus
from assess.core.progress import current as observer
from assess.core.settings import Settings, load_settings
from assess.core.summary import EstimateSummary, FileSummary, RunSummary, SkippedFile
from assess.core.xlsform import XLSForm, read_form
from assess.estimate.refresh import refresh_estimates
from assess.estimate.run import check_config_against_form
from assess.inbox.discover import new_files
from assess.ops import notify
from assess.ops.faults import crash_point
from assess.ops.lock import store_lock
from assess.partners.run import check_sector_mapping, run_partners
from assess.report.receipts import validation_summary_markdown, write_receipts
from assess.report.refresh import refresh_reports
from assess.store.connection import connect
from assess.store.runs import load_batch
from assess.validate.stage import FileOutcome, stage_files


def transient_io(task, task_run, state) -> bool:
    """Retry only IO errors that may pass (a share hiccup), not a missing file or a denied permission."""
    exc = getattr(state, "data", None)
    return isinstance(exc, OSError) and not isinstance(
        exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError
    )


@task(name="discover", cache_policy=NO_CACHE)
def discover(
    settings: Settings, only: list[str] | None = None, reload_into_round: bool = False
) -> tuple[list[Path], list[Path], list[SkippedFile]]:
    """(new exports, new filled cleaning logs, files skipped as loaded in another round)."""
    inbox = new_files(settings, only, reload_into_round=reload_into_round)
    logger = get_run_logger()
    for p in inbox.growing:
        logger.warning("%s is still being written; the next run picks it up", safe_name(p.name))
    for skipped in inbox.other_round:
        logger.warning("%s", skipped.message())
    logger.info(
        "%d file(s) in the inbox, %d new",
        len(inbox.new) + inbox.seen + len(inbox.other_round),
        len(inbox.new),
    )
    exports, logs = split_logs(inbox.new)  # reads each new file's header once; logs are not staged
    observer().start("stage", len(exports))
    return exports, logs, inbox.other_round


@task(
    name="stage",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=transient_io,
)
def stage(paths: list[Path], settings: Settings, form: XLSForm) -> list[FileOutcome]:
    """Read every new file, then validate the files of one shape together (one GX run over their rows)."""
    logger = get_run_logger()

    def staged(out: FileOutcome) -> None:
        if out.status in (FileStatus.REJECTED, FileStatus.RETRY):
            # INFO, not WARNING: the run summary prints the reason once under its table (quiet mode shows warnings)
            logger.info("%s %s: %s", safe_name(out.name), out.status, out.reason)
        else:
            problems = len(out.result.problems) if out.result else 0
            logger.info("%s: %d rows read, %d problem(s)", safe_name(out.name), out.rows, problems)
        observer().advance("stage", item=safe_name(out.name))

    return stage_files(paths, settings, form, on_staged=staged)


@task(name="load", cache_policy=NO_CACHE)
def load(outcomes: list[FileOutcome], settings: Settings, form: XLSForm, run_id: str) -> list[FileSummary]:
    key = hash_key()
    con = connect(settings.store_path)
    try:
        load_batch(
            con,
            outcomes,
            settings,
            form,
            run_id,
            key,
            logger=get_run_logger(),
            progress=observer(),
            write_receipts=lambda out: write_receipts(out, settings, form),
        )
    finally:
        con.close()
    if outcomes:
        create_markdown_artifact(
            key="validation-summary",
            markdown=validation_summary_markdown(outcomes),
            description=f"Validation of the files in run {run_id}",
        )
    return [o.summary() for o in outcomes]


@task(name="clean", cache_policy=NO_CACHE)
def clean(settings: Settings, form: XLSForm, run_id: str, logs: list[Path]) -> CleaningSummary:
    """Apply dropped cleaning logs, check the round's households, write this run's cleaning log (issue 17)."""
    con = connect(settings.store_path)
    try:
        result = clean_round(con, settings, form, run_id, logs, hash_key())
    finally:
        con.close()
    logger = get_run_logger()
    for r in result.receipts:
        logger.info(
            "cleaning log %s: %d applied, %d not applied", safe_name(r.name), r.applied, len(r.invalid)
        )
    if result.logs_written:
        logger.info("cleaning log of new findings: %s", result.logs_written[0])
    return result


@task(name="estimate", cache_policy=NO_CACHE)
def estimate(settings: Settings, form: XLSForm, run_id: str) -> EstimateSummary:
    """Estimate when an input changed since the round's last estimates (assess/store/inputs.py)."""
    observer().start("estimate")
    con = connect(settings.store_path)
    try:
        done = refresh_estimates(con, settings, form, run_id)
        # 3W list, coverage, people in need: part of the estimate stage (its inputs are registered there)
        partners = run_partners(con, settings, form) if done.redone else None
    finally:
        con.close()
    result = done.summary
    if done.redone:
        get_run_logger().info(
            "estimates made again: %s changed; sums of %d of %d household buckets recomputed",
            ", ".join(done.changed),
            result.buckets_recomputed,
            result.buckets,
        )
    else:
        get_run_logger().info("estimates up to date (run %s): no input of theirs changed", done.since)
    observer().finish(
        "estimate",
        f"{result.estimates:,} estimates, {result.households.in_estimates:,} households"
        + ("" if done.redone else f" (up to date, run {done.since})"),
    )
    if partners is not None and partners.file:
        get_run_logger().info(
            "3W list %s: %s, %d of %d rows loaded, %d kept aside%s; %d area x sector cells, %d gaps",
            partners.file,
            partners.status,
            partners.accepted,
            partners.rows,
            partners.quarantined,
            f" ({partners.reason})" if partners.reason else "",
            partners.coverage,
            partners.gaps,
        )
    return result


@task(
    name="report",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=transient_io,
)
def render_reports(settings: Settings, form: XLSForm, run: RunSummary) -> list[str]:
    """Render when an input of the reports changed since they were last written (assess/store/inputs.py)."""
    done = refresh_reports(
        settings, form, run, progress=observer(), before_render=lambda: crash_point("mid-report")
    )
    if done.redone:
        get_run_logger().info("reports rendered: %s changed", ", ".join(done.changed))
    else:
        get_run_logger().info("reports up to date (run %s): no input of theirs changed", done.since)
    return [str(p) for p in done.paths]


NOTIFIED: list[str] = []  # flow run ids the hook reported (the CLI reports failures outside any flow)


def notify_outside_flow(settings: Settings, exc: BaseException) -> None:
    """Report a run that failed before its flow started (e.g. Prefect could not start)."""
    failure = notify.Failure(
        assessment=str(settings.config_path),
        round=settings.round,
        flow="assessment-run",
        run_name="-",
        run_id="-",
        state="Failed",
        message=f"{type(exc).__name__}: {exc}"[:2000],
    )
    notify.send(failure, webhook=settings.webhook, command=settings.notify_command)


def notify_rejected(settings: Settings, run: RunSummary) -> None:
    """Inside a flow run: every new file was rejected. The run completed, but nothing was loaded: send the
    `[notify]` failure notification (state "Rejected"), as a scheduler sees exit code 4."""
    if not (settings.webhook or settings.notify_command):
        return
    from prefect.runtime import flow_run

    failure = notify.Failure(
        assessment=str(settings.config_path),
        round=settings.round,
        flow=flow_run.flow_name or "assessment-run",
        run_name=flow_run.name or "-",
        run_id=str(flow_run.id or "-"),
        state="Rejected",
        message=run.rejected_message()[:2000],
        ui_url=flow_run.ui_url,
    )
    sent = notify.send(failure, webhook=settings.webhook, command=settings.notify_command)
    get_run_logger().info(
        "notification that every file was rejected sent via %s",
        ", ".join(sent) or "nothing (see errors above)",
    )


def notify_failure(flow, flow_run, state) -> None:
    """Flow hook: send the `[notify]` webhook/command when a run fails or crashes (never raises)."""
    logger = logging.getLogger("assess.notify")
    try:
        settings = load_settings(flow_run.parameters["config_path"])
        if not (settings.webhook or settings.notify_command):
            return
        from prefect.settings import PREFECT_UI_URL

        ui = PREFECT_UI_URL.value()
        failure = notify.Failure(
            assessment=str(settings.config_path),
            round=settings.round,
            flow=flow.name,
            run_name=flow_run.name,
            run_id=str(flow_run.id),
            state=state.name or state.type.value,
            message=(state.message or "")[:2000],
            ui_url=f"{ui}/runs/flow-run/{flow_run.id}" if ui else None,
        )
        NOTIFIED.append(str(flow_run.id))
        sent = notify.send(failure, webhook=settings.webhook, command=settings.notify_command)
        logger.info("failure notification sent via %s", ", ".join(sent) or "nothing (see errors above)")
    except Exception:  # the hook must never mask the run's own failure
        logger.exception("could not send the failure notification")


@flow(name="assessment-run", log_prints=True, on_failure=[notify_failure], on_crashed=[notify_failure])
def run_assessment(
    config_path: str,
    reports: bool = True,
    files: list[str] | None = None,
    lock_wait: float = 600.0,
    reload_into_round: bool = False,
) -> RunSummary:
    """Process every new export in the inbox (or just `files`) and refresh estimates and reports.

    Files whose content is already loaded under another round are skipped (listed in `RunSummary.skipped`)
    unless `reload_into_round`. With no households in the round yet there are no estimates and no reports.
    """
    started = time.monotonic()
    settings = load_settings(config_path)
    form = read_form(settings)
    check_config_against_form(settings, form)
    check_sector_mapping(settings, form)
    run_id = uuid.uuid4().hex[:12]
    # One run at a time per store, from discovery to reports: a second run waits, then finds the files the
    # first loaded already done (two runs staging the same file would share, and delete, one staging dir).
    # Parallel staging of different files is the work-pool route (flows/ingest_flow.py).
    with store_lock(settings.lock_path, wait=lock_wait):
        paths, logs, skipped = discover(settings, files, reload_into_round)
        outcomes = stage(paths, settings, form)
        loaded = load(outcomes, settings, form, run_id)
        cleaned = clean(settings, form, run_id, logs)
        run = RunSummary(
            run_id=run_id,
            round=settings.round,
            files=loaded,
            estimates=estimate(settings, form, run_id),
            skipped=skipped,
            cleaning=cleaned.lines(),
        )
        run.reports = (
            render_reports(settings, form, run) if reports and run.estimates.households.interviewed else []
        )
    run.duration_s = round(time.monotonic() - started, 1)
    if run.all_rejected:
        notify_rejected(settings, run)
    create_markdown_artifact(
        key="run-summary", markdown=run.markdown(), description=f"Assessment run {run_id}"
    )
    create_table_artifact(
        key="run-totals", description=f"Totals of assessment run {run_id}", table=[run.totals()]
    )
    return run
