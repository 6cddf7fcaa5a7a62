"""Benchmark: `assess run --no-reports` on generated Kobo exports, against DuckDB itself on the same files.

    .venv/bin/python benchmarks/bench_ingest.py                 # small sizes of cases a and b (a few minutes)
    .venv/bin/python benchmarks/bench_ingest.py --full          # the issue's sizes: a, b and c
    .venv/bin/python benchmarks/bench_ingest.py --cases a --profile /tmp/a.txt

Cases: (a) a wide form (1,069 columns: 28 groups, select_multiple option columns, relevance) in 3 files;
(b) 63 columns in 20 files; (c) 63 columns in 50 files. `ours` is a run that loads the files minus a run
with nothing new (which now stops before Prefect starts, so `ours` includes Prefect's start, the cleaning
checks and estimation); the floor is DuckDB's `read_csv` of the
same files into a table plus one GROUP BY of a needs question by region, timed in the same process. Peak RSS
is the largest process of the run (RUSAGE_CHILDREN of a wrapper); `ours CPU` is the CPU seconds (user +
system) of the same difference, steadier than wall time on a shared machine. `--profile` also runs stage +
load in this process under pyinstrument and writes the profile (the top entries are printed, after the wall
and CPU seconds of that stage + load: the ingest path alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from survey_shapes import NARROW, WIDE, Shape, write_config, write_exports, write_form  # noqa: E402


@dataclass
class Case:
    key: str
    what: str
    shape: Shape
    households: int
    files: int
    target: float
    full_households: int


CASES = {
    "a": Case("a", "wide form, 3 files", WIDE, 1_000, 3, 5.0, 4_000),
    "b": Case("b", "63 columns, 20 files", NARROW, 20_000, 20, 3.0, 200_000),
    "c": Case("c", "63 columns, 50 files", NARROW, 100_000, 50, 3.0, 1_000_000),
}
RSS_LIMIT_MB = 2048  # case c's target

_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(r.stderr[-3000:] if r.returncode else '')\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(u.ru_utime + u.ru_stime)\n"
    "print(u.ru_maxrss)\n"
    "sys.exit(r.returncode)\n"
)


def assess_run(root: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds, peak RSS (MB) and CPU seconds of one `assess run --no-reports` in a fresh process."""
    cmd = [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "flows.cli", "run", "--no-reports"]
    cmd += ["--config", str(root / "assessment.toml")]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 4):
        sys.exit(f"assess run failed ({proc.returncode}):\n{proc.stderr}")
    *_, cpu, rss = proc.stdout.strip().splitlines()
    return seconds, int(rss) / 1024, float(cpu)


def floor(paths: list[Path]) -> float:
    """DuckDB itself: read the files into a table, then one GROUP BY of a needs question by region."""
    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({files}, delim = ';', header = true)")
    con.execute('SELECT admin1, "g0/g0_s1", count(*) FROM t GROUP BY ALL').fetchall()
    con.close()
    return time.perf_counter() - started


def profile(root: Path, out: Path) -> list[str]:
    """Stage + load the inbox in this process under pyinstrument; the profile's top entries."""
    from pyinstrument import Profiler

    from assess.core.privacy import hash_key
    from assess.core.settings import load_settings
    from assess.core.xlsform import read_form
    from assess.inbox.discover import inbox_files
    from assess.store.connection import connect
    from assess.store.runs import load_batch
    from assess.validate.gx import sql_route_available
    from assess.validate.stage import stage_files

    sql_route_available()  # import GX outside the profile: paid once per process
    settings = load_settings(root / "assessment.toml")
    form = read_form(settings)
    profiler = Profiler(interval=0.01)
    profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = stage_files(inbox_files(settings), settings, form)
    con = connect(settings.store_path)
    try:
        load_batch(con, outcomes, settings, form, "profile", hash_key(), write_receipts=lambda o: None)
    finally:
        con.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False)
    out.write_text(text, encoding="utf-8")
    head = f"stage + load in this process: {wall:.1f} s wall, {cpu:.1f} s CPU (DuckDB's threads included)"
    return [head] + [line for line in text.splitlines() if "assess/" in line][:14]


def run_case(case: Case, households: int, work: Path, env: dict[str, str], prof: Path | None) -> dict:
    root = work / case.key
    (root / "data").mkdir(parents=True)
    write_form(root / "data/form.xlsx", case.shape)
    write_config(root)
    exports = write_exports(root / "exports", case.shape, households, case.files)
    (root / "data/raw").mkdir()
    assess_run(root, env)  # an empty inbox: Prefect's database and the store exist before timing
    for p in exports:
        shutil.copy2(p, root / "data/raw" / p.name)
    loading, rss, cpu = assess_run(root, env)
    nothing_new, _, idle_cpu = assess_run(root, env)
    base = floor(exports)
    ours = loading - nothing_new
    row = {
        "case": f"({case.key}) {households:,} households, {case.what}",
        "columns": case.shape.columns,
        "floor": base,
        "run": loading,
        "nothing_new": nothing_new,
        "ours": ours,
        "ratio": ours / base,
        "target": case.target,
        "rss": rss,
        "cpu": cpu - idle_cpu,
    }
    if prof is not None:
        shutil.rmtree(root / "data/processed")
        row["profile"] = profile(root, prof.with_name(f"{prof.stem}-{case.key}{prof.suffix}"))
    shutil.rmtree(root)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=None, help="comma-separated: a,b,c (default a,b; with --full a,b,c)")
    ap.add_argument("--full", action="store_true", help="the issue's sizes: 4,000 / 200,000 / 1,000,000")
    ap.add_argument("--profile", type=Path, default=None, help="write a pyinstrument profile per case here")
    args = ap.parse_args()
    keys = (args.cases or ("a,b,c" if args.full else "a,b")).split(",")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_HOME": str(work / "prefect")}
        rows = []
        for key in keys:
            case = CASES[key]
            n = case.full_households if args.full else case.households
            print(f"case {key}: {n:,} households in {case.files} files ...", file=sys.stderr, flush=True)
            rows.append(run_case(case, n, work, env, args.profile))
    load = os.getloadavg()[0]
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, load {load:.1f}\n")
    print(
        "| case | columns | floor s | run s | nothing new s | ours s | ours CPU s | ratio | target | met "
        "| peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        ok = r["ratio"] <= r["target"] and r["rss"] < RSS_LIMIT_MB
        met = "yes" if ok else f"no ({r['ratio'] / r['target']:.1f}x over)"
        print(
            f"| {r['case']} | {r['columns']:,} | {r['floor']:.1f} | {r['run']:.1f} | {r['nothing_new']:.1f} "
            f"| {r['ours']:.1f} | {r['cpu']:.1f} | {r['ratio']:.1f}x | <= {r['target']:.0f}x "
            f"| {met} | {r['rss']:.0f} |"
        )
    for r in rows:
        if "profile" in r:
            print(f"\nprofile {r['case']}:\n" + "\n".join(r["profile"]))


if __name__ == "__main__":
    main()
