"""Installed the way a user installs it: a wheel (not the source checkout) renders a PDF from a folder outside
the repository, so templates and SQL must travel as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.corpus import prefect_api_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = built.stdout + built.stderr
    # packaging configuration problems show up as setuptools warnings; there must be none
    assert "SetuptoolsDeprecationWarning" not in log and "WARNING Package" not in log, log
    (found,) = out.glob("assess-*.whl")
    return found


def test_the_wheel_carries_templates_sql_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "assess/templates/report.css",
        "assess/templates/national.html.j2",
        "assess/templates/receipt.html.j2",
        "assess/store/sql/schema.sql",
        "assess/store/sql/migrations/002_spreadsheet_row_numbers.sql",
        "assess/estimate/sql/estimate_result.sql",
        "assess/report/sql/report_estimates.sql",
        "assess/inbox/sql/seen_files.sql",
        "assess/validate/sql/accepted_members.sql",
        "assess/store/sql/migrations/004_repeat_groups.sql",
    ):
        assert name in names, name
    assert not any(n.startswith(("tests/", "templates/")) for n in names)


@pytest.mark.slow
def test_a_wheel_install_runs_the_demo_to_a_pdf_outside_the_repository(wheel, tmp_path, prefect_harness):
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    site = Path(
        subprocess.run(
            [venv / "bin/python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # the dependencies come from the project's environment (not downloaded again); `assess` from the wheel only
    (site / "project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [
            venv / "bin/python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, **prefect_api_env(), "ASSESS_HASH_KEY": "wheel-test"}
    env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [venv / "bin/python", "-c", "import assess; print(assess.__file__)"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(str(site)) and not where.startswith(str(ROOT))
    assess = venv / "bin" / "assess"
    subprocess.run(
        [assess, "demo", "demo", "--households", "300"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    run = subprocess.run(
        [assess, "run"], cwd=work / "demo", env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout + run.stderr
    pdf = work / "demo/data/processed/reports/2026-R1/national.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Demo Red Cross Society" in text
