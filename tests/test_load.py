"""Load: files dropped while runs are in progress are all processed, each exactly once.

Several runs (tests/crash_driver.py subprocesses, real store lock, real DuckDB file) overlap: the first
gets 20 files dropped into the inbox after it has looked, two more start at the same time; a last run
picks up whatever is left. Every file ends up in the store once, with all of its rows, none twice.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb

from assess.demo import KOBO_CSV_PATH, write_demo

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "tests" / "crash_driver.py"


def _batch(demo: Path, dest: Path, n_files: int = 20, rows_each: int = 3) -> dict[str, int]:
    """`n_files` Kobo exports of new households (fresh ids), as 20 coordinators would send them."""
    with open(demo / KOBO_CSV_PATH, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    uid = header.index("_uuid")
    dest.mkdir(parents=True)
    sizes = {}
    for i in range(n_files):
        name = f"team_{i:02d}_export.csv"
        chunk = [list(r) for r in body[i * rows_each : (i + 1) * rows_each]]
        assert len(chunk) == rows_each
        for r in chunk:
            r[uid] = str(uuid.uuid4())
        with open(dest / name, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, delimiter=";").writerows([header, *chunk])
        old = time.time() - 600
        os.utime(dest / name, (old, old))
        sizes[name] = len(chunk)
    return sizes


def _start(root: Path, *extra: str) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if k != "ASSESS_CRASH_AT"},
        "ASSESS_HASH_KEY": "load-key",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(root / "assessment.toml"), "--fast-validation", *extra],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_twenty_files_dropped_during_runs_are_each_loaded_once(tmp_path):
    root = tmp_path / "demo"
    write_demo(root, households=150)
    old = time.time() - 3600
    for i, p in enumerate(sorted((root / "data/raw").iterdir())):
        os.utime(p, (old + i, old + i))
    sizes = _batch(root, tmp_path / "drop")

    runs = [_start(root, "--drop-from", str(tmp_path / "drop")), _start(root), _start(root)]
    for proc in runs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    last = _start(root)
    _, err = last.communicate(timeout=600)
    assert last.returncode == 0, err[-3000:]

    con = duckdb.connect(str(root / "data/processed/assessment.duckdb"), read_only=True)
    try:
        files = con.execute("SELECT name, count(*), any_value(status) FROM files GROUP BY name").fetchall()
        per_file = dict(con.execute("SELECT source_file, count(*) FROM submissions GROUP BY 1").fetchall())
        dups = con.execute("SELECT count(*) - count(DISTINCT submission_id) FROM submissions").fetchone()[0]
    finally:
        con.close()
    by_name = {n: (c, s) for n, c, s in files}
    assert len(by_name) == 5 + len(sizes)  # the demo's five exports
    assert all(c == 1 and s == "loaded" for c, s in by_name.values())
    assert {n: per_file.get(n) for n in sizes} == sizes  # every row of every dropped file, once
    assert dups == 0
    receipts = list((root / "data/processed/receipts").rglob("*.json"))
    assert len({p.name for p in receipts}) >= 3 + len(sizes)
