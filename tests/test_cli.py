"""The CLI as a data officer meets it: exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
ASSESS = str(Path(sys.executable).parent / "assess")
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
    result = runner.invoke(
        app,
        [
            "export",
            "estimates",
            "--out",
            str(tmp_path / "e.csv"),
            "--config",
            str(demo_dir / "assessment.toml"),
        ],
    )
    assert result.exit_code == 2 and "assess run" in result.output


def test_demo_refuses_to_overwrite(demo_dir):
    result = runner.invoke(app, ["demo", str(demo_dir)])
    assert result.exit_code == 2 and "assessment.toml" in result.output


# ------------------------------------------------------------------------------------------------ helpers


def _backdate(inbox: Path) -> None:
    """As if dropped a while ago: the run takes the files without waiting for them to settle."""
    old = time.time() - 3600
    for p in inbox.iterdir():
        os.utime(p, (old, old))


def _set_round(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert f'round = "{old}"' in text
    config.write_text(text.replace(f'round = "{old}"', f'round = "{new}"'), encoding="utf-8")


def _households(store: Path) -> dict[str, int]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return dict(con.execute("SELECT round, count(*) FROM submissions GROUP BY round").fetchall())
    finally:
        con.close()


def _run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The real `assess run` in a subprocess, against the session's Prefect server."""
    from tests.corpus import prefect_api_env

    env = {**os.environ, **prefect_api_env(), "COLUMNS": "200"}
    env.pop("ASSESS_CRASH_AT", None)
    return subprocess.run(
        [ASSESS, "run", *args], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def small_template(tmp_path_factory) -> Path:
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("cli-demo")
    write_demo(root, households=240)
    return root


@pytest.fixture
def small_demo(small_template, tmp_path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(small_template, dest)
    _backdate(dest / "data/raw")
    return dest


# ------------------------------------------------------------------------------------------------ round trap


def test_new_files_skips_content_loaded_under_another_round(small_demo):
    from assess.inbox.discover import inbox_files, new_files
    from tests._store import build_store

    settings, _, run = build_store(small_demo)
    assert [f.status for f in run.files] == ["loaded"] * 5  # three exports and two roster re-exports
    assert new_files(settings).new == []  # same round: seen
    r2 = replace(settings, round="2026-R2")
    inbox = new_files(r2)
    assert inbox.new == [] and inbox.seen == 0
    assert [(s.file, s.loaded_in, s.round) for s in inbox.other_round] == [
        (p.name, "2026-R1", "2026-R2") for p in inbox_files(settings)
    ]
    assert inbox.other_round[0].message() == (
        f"{inbox.other_round[0].file} is already loaded in round 2026-R1; skipped. To load it into 2026-R2 as "
        "well, run `assess run --reload-into-round`."
    )
    again = new_files(r2, reload_into_round=True)
    assert len(again.new) == len(inbox_files(settings)) == 6 and again.other_round == []  # 5 exports + a log


def test_changing_the_round_does_not_load_the_same_files_again(prefect_harness, small_demo):
    config = small_demo / "assessment.toml"
    store = small_demo / "data/processed/assessment.duckdb"
    first = _run_cli(small_demo, "--no-reports")
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    loaded = _households(store)["2026-R1"]
    _set_round(config, "2026-R1", "2026-R2")
    second = _run_cli(small_demo, "--no-reports")
    out = second.stdout + second.stderr
    assert second.returncode == 0, out[-3000:]
    flat = " ".join(second.stdout.split())
    assert (
        "kobo_export_2026-11-10.csv is already loaded in round 2026-R1; skipped. To load it into 2026-R2 as "
        "well, run `assess run --reload-into-round`."
    ) in flat
    assert "odk_central_2026-11-14.csv is already loaded in round 2026-R1" in flat
    assert "No data yet" not in flat
    assert _households(store) == {"2026-R1": loaded}  # nothing loaded twice
    third = _run_cli(small_demo, "--no-reports", "--reload-into-round")
    assert third.returncode == 0, (third.stdout + third.stderr)[-3000:]
    assert "already loaded" not in third.stdout
    assert _households(store) == {"2026-R1": loaded, "2026-R2": loaded}


def test_a_run_with_nothing_new_says_so_without_starting_prefect(prefect_harness, small_demo):
    first = _run_cli(small_demo, "--no-reports")
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    assert re.search(r"^Prefect: server \S+ \(PREFECT_API_URL\)\.$", first.stderr, re.MULTILINE), first.stderr
    store = small_demo / "data/processed/assessment.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute("SELECT rowid, * FROM estimates ORDER BY rowid").fetchall()
    con.close()
    again = _run_cli(small_demo, "--no-reports")
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    lines = again.stdout.splitlines()
    assert re.fullmatch(
        r"Nothing new: 5 files already loaded; estimates are up to date \(run [0-9a-f]{12} at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\)\.",
        lines[0],
    ), again.stdout
    households = [ln for ln in first.stdout.splitlines() if ln.startswith("Households: ")]
    assert len(lines) == 2 and lines[1:] == households, (
        again.stdout
    )  # the same counts as the run that made them
    assert "Prefect:" not in again.stderr and "Traceback" not in again.stderr
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT rowid, * FROM estimates ORDER BY rowid").fetchall() == rows
    con.close()


# ------------------------------------------------------------------------------------------------ exit codes


def test_every_file_rejected_exits_4_and_notifies(prefect_harness, small_demo, tmp_path):
    raw = small_demo / "data/raw"
    shutil.rmtree(raw)
    raw.mkdir()
    (raw / "other_form.csv").write_text("colour,shape,_uuid\nred,round,a1\n", encoding="utf-8")
    (raw / "empty.csv").write_text("", encoding="utf-8")
    _backdate(raw)
    marker = tmp_path / "notified.json"
    cmd = (
        f"{sys.executable} -c \"import json, os; open({str(marker)!r}, 'w').write(json.dumps("
        "{k: v for k, v in os.environ.items() if k.startswith('ASSESS_')}))\""
    )
    config = small_demo / "assessment.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + f"\n[notify]\ncommand = {json.dumps(cmd)}\n", encoding="utf-8"
    )
    res = _run_cli(small_demo, "--no-reports")
    out = res.stdout + res.stderr
    assert res.returncode == 4, out[-3000:]
    assert "Traceback" not in out
    flat = " ".join(out.split())
    assert "Every new file of this run was rejected (" in flat and "other_form.csv" in flat
    sent = json.loads(marker.read_text())
    assert sent["ASSESS_EVENT"] == "assess.run.failed" and sent["ASSESS_STATE"] == "Rejected"
    assert "other_form.csv" in sent["ASSESS_MESSAGE"] and sent["ASSESS_ROUND"] == "2026-R1"
    assert sent["ASSESS_RUN_ID"] not in ("", "-")
    # the next run finds nothing new: not a failure again
    again = _run_cli(small_demo, "--no-reports")
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]


def test_empty_inbox_with_a_design_is_no_data_yet_not_a_config_error(prefect_harness, small_demo):
    raw = small_demo / "data/raw"
    shutil.rmtree(raw)
    raw.mkdir()
    assert "[design]" in (small_demo / "assessment.toml").read_text(encoding="utf-8")
    res = _run_cli(small_demo)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    flat = " ".join(out.split())
    assert (
        f"No data yet: the inbox ({raw}) has no exports. Drop Kobo/ODK exports there and run again." in flat
    )
    assert "is not a column" not in flat and "Traceback" not in out
    reports = small_demo / "data/processed/reports"
    assert not reports.exists() or not any(reports.rglob("*.pdf"))


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
    from assess.core.summary import EstimateSummary, FileSummary, HouseholdCounts, RunSummary

    files = [
        FileSummary(file=n, sha256="0" * 64, status=FileStatus.LOADED, rows=900, accepted=899, quarantined=1)
        for n in names
    ]
    files.append(
        FileSummary(
            file="bad_" + names[0],
            sha256="1" * 64,
            status=FileStatus.REJECTED,
            reason="does not look like an export of the form in assessment.toml: "
            "no column matches its questions",
        )
    )
    return RunSummary(
        run_id="abc123",
        round="2026-R1",
        files=files,
        estimates=EstimateSummary(households=HouseholdCounts(2039, 40, 1999)),
        reports=reports,
        duration_s=12.5,
    )


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
    for names in (
        ["kobo_export_2026-11-10.csv", "kobo_export_2026-11-12.xlsx"],  # the demo's: a table
        ["kobo_export_2026-11-10_final_corrected_by_the_coordinator_v2.csv"],
    ):  # longer than a table allows
        text = _printed(_summary(names, reports))
        lines = text.splitlines()
        for name in [*names, "bad_" + names[0]]:
            assert any(name in line for line in lines), (name, text)
        for path in reports:
            assert f"Report: {path}" in lines, text
        assert "Receipts for coordinators: /srv/assessments/cna-2026/data/processed/receipts/2026-R1" in lines
        assert "Households: 2,039 interviewed, 40 declined, 1,999 in the estimates" in lines
    table = _printed(_summary(["kobo_export_2026-11-10.csv"], reports))
    assert "accepted" in table and "quarantined" in table  # the table, in its compact form
    listed = _printed(_summary(["kobo_export_2026-11-10_final_corrected_by_the_coordinator_v2.csv"], reports))
    assert "    loaded: 900 rows, 899 accepted, 1 quarantined, 0 warnings" in listed.splitlines()


def _assess(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    """The real `assess` command in a pipe (stdout and stderr not a terminal), 80 columns wide."""
    from tests.corpus import prefect_api_env

    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **prefect_api_env(), "COLUMNS": "80", "PYTHONPATH": path, **env},
    )


def _prefect_logs(config: Path) -> list[str]:
    """The INFO log lines the Prefect server holds for the latest run of this config."""
    import logging

    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterLevel
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = [
            r
            for r in client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=50)
            if r.parameters.get("config_path") == str(config.resolve())
        ]
        assert runs, "no flow run of this config on the Prefect server"
        logs = client.read_logs(
            LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[runs[0].id]),
                level=LogFilterLevel(ge_=logging.INFO, le_=logging.INFO),
            )
        )
    return [log.message for log in logs]


PREFECT_INFO = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| INFO ", re.MULTILINE)


def test_run_shows_progress_rows_not_logs_and_keeps_names_whole_at_80_columns(
    prefect_harness, demo_dir, demo_template, tmp_path
):
    config = demo_dir / "assessment.toml"
    result = _assess(["run", "--config", str(config)], cwd=demo_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    out, err = result.stdout, result.stderr
    names = sorted(p.name for p in (demo_template / "data/raw").iterdir() if "cleaning_log" not in p.name)
    assert len(names) == 5  # three exports and two roster re-exports (and the filled cleaning log, issue 17)
    assert "Cleaning log cleaning_log_2026-11-18_filled.xlsx: 6 line(s) applied" in out, out
    for (
        name
    ) in names:  # a file name is never folded: a table row, or (too wide for 80 columns) a line of its own
        assert re.search(rf"^{re.escape(name)}(\s+loaded\s|\n +loaded: )", out, re.MULTILINE), out
    reports = [line.removeprefix("Report: ") for line in out.splitlines() if line.startswith("Report: ")]
    assert len(reports) == 7 and all(Path(p).is_file() and len(p) > 80 for p in reports), out  # one line each
    assert "Created temporary directory" not in out + err
    assert not PREFECT_INFO.search(out + err), err
    for row in ("Files staged", "Rows loaded", "Estimates", "Reports"):
        assert row in err, err
    assert re.search(r"Files staged .* 5/5", err) and re.search(r"Reports .* 7/7", err), err
    assert re.search(r"Rows loaded .* 4002/4002", err), err  # the roster re-exports repeat the households
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
        logging.getLogger("assess.test").warning(
            "%s is still being written; the next run picks it up", long_name
        )
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
    for name, level in (
        ("prefect.flow_runs", logging.ERROR),
        ("prefect.task_runs", logging.ERROR),
        ("prefect.flow_runs", logging.WARNING),
    ):
        lines.handle(logging.LogRecord(name, level, __file__, 1, f"{name} {level}", None, None))
    assert lines.console.file.getvalue().splitlines() == [
        "warning: prefect.flow_runs 30"
    ]  # failures: the CLI says
