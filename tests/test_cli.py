"""The CLI as a data officer meets it: exit codes and messages."""

from __future__ import annotations

import json
import os
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
    return subprocess.run([ASSESS, "run", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900)


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
    assert [f.status for f in run.files] == ["loaded"] * 3
    assert new_files(settings).new == []  # same round: seen
    r2 = replace(settings, round="2026-R2")
    inbox = new_files(r2)
    assert inbox.new == [] and inbox.seen == 0
    assert [(s.file, s.loaded_in, s.round) for s in inbox.other_round] == [
        (p.name, "2026-R1", "2026-R2") for p in inbox_files(settings)]
    assert inbox.other_round[0].message() == (
        f"{inbox.other_round[0].file} is already loaded in round 2026-R1; skipped. To load it into 2026-R2 as "
        "well, run `assess run --reload-into-round`.")
    again = new_files(r2, reload_into_round=True)
    assert len(again.new) == 3 and again.other_round == []


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
    assert ("kobo_export_2026-11-10.csv is already loaded in round 2026-R1; skipped. To load it into 2026-R2 as "
            "well, run `assess run --reload-into-round`.") in flat
    assert "odk_central_2026-11-14.csv is already loaded in round 2026-R1" in flat
    assert "No data yet" not in flat
    assert _households(store) == {"2026-R1": loaded}  # nothing loaded twice
    third = _run_cli(small_demo, "--no-reports", "--reload-into-round")
    assert third.returncode == 0, (third.stdout + third.stderr)[-3000:]
    assert "already loaded" not in third.stdout
    assert _households(store) == {"2026-R1": loaded, "2026-R2": loaded}


# ------------------------------------------------------------------------------------------------ exit codes


def test_every_file_rejected_exits_4_and_notifies(prefect_harness, small_demo, tmp_path):
    raw = small_demo / "data/raw"
    shutil.rmtree(raw)
    raw.mkdir()
    (raw / "other_form.csv").write_text("colour,shape,_uuid\nred,round,a1\n", encoding="utf-8")
    (raw / "empty.csv").write_text("", encoding="utf-8")
    _backdate(raw)
    marker = tmp_path / "notified.json"
    cmd = (f"{sys.executable} -c \"import json, os; open({str(marker)!r}, 'w').write(json.dumps("
           "{k: v for k, v in os.environ.items() if k.startswith('ASSESS_')}))\"")
    config = small_demo / "assessment.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n[notify]\ncommand = {json.dumps(cmd)}\n",
                      encoding="utf-8")
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
    assert f"No data yet: the inbox ({raw}) has no exports. Drop Kobo/ODK exports there and run again." in flat
    assert "is not a column" not in flat and "Traceback" not in out
    reports = small_demo / "data/processed/reports"
    assert not reports.exists() or not any(reports.rglob("*.pdf"))
