"""Benchmark (d): a 1,000-household increment on a store of many households (issue 15: under 3 s after Prefect).

    python benchmarks/bench_increment.py [--households 200000] [--files 10] [--increment 1000]
    python benchmarks/bench_increment.py --households 1000000 --files 50      # the issue's case
    python benchmarks/bench_increment.py --profile /tmp/increment.html        # pyinstrument of the increment
    python benchmarks/bench_increment.py --checks                             # with the quality checks
    python benchmarks/bench_increment.py --households 10000 --checks --cli    # also the real CLI

Builds the store as `bench_nothing_new.py` does (the demo grown to `--households` by copying households),
without reports. Then drops one new Kobo CSV export of `--increment` households (rows of the demo's own Kobo
export with new ids) into the inbox and runs what `assess run --no-reports` runs after Prefect's start, in
process and in the flow's order: stage (read + validate), load, clean (logs + quality checks), estimate,
partners. Each step is timed; the floor is DuckDB itself: `read_csv` of the new file into a table plus one
GROUP BY of a needs question by region. The quality checks are left out unless --checks (see skip_checks).
--cli then drops a second increment and times the real `assess run --no-reports` in a fresh process (warm
PREFECT_HOME, embedded server), and a trivial Prefect flow in the same environment (bench_prefect_start.py's):
their difference is the increment after Prefect's start, Prefect's task machinery included. The CLI always
runs the quality checks.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("ASSESS_HASH_KEY", "bench-key-not-secret")

import duckdb  # noqa: E402
from bench_nothing_new import build  # noqa: E402

from assess.clean.run import clean_round  # noqa: E402
from assess.core.privacy import hash_key  # noqa: E402
from assess.core.settings import load_settings  # noqa: E402
from assess.core.xlsform import read_form  # noqa: E402
from assess.demo import write_demo  # noqa: E402
from assess.estimate.refresh import refresh_estimates  # noqa: E402
from assess.partners.run import run_partners  # noqa: E402
from assess.report.receipts import write_receipts  # noqa: E402
from assess.store.connection import connect  # noqa: E402
from assess.store.runs import load_batch  # noqa: E402
from assess.validate.stage import stage_file  # noqa: E402


def write_increment(path: Path, households: int, first_id: int = 900_000_000) -> None:
    """`households` rows of the demo's Kobo CSV export, each with a new `_uuid` / `_id` (new households)."""
    with tempfile.TemporaryDirectory(prefix="bench-increment-demo-") as tmp:
        write_demo(Path(tmp), households=300)
        source = next((Path(tmp) / "data/raw").glob("kobo_export_*.csv"))
        with source.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    header, body = rows[0], rows[1:]
    uid, iid = header.index("_uuid"), header.index("_id")
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL)
        out.writerow(header)
        for i in range(households):
            row = list(body[i % len(body)])
            row[uid], row[iid] = str(uuid.uuid4()), str(first_id + i)
            out.writerow(row)


def floor(path: Path) -> float:
    """DuckDB itself on the new file: read_csv into a table, one GROUP BY of a needs question by region."""
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', delim=';', header=true)")
    con.execute('SELECT "location/admin1", "needs/water_source", count(*) FROM t GROUP BY ALL').fetchall()
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def skip_checks() -> None:
    """Without --checks: the clean step without the quality checks. The grown history is copies of 2,000
    households, every one an exact duplicate of hundreds of others: pairing soft duplicates then grows with the
    square of the copies, a cost of the synthetic data, not of an increment of real households."""
    import assess.clean.run as run
    from assess.clean.checks import start_findings

    run.run_checks = lambda con, settings, form: start_findings(con)  # type: ignore[assignment]


def check_history(root: Path) -> None:
    """Run the quality checks once on the grown round and remember their findings (as the runs that loaded the
    history did), so that the increment's log holds only its own households' findings. The log's XLSX of the
    copies' findings is not written (openpyxl would take minutes on a million lines)."""
    import assess.clean.log as log

    settings = load_settings(root / "assessment.toml")
    form = read_form(settings)
    con = connect(settings.store_path)
    xlsx, log._xlsx = log._xlsx, lambda rows, form: b""
    try:
        clean_round(con, settings, form, "bench-history", [], hash_key())
    finally:
        log._xlsx = xlsx
        con.close()


def drop_plan(root: Path) -> None:
    """Take the analysis plan out of the config and estimate once without it (the stored sums stay)."""
    config = root / "assessment.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('plan = "data/forms/analysis_plan.csv"', ""), encoding="utf-8")
    settings = load_settings(config)
    con = connect(settings.store_path)
    try:
        refresh_estimates(con, settings, read_form(settings), "bench-no-plan")
    finally:
        con.close()


def increment(root: Path, run_id: str) -> dict[str, float]:
    """The flow's steps after Prefect's start, for the inbox's new file; seconds per step."""
    settings = load_settings(root / "assessment.toml")
    form = read_form(settings)
    new = sorted(settings.inbox.glob("kobo_export_increment*.csv"))
    times: dict[str, float] = {}
    t = time.perf_counter()
    outcomes = [stage_file(p, settings, form) for p in new]
    times["stage"] = time.perf_counter() - t
    con = connect(settings.store_path)
    try:
        key = hash_key()
        t = time.perf_counter()
        load_batch(
            con,
            outcomes,
            settings,
            form,
            run_id,
            key,
            write_receipts=lambda o: write_receipts(o, settings, form),
        )
        times["load"] = time.perf_counter() - t
        t = time.perf_counter()
        clean_round(con, settings, form, run_id, [], key)
        times["clean"] = time.perf_counter() - t
        t = time.perf_counter()
        done = refresh_estimates(con, settings, form, run_id)
        times["estimate"] = time.perf_counter() - t
        assert done.redone, done
        t = time.perf_counter()
        run_partners(con, settings, form)
        times["partners"] = time.perf_counter() - t
    finally:
        con.close()
    return times


def cli(root: Path, households: int) -> tuple[float, float]:
    """Wall seconds of `assess run --no-reports` on a second increment, and of a trivial Prefect flow."""
    import subprocess

    from bench_prefect_start import FLOW, one

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(root.parent / "prefect-home")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    one(FLOW, env)  # migrate the Prefect home once, as an installed machine has it
    write_increment(root / "data/raw/kobo_export_increment2.csv", households, first_id=950_000_000)
    args = [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        "--no-reports",
        "--config",
        str(root / "assessment.toml"),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, statistics.median(one(FLOW, env) for _ in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--increment", type=int, default=1_000)
    ap.add_argument(
        "--checks",
        action="store_true",
        help="keep the quality checks in (left out by default: see skip_checks)",
    )
    ap.add_argument("--cli", action="store_true", help="also time the real CLI on a second increment")
    ap.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile of the increment here")
    ap.add_argument(
        "--no-plan",
        action="store_true",
        help="without the demo's analysis plan (its medians read every household: see RESULTS.md)",
    )
    args = ap.parse_args()
    if not args.checks:
        skip_checks()
    with tempfile.TemporaryDirectory(prefix="bench-increment-") as tmp:
        root = Path(tmp) / "demo"
        t0 = time.perf_counter()
        build(root, args.households, args.files, reports=False)
        check_history(root)
        if args.no_plan:
            drop_plan(root)
        built = time.perf_counter() - t0
        path = root / "data/raw/kobo_export_increment.csv"
        write_increment(path, args.increment)
        floor_s = floor(path)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        times = increment(root, "bench-increment")
        if args.profile:
            profiler.stop()
            args.profile.write_text(profiler.output_html())
            print(profiler.output_text(color=False, show_all=False))
        cli_s = cli(root, args.increment) if args.cli else None
    total = sum(times.values())
    load = os.getloadavg()[0]
    print(f"\nIncrement benchmark ({os.cpu_count()} CPUs, load average {load:.1f}; built in {built:.0f} s)\n")
    steps = list(times)
    print("" if args.checks else "(quality checks left out: --checks keeps them)")
    print(f"| households | increment | {' | '.join(f'{s} s' for s in steps)} | total s | floor s | ratio |")
    print("|---:|---:|" + "---:|" * len(steps) + "---:|---:|---:|")
    print(
        f"| {args.households:,}{' (no plan)' if args.no_plan else ''} | {args.increment:,} | {' | '.join(f'{times[s]:.2f}' for s in steps)} "
        f"| {total:.2f} | {floor_s:.3f} | {total / floor_s:.0f}x |"
    )
    if cli_s:
        wall, prefect = cli_s
        print(
            f"\n`assess run --no-reports` on a second increment: {wall:.2f} s wall; a trivial Prefect flow "
            f"{prefect:.2f} s; the difference, the increment after Prefect's start: {wall - prefect:.2f} s"
        )


if __name__ == "__main__":
    main()
