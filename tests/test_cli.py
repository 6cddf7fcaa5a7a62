"""The CLI as a data officer meets it: exit codes and messages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def test_missing_config_is_exit_2_with_a_hint(tmp_path):
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "config file not found" in result.output and "assess demo" in result.output
    assert "Traceback" not in result.output


def test_unknown_key_is_exit_2(demo_dir):
    cfg = demo_dir / "assessment.toml"
    cfg.write_text(cfg.read_text().replace("\n[paths]\n", "\n[paths]\nouttbox = 'x'\n"))
    result = runner.invoke(app, ["export", "estimates", "--out", "x.csv", "--config", str(cfg)])
    assert result.exit_code == 2 and "unknown key 'outtbox' in [paths]" in result.output


def test_usage_error_is_exit_2():
    assert runner.invoke(app, ["run", "--bogus"]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_unknown_needs_question_is_a_config_error(demo_dir):
    cfg = demo_dir / "assessment.toml"
    cfg.write_text(cfg.read_text().replace('questions = ["priority_needs"', 'questions = ["priority_nedds"'))
    result = runner.invoke(app, ["run", "--config", str(cfg)])
    assert result.exit_code == 2 and "priority_nedds" in result.output


def test_check_clean_file_exits_0_and_does_not_load(demo_dir):
    cfg = demo_dir / "assessment.toml"
    export = demo_dir / "data/raw/odk_central_2026-11-14.csv"
    result = runner.invoke(app, ["check", str(export), "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "Rows: 500" in result.output
    assert not (demo_dir / "data/processed/assessment.duckdb").exists()


def test_check_bad_file_exits_1_with_the_reason(demo_dir, tmp_path):
    bad = tmp_path / "other_form.csv"
    bad.write_text("colour,shape,_uuid\nred,round,a1\n")
    result = runner.invoke(app, ["check", str(bad), "--config", str(demo_dir / "assessment.toml")])
    assert result.exit_code == 1
    assert "does not look like an export of the form" in result.output


def test_export_before_any_run_says_run_first(demo_dir, tmp_path):
    result = runner.invoke(app, ["export", "estimates", "--out", str(tmp_path / "e.csv"),
                                 "--config", str(demo_dir / "assessment.toml")])
    assert result.exit_code == 2 and "assess run" in result.output


def test_demo_refuses_to_overwrite(demo_dir):
    result = runner.invoke(app, ["demo", str(demo_dir)])
    assert result.exit_code == 2 and "assessment.toml" in result.output


# ------------------------------------------------------------------------------------------------ output


def _all_help_commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    commands = [[]]
    for name, cmd in group.commands.items():
        commands.append([name])
        commands += [[name, sub] for sub in getattr(cmd, "commands", {})]
    return commands


def test_help_shows_no_bool_placeholder():
    commands = _all_help_commands()
    assert ["run"] in commands and ["export", "estimates"] in commands
    for args in commands:
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (args, result.output)
        assert "<bool>" not in result.output, args
    run_help = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "120"}).output
    assert "<path>" in run_help and "<float>" in run_help and "--verbose" in run_help  # real types stay


def test_version():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"assess {version('assess')}"


def _summary(names: list[str], reports: list[str]):
    from assess.core.problems import FileStatus
    from assess.core.summary import EstimateSummary, FileSummary, RunSummary

    files = [FileSummary(file=n, sha256="0" * 64, status=FileStatus.LOADED, rows=900, accepted=899, quarantined=1)
             for n in names]
    files.append(FileSummary(file="bad_" + names[0], sha256="1" * 64, status=FileStatus.REJECTED,
                             reason="does not look like an export of the form in assessment.toml: "
                                    "no column matches its questions"))
    return RunSummary(run_id="abc123", round="2026-R1", files=files, estimates=EstimateSummary(households=1999),
                      reports=reports, duration_s=12.5)


def _printed(result, width: int = 80) -> str:
    import io

    from rich.console import Console

    from flows.cli import _print_run

    out = Console(file=io.StringIO(), width=width)
    _print_run(result, Path("/srv/assessments/cna-2026/data/processed/receipts"), out)
    return out.file.getvalue()


def test_run_summary_never_breaks_a_file_name_or_a_path_at_80_columns():
    deep = "/srv/assessments/community-needs-assessment-2026/data/processed/reports/2026-R1"
    reports = [f"{deep}/national.pdf", f"{deep}/Karsa-North-and-the-Eastern-Highlands.pdf"]
    for names in (["kobo_export_2026-11-10.csv", "kobo_export_2026-11-12.xlsx"],  # the demo's: a table
                  ["kobo_export_2026-11-10_final_corrected_by_the_coordinator_v2.csv"]):  # longer than a table allows
        text = _printed(_summary(names, reports))
        lines = text.splitlines()
        for name in [*names, "bad_" + names[0]]:
            assert any(name in line for line in lines), (name, text)
        for path in reports:
            assert f"Report: {path}" in lines, text
        assert "Receipts for coordinators: /srv/assessments/cna-2026/data/processed/receipts/2026-R1" in lines
        assert "Households in estimates: 1999" in lines
    table = _printed(_summary(["kobo_export_2026-11-10.csv"], reports))
    assert "accepted" in table and "quarantined" in table  # the table, in its compact form
    listed = _printed(_summary(["kobo_export_2026-11-10_final_corrected_by_the_coordinator_v2.csv"], reports))
    assert "    loaded: 900 rows, 899 accepted, 1 quarantined, 0 warnings" in listed.splitlines()


def _assess(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    """The real `assess` command in a pipe (stdout and stderr not a terminal), 80 columns wide."""
    from tests.corpus import prefect_api_env

    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **prefect_api_env(), "COLUMNS": "80", "PYTHONPATH": path,
                                            **env})


def _prefect_logs(config: Path) -> list[str]:
    """The INFO log lines the Prefect server holds for the latest run of this config."""
    import logging

    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterLevel
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = [r for r in client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=50)
                if r.parameters.get("config_path") == str(config.resolve())]
        assert runs, "no flow run of this config on the Prefect server"
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[0].id]),
                                          level=LogFilterLevel(ge_=logging.INFO, le_=logging.INFO)))
    return [log.message for log in logs]


PREFECT_INFO = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| INFO ", re.MULTILINE)


def test_run_shows_progress_rows_not_logs_and_keeps_names_whole_at_80_columns(prefect_harness, demo_dir,
                                                                             demo_template, tmp_path):
    config = demo_dir / "assessment.toml"
    result = _assess(["run", "--config", str(config)], cwd=demo_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    out, err = result.stdout, result.stderr
    names = sorted(p.name for p in (demo_template / "data/raw").iterdir())
    assert len(names) == 3
    for name in names:  # a file name is never folded
        assert re.search(rf"^{re.escape(name)}\s+loaded\s", out, re.MULTILINE), out
    reports = [line.removeprefix("Report: ") for line in out.splitlines() if line.startswith("Report: ")]
    assert len(reports) == 7 and all(Path(p).is_file() and len(p) > 80 for p in reports), out  # one line each
    assert "Created temporary directory" not in out + err
    assert not PREFECT_INFO.search(out + err), err
    for row in ("Files staged", "Rows loaded", "Estimates", "Reports"):
        assert row in err, err
    assert re.search(r"Files staged .* 3/3", err) and re.search(r"Reports .* 7/7", err), err
    assert re.search(r"Rows loaded .* 2000/2000", err), err
    messages = _prefect_logs(config)  # the Prefect UI still has the run's whole log
    assert any(m.endswith("900 rows read, 0 problem(s)") for m in messages), messages
    assert any(m.startswith("Finished in state Completed") for m in messages), messages

    again = tmp_path / "again"  # -v: the logs as before (GX's docs-site line is gone for good)
    shutil.copytree(demo_template, again)
    verbose = _assess(["run", "-v", "--no-reports", "--config", str(again / "assessment.toml")], cwd=again)
    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    assert PREFECT_INFO.search(verbose.stderr) and "Finished in state Completed()" in verbose.stderr
    assert "Created temporary directory" not in verbose.stdout + verbose.stderr
    assert "Files staged" not in verbose.stderr


def test_progress_rows_and_quiet_logs_in_process():
    import io
    import logging

    from rich.console import Console

    from assess.core import progress
    from flows.display import TerminalLines, quiet_logs, stage_display

    class Broken:
        def start(self, stage, total=None):
            raise RuntimeError("display broke")

        advance = finish = start

    shown = Console(file=io.StringIO(), width=80)
    long_name = "kobo_export_2026-11-10_final_corrected_by_the_coordinator_v2.csv"
    gx = logging.getLogger("great_expectations.data_context.types.base")
    with quiet_logs(shown), stage_display(shown):
        progress.current().start("stage", 2)
        progress.current().advance("stage", item="a.csv")
        gx.info("Created temporary directory '/tmp/x' for ephemeral docs site")
        logging.getLogger("assess.test").warning("%s is still being written; the next run picks it up", long_name)
        progress.current().advance("stage", item="b.csv")
        with progress.observing(Broken()):
            progress.current().start("load", 10)  # a broken display never fails the run
        progress.current().start("estimate")
        progress.current().finish("estimate", "12 estimates, 2 households")
    assert progress.current() is progress.NULL
    text = shown.file.getvalue()
    assert f"warning: {long_name} is still being written; the next run picks it up" in text.splitlines()
    assert "docs site" not in text
    assert re.search(r"Files staged .* 2/2", text) and "12 estimates, 2 households" in text

    lines = TerminalLines(Console(file=io.StringIO(), width=80))
    for name, level in (("prefect.flow_runs", logging.ERROR), ("prefect.task_runs", logging.ERROR),
                        ("prefect.flow_runs", logging.WARNING)):
        lines.handle(logging.LogRecord(name, level, __file__, 1, f"{name} {level}", None, None))
    assert lines.console.file.getvalue().splitlines() == ["warning: prefect.flow_runs 30"]  # failures: the CLI says
