"""`assess`: the command line a data officer uses. Thin: it parses options and starts flows or library calls.

Exit codes: 0 done (also: no data yet); 1 `check` found problems / a run could not complete; 2 usage or
configuration error; 3 the store is busy with another run; 4 a run had new files and every one was rejected.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="Community needs assessment pipeline: Kobo/ODK exports -> DuckDB -> estimates -> PDFs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(
    help="Write tables from the store as CSV (safe to open in Excel).", no_args_is_help=True
)
app.add_typer(export_app, name="export")
console = Console(stderr=True)
out_console = Console()


def _untyped_flags() -> None:
    """Help without `<bool>` beside flags: typer 0.29's rich help gives every flag (even --help) the type
    `<bool>`, as if it took a value. Flags take none; show no type for them (other options keep theirs).
    """
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "untyped_flags", False):
        return

    def display_type_rich(self, ctx):
        return (
            None
            if getattr(self, "is_flag", False) and not getattr(self, "count", False)
            else shown(self, ctx)
        )

    display_type_rich.untyped_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_untyped_flags()


def _print_version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("assess")
    except PackageNotFoundError:  # running from a checkout that was never installed
        number = "unknown (not installed)"
    out_console.print(f"assess {number}", highlight=False)
    raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Community needs assessment pipeline: Kobo/ODK exports -> DuckDB -> estimates -> PDFs."""


ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The assessment's config file.")]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Show Prefect's and the pipeline's log lines instead of one progress row per stage.",
    ),
]
DEFAULT_CONFIG = Path("assessment.toml")


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _settings(config: Path, against_form: bool = True):
    """The settings and form; `against_form`: also check the config against the form and frame (imports
    the estimator: `assess run` does it after its nothing-new check, which needs none of it)."""
    from assess.core.settings import ConfigError, load_settings
    from assess.core.xlsform import FormError, read_form

    try:
        settings = load_settings(config)
        form = read_form(settings)
    except (ConfigError, FormError) as exc:
        _fail(str(exc))
    if against_form:
        _check_against_form(settings, form)
    return settings, form


def _check_against_form(settings, form) -> None:
    from assess.core.settings import ConfigError
    from assess.estimate.run import check_config_against_form

    try:
        check_config_against_form(settings, form)
    except ConfigError as exc:
        _fail(str(exc))


@app.command()
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    reports: Annotated[bool, typer.Option("--reports/--no-reports", help="Render the PDF reports.")] = True,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            help="Seconds to wait for another run that is writing the "
            "store before giving up with exit code 3.",
        ),
    ] = 600.0,
    reload_into_round: Annotated[
        bool,
        typer.Option(
            "--reload-into-round",
            help="Also load files whose content is already loaded under another round "
            "(they are skipped otherwise, so that a changed [survey] round does not count households twice).",
        ),
    ] = False,
    verbose: VerboseOpt = False,
):
    """Process every new export in the inbox, then refresh estimates and reports.

    With nothing new (no new file, no changed input) it says so and redoes nothing, without starting Prefect.
    Exit 4 when the run had new files and every one of them was rejected (the [notify] channels are told)."""
    from assess.core.settings import ConfigError
    from assess.inbox.discover import inbox_files
    from assess.ops.lock import StoreBusy
    from assess.store.connection import StoreVersionError

    settings, form = _settings(config, against_form=False)
    for warning in form.warnings:
        console.print(f"[yellow]form warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    from assess.store.uptodate import nothing_new

    # Before Prefect starts, and before the config is checked against the form and frame: nothing new means
    # neither changed since a run that checked them.
    unchanged = nothing_new(settings, reports=reports, reload_into_round=reload_into_round)
    if unchanged is not None:
        out_console.print(escape(unchanged.message()), highlight=False, soft_wrap=True)
        out_console.print(f"Households: {unchanged.households}", highlight=False, soft_wrap=True)
        return
    _check_against_form(settings, form)
    from flows import prefect_api

    console.print(escape(prefect_api.use(settings.prefect_api_url).line()), highlight=False, soft_wrap=True)
    from flows.display import run_display

    with run_display(console, verbose):
        from flows import run as run_flow

        notified = len(run_flow.NOTIFIED)
        try:
            result = run_flow.run_assessment(
                str(settings.config_path),
                reports=reports,
                lock_wait=wait,
                reload_into_round=reload_into_round,
            )
        except (ConfigError, StoreVersionError) as exc:
            _fail(str(exc))
        except StoreBusy as exc:
            _fail(str(exc), code=3)
        except Exception as exc:
            if len(run_flow.NOTIFIED) == notified:  # failed before the flow's own hook could run
                run_flow.notify_outside_flow(settings, exc)
            _fail(f"the run failed: {type(exc).__name__}: {exc}", code=1)
    _print_run(result, settings.receipts_dir)
    if result.all_rejected:
        _fail(result.rejected_message(), code=4)
    if (
        not result.files
        and not result.skipped
        and not result.estimates.households.interviewed
        and not inbox_files(settings)
    ):
        out_console.print(
            f"No data yet: the inbox ({settings.inbox}) has no exports. Drop Kobo/ODK exports there "
            "and run again.",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    trigger: Annotated[
        bool,
        typer.Option("--trigger/--no-trigger", help="Also start runs on `assess watch --emit-event` events."),
    ] = True,
    port: Annotated[
        int, typer.Option(help="Port of the local Prefect server started when PREFECT_API_URL is not set.")
    ] = 4200,
):
    """Run the assessment nightly (cron from the config) and on folder-drop events, until Ctrl-C."""
    settings, _ = _settings(config)
    if not settings.cron and not trigger:
        _fail(
            f'{settings.config_path}: nothing to serve: set [schedule] cron = "0 2 * * *" or use --trigger.'
        )
    from flows.deploy import serve_assessment

    when = f"cron '{settings.cron}' ({settings.timezone or 'UTC'})" if settings.cron else "no schedule"
    console.print(
        f"Serving {settings.config_path}: {when}; folder-drop trigger {'on' if trigger else 'off'}. "
        "Ctrl-C stops.",
        highlight=False,
    )
    serve_assessment(settings, trigger=trigger, port=port)


@app.command()
def watch(
    config: ConfigOpt = DEFAULT_CONFIG,
    stable_seconds: Annotated[
        float,
        typer.Option(
            help="A file whose writer was not seen closing it (a "
            "network share, a file moved in) is complete when its "
            "size and time have not changed for this long."
        ),
    ] = 5.0,
    debounce: Annotated[
        float,
        typer.Option(help="Wait this long after the last event so that files dropped together make one run."),
    ] = 2.0,
    emit_event: Annotated[
        bool,
        typer.Option(
            "--emit-event",
            help="Send a Prefect event for `assess serve` (PREFECT_API_URL) instead of running here.",
        ),
    ] = False,
    reports: Annotated[bool, typer.Option("--reports/--no-reports", help="Render the PDF reports.")] = True,
    verbose: VerboseOpt = False,
):
    """Watch the inbox; when dropped files are complete, process them (one run per batch), until Ctrl-C."""
    import logging
    from contextlib import nullcontext

    from flows.display import quiet_logs, stage_display, watcher_lines

    settings, _ = _settings(config)
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    else:
        watcher_lines(console)
    from flows.watch import event_emitter, local_runner
    from flows.watch import watch as watch_inbox

    if emit_event:
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            _fail("--emit-event needs a Prefect server: set PREFECT_API_URL (the one `assess serve` uses).")
    on_batch = (
        event_emitter(settings)
        if emit_event
        else local_runner(
            settings,
            reports=reports,
            display=None if verbose else lambda: stage_display(console),
            on_result=lambda result: _print_run(result, settings.receipts_dir),
        )
    )
    console.print(
        f"Watching {escape(str(settings.inbox))} (a file is complete once its writer closed it, or "
        f"after {stable_seconds:g} s unchanged). Ctrl-C stops.",
        highlight=False,
        soft_wrap=True,
    )
    try:
        with nullcontext() if verbose else quiet_logs(console):
            watch_inbox(settings, on_batch, stable_seconds=stable_seconds, debounce_seconds=debounce)
    except KeyboardInterrupt:
        console.print("Stopped.")


def _run_table(result, styles: dict, compact: bool):
    from rich import box

    table = Table(
        title=f"Run {result.run_id} - round {result.round}",
        **(
            {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False, "collapse_padding": True}
            if compact
            else {}
        ),
    )
    for col in ("file", "status", "rows", "accepted", "quarantined", "warnings"):
        table.add_column(col, justify="left" if col in ("file", "status") else "right", no_wrap=True)
    for f in result.files:
        table.add_row(
            escape(f.file),
            f"[{styles.get(f.status, '')}]{f.status}[/]",
            str(f.rows),
            str(f.accepted),
            str(f.quarantined),
            str(f.warnings),
        )
    return table


def _print_files(result, out: Console) -> None:
    """The run's files as a table that fits the terminal; a file name is never folded.

    A table whose file names do not fit (a pipe at 80 columns, long names) gets a compact style; when even
    that is too wide, each file is one line of its own with its counts on the next.
    """
    from rich.measure import Measurement

    from assess.core.problems import FileStatus

    styles = {FileStatus.LOADED: "green", FileStatus.REJECTED: "red", FileStatus.DUPLICATE: "dim"}
    for compact in (False, True):
        table = _run_table(result, styles, compact)
        if Measurement.get(out, out.options.update(width=10**6), table).minimum <= out.width:
            out.print(table)
            return
    out.print(f"Run {result.run_id} - round {result.round}", highlight=False, soft_wrap=True)
    for f in result.files:
        out.print(escape(f.file), highlight=False, soft_wrap=True)
        out.print(
            f"    [{styles.get(f.status, '')}]{f.status}[/]: {f.rows} rows, {f.accepted} accepted, "
            f"{f.quarantined} quarantined, {f.warnings} warnings",
            highlight=False,
            soft_wrap=True,
        )


def _print_run(result, receipts_dir: Path, out: Console | None = None) -> None:
    """The run summary. Lines with a file name or a path are never wrapped (a pipe keeps them whole)."""
    from assess.core.problems import FileStatus

    out = out or out_console
    if not result.files:
        out.print("No new files in the inbox.")
    else:
        _print_files(result, out)
    for skipped in result.skipped:
        out.print(f"[yellow]{escape(skipped.message())}[/]", highlight=False, soft_wrap=True)
    for f in result.files:
        if f.status in (FileStatus.REJECTED, FileStatus.RETRY) and f.reason:
            out.print(f"[red]{escape(f.file)}[/]: {escape(f.reason)}", highlight=False, soft_wrap=True)
        for note in f.notes:  # e.g. a rule failing on most rows: probably a form problem, rows kept
            out.print(f"[yellow]{escape(f.file)}[/]: {escape(note)}", highlight=False, soft_wrap=True)
    if any(f.status in (FileStatus.REJECTED, FileStatus.LOADED) for f in result.files):
        out.print(
            f"Receipts for coordinators: {escape(str(receipts_dir / result.round))}",
            highlight=False,
            soft_wrap=True,
        )
    for line in result.cleaning:
        out.print(escape(line), highlight=False, soft_wrap=True)
    est = result.estimates
    out.print(f"Households: {est.households.sentence(est.declined_word)}", highlight=False, soft_wrap=True)
    for w in result.estimates.warnings:
        out.print(f"[yellow]design warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    for path in result.reports:
        out.print(f"Report: {escape(str(path))}", highlight=False, soft_wrap=True)
    out.print(f"Done in {result.duration_s} s.")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the demo assessment.")] = Path("."),
    households: Annotated[int, typer.Option(help="Number of households.")] = 2000,
):
    """Write a realistic demo assessment (form with a household roster, sampling frame, three exports and two
    roster re-exports, config) into DIRECTORY."""
    from assess.demo import write_demo

    try:
        files = write_demo(directory, households=households)
    except FileExistsError as exc:
        _fail(str(exc))
    out_console.print(
        f"Wrote {len(files)} files into {directory.resolve()}. Next: cd {directory} && assess run",
        highlight=False,
    )


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="An export to check without loading it.")],
    config: ConfigOpt = DEFAULT_CONFIG,
):
    """Print the receipt a file would get, without loading it. Exit 0: every row would load; 1: not."""
    import shutil
    import tempfile
    from dataclasses import replace

    from assess.report.receipts import format_receipt_text
    from assess.validate.stage import stage_file, would_load_every_row

    settings, form = _settings(config)
    if not file.exists() or not file.is_file():
        _fail(f"{file}: no such file.")
    with tempfile.TemporaryDirectory(prefix="assess-check-") as tmp:
        scratch = replace(settings, processed=Path(tmp))  # check never touches the real store or archive
        out = stage_file(file, scratch, form)
        if out.result is not None:
            out.result.docs_path = None  # lives in the scratch folder, gone when check ends
        text = format_receipt_text(out)
        shutil.rmtree(tmp, ignore_errors=True)
    out_console.print(text, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(0 if would_load_every_row(out) else 1)


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")]
AllRoundsOpt = Annotated[bool, typer.Option("--all-rounds", help="Every round, not just this one.")]


@export_app.command("estimates")
def export_estimates(out: OutOpt, config: ConfigOpt = DEFAULT_CONFIG, all_rounds: AllRoundsOpt = False):
    """Estimates by level, area, indicator and option, with labels and df (suppressed cells blank)."""
    from assess.report import exports

    _export(out, config, all_rounds, exports.export_estimates)


@export_app.command("results")
def export_results(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or XLSX file to write.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    all_rounds: AllRoundsOpt = False,
):
    """The analysis plan's results in analysistools' long format (.xlsx adds a wide sheet per group variable)."""
    from assess.report import results

    _export(out, config, all_rounds, results.export_results)


@export_app.command("quarantine")
def export_quarantine(out: OutOpt, config: ConfigOpt = DEFAULT_CONFIG, all_rounds: AllRoundsOpt = False):
    """Every quarantined row and rejected file, one line per problem, with the reason."""
    from assess.report import exports

    _export(
        out,
        config,
        all_rounds,
        lambda con, settings, form, round_, out: exports.export_quarantine(con, round_, out),
    )


@export_app.command("coverage")
def export_coverage(out: OutOpt, config: ConfigOpt = DEFAULT_CONFIG, all_rounds: AllRoundsOpt = False):
    """Partners against needs per area and sector: partners, organisations, need with its CI, gap class."""
    from assess.report import share

    _export(out, config, all_rounds, share.export_coverage)


@export_app.command("share")
def export_share(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Also one workbook with a sheet per file.")] = False,
    no_hxl: Annotated[bool, typer.Option("--no-hxl", help="Leave out the HXL hashtag row.")] = False,
):
    """Aggregates partners can load (HXL-tagged CSVs, HDX HAPI tables, provenance); no suppressed cells."""
    from assess.report import share

    settings, form = _settings(config)
    con = _read_store(settings)
    written = share.export_share(con, settings, form, out, xlsx=xlsx, hxl=not no_hxl)
    out_console.print(f"Wrote {len(written)} files to {out}", highlight=False)


@export_app.command("clean")
def export_clean(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or XLSX file to write.")],
    config: ConfigOpt = DEFAULT_CONFIG,
):
    """The cleaned households (raw data + applied cleaning logs) in the form's flat Kobo shape, and the
    deletion log (a CSV beside it, or a second sheet)."""
    from assess.report.clean_export import export_clean as write

    settings, form = _settings(config)
    con = _read_store(settings)
    n, removed = write(con, settings, form, out)
    out_console.print(f"Wrote {n} households to {out} ({removed} removed by cleaning logs)", highlight=False)


@export_app.command("table")
def export_table(
    name: Annotated[
        str,
        typer.Argument(
            help="submissions (households), or a repeat group's member "
            "table: r_<repeat> or the repeat's name."
        ),
    ],
    out: OutOpt,
    config: ConfigOpt = DEFAULT_CONFIG,
    all_rounds: AllRoundsOpt = False,
):
    """A household or member table as stored, one row per household or member (private answers hashed)."""
    from assess.report import exports

    settings, form = _settings(config)
    con = _read_store(settings)
    table = exports.find_table(con, name)
    if table is None:
        tables = exports.data_tables(con)
        hint = ""
        if name.removeprefix(exports.MEMBER_PREFIX) in form.repeats:
            hint = (
                f" No member rows of the repeat group '{name.removeprefix(exports.MEMBER_PREFIX)}' are in the "
                "store yet: load an XLSX (with its sheet) or csv.zip export."
            )
        _fail(
            f"unknown table '{name}'. Tables: {', '.join(tables) or 'none yet (run `assess run` first)'}.{hint}"
        )
        return
    n = exports.export_table(con, table, None if all_rounds else settings.round, out)
    out_console.print(f"Wrote {n} rows of {table} to {out}", highlight=False)


def _export(out: Path, config: Path, all_rounds: bool, write) -> None:
    """`write(con, settings, form, round, out)` -> rows written."""
    settings, form = _settings(config)
    con = _read_store(settings)
    n = write(con, settings, form, None if all_rounds else settings.round, out)
    out_console.print(f"Wrote {n} rows to {out}", highlight=False)


def _read_store(settings):
    import duckdb

    from assess.store.connection import StoreVersionError, connect

    try:
        return connect(settings.store_path, read_only=True)
    except (FileNotFoundError, StoreVersionError) as exc:
        _fail(str(exc))
    except duckdb.IOException:
        _fail(f"{settings.store_path} is being written by a run right now; try again in a minute.", code=3)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
