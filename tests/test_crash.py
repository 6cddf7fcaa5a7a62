"""Crash safety: a run killed with SIGKILL at any named point is finished by the next run.

Each case runs the flow's task bodies in a subprocess (tests/crash_driver.py) that kills itself at a crash
point (ASSESS_CRASH_AT, see assess/faults.py), then runs it again normally, and compares the store, the
archive and the receipts with those of a run that was never interrupted. The real `assess run`, killed
while rendering the reports, is tested in test_privacy.py (its full run doubles as the privacy run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "tests" / "crash_driver.py"
ROUND = "2026-R1"


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    """A 240-household demo (three exports): enough for cumulative replacement, quick to load."""
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("crash-demo")
    write_demo(root, households=240)
    _settle(root)
    return root


def _settle(root: Path) -> None:
    """Backdate the inbox files, as if dropped a while ago (the run skips files still being written)."""
    old = time.time() - 3600
    for i, p in enumerate(sorted((root / "data/raw").iterdir())):
        os.utime(p, (old + i, old + i))  # keeps the export order


def _copy(demo: Path, dest: Path) -> Path:
    shutil.copytree(demo, dest)
    return dest


def _env(crash_at: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASSESS_CRASH_AT"}
    env["ASSESS_HASH_KEY"] = "crash-test-key"
    env["PYTHONPATH"] = str(REPO)
    if crash_at:
        env["ASSESS_CRASH_AT"] = crash_at
    return env


def _drive(root: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DRIVER), str(root / "assessment.toml"), "--fast-validation"],
        env=_env(crash_at),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict:
    """What a finished run leaves behind, independent of run ids and timestamps."""
    processed = root / "data/processed"
    con = duckdb.connect(str(processed / "assessment.duckdb"), read_only=True)
    try:
        subs = con.execute(
            "SELECT submission_id, source_sha256, source_row FROM submissions ORDER BY ALL"
        ).fetchall()
        dup = con.execute(
            "SELECT count(*) - count(DISTINCT (round, submission_id)) FROM submissions"
        ).fetchone()[0]
        files = con.execute(
            "SELECT sha256, name, status, rows, accepted, quarantined, warnings FROM files ORDER BY ALL"
        ).fetchall()
        quarantine = con.execute(
            'SELECT sha256, "row", expectation, superseded_by FROM quarantine ORDER BY ALL'
        ).fetchall()
        selections = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE selected) FROM selections"
        ).fetchone()
        running = con.execute("SELECT count(*) FROM runs WHERE status = 'loading'").fetchone()[0]
    finally:
        con.close()
    archive = {p.name: _sha(p) for p in (processed / "archive").rglob("*") if p.is_file()}
    return {
        "submissions": subs,
        "duplicates": dup,
        "files": files,
        "quarantine": quarantine,
        "selections": selections,
        "runs_left_loading": running,
        "archive": archive,
        "receipts": sorted(p.name for p in (processed / "receipts").rglob("*") if p.is_file()),
        "staging_left": sorted(str(p) for p in (processed / "staging").rglob("*") if p.is_file()),
        "temp_files": sorted(str(p) for p in processed.rglob("*") if ".tmp" in p.name),
    }


@pytest.fixture(scope="module")
def clean(small_demo, tmp_path_factory) -> dict:
    root = _copy(small_demo, tmp_path_factory.mktemp("clean") / "a")
    done = _drive(root)
    assert done.returncode == 0, done.stderr
    snap = snapshot(root)
    assert len(snap["files"]) == 5 and snap["duplicates"] == 0 and snap["submissions"]
    assert all(name.split(".")[0] == sha for name, sha in snap["archive"].items())  # content-addressed
    return snap


@pytest.mark.parametrize(
    "point",
    [
        "after-archive",  # first file archived, nothing loaded
        "mid-load-before-commit",  # first file's transaction open
        "mid-load-before-commit:2",  # first file committed, second file's transaction open
        "after-commit-before-receipt",  # every file committed, no receipt written
    ],
)
def test_killed_run_is_finished_by_the_next_run(point, small_demo, clean, tmp_path):
    root = _copy(small_demo, tmp_path / "demo")
    killed = _drive(root, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    before = {p.name: _sha(p) for p in (root / "data/processed/archive").rglob("*") if p.is_file()}
    assert before, "the raw files are archived before anything else"

    again = _drive(root)
    assert again.returncode == 0, again.stderr[-3000:]
    after = snapshot(root)
    for name, sha in before.items():  # the archive is never modified
        assert after["archive"][name] == sha
    assert after == clean


def test_two_crashes_in_a_row_then_a_clean_run(small_demo, clean, tmp_path):
    root = _copy(small_demo, tmp_path / "demo")
    assert _drive(root, crash_at="mid-load-before-commit:2").returncode == -signal.SIGKILL
    assert _drive(root, crash_at="after-commit-before-receipt").returncode == -signal.SIGKILL
    assert _drive(root).returncode == 0
    assert snapshot(root) == clean


def test_crash_points_cost_nothing_when_unset(monkeypatch):
    from assess.ops import faults

    monkeypatch.delenv("ASSESS_CRASH_AT", raising=False)
    faults.crash_point("mid-load-before-commit")  # returns: no kill
    monkeypatch.setenv("ASSESS_CRASH_AT", "some-other-point")
    faults.crash_point("mid-load-before-commit")
