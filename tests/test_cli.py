"""The CLI as a data officer meets it: exit codes and messages."""

from __future__ import annotations

from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


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
