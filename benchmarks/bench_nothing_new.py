"""Benchmark (e): `assess run` with nothing new, on a store of many households (issue 15: under 1 s).

    python benchmarks/bench_nothing_new.py [--households 200000] [--files 10] [--repeats 5]
    python benchmarks/bench_nothing_new.py --households 1000000 --files 50      # the issue's case

Builds the demo through the real pipeline (2,000 households), grows its round to `--households` by copying
households (submissions and selections), writes them as `--files` CSV exports into the inbox (the store
records those files as loaded), then makes the estimates and reports once (the registry records their
inputs). Then it times the real CLI, `python -m flows.cli run`, in a fresh process each time: it must say
"Nothing new" and start no Prefect. The table gives its wall and CPU time (CPU is the stable figure on a
shared machine), and splits it into Python's own start, the imports (typer, rich, DuckDB, assess), reading
the config and form, and the nothing-new check itself (in-process, after the imports).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("ASSESS_HASH_KEY", "bench-key-not-secret")

from assess.core.settings import load_settings  # noqa: E402
from assess.core.summary import RunSummary  # noqa: E402
from assess.core.xlsform import read_form  # noqa: E402
from assess.demo import write_demo  # noqa: E402
from assess.estimate.refresh import refresh_estimates  # noqa: E402
from assess.inbox.archive import sha256_file  # noqa: E402
from assess.report.refresh import refresh_reports  # noqa: E402
from assess.store.connection import connect  # noqa: E402
from assess.store.uptodate import nothing_new  # noqa: E402
from tests._store import build_store  # noqa: E402

# as installed: bytecode cached (the first timed run writes it), the repository first on the path
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))


def _backdate(folder: Path) -> None:
    old = time.time() - 3600
    for p in folder.iterdir():
        os.utime(p, (old, old))


def build(root: Path, households: int, files: int, reports: bool = True) -> None:
    write_demo(root, households=2000)
    _backdate(root / "data/raw")
    settings, _, _ = build_store(root)
    con = connect(settings.store_path)
    params = {"round": settings.round}
    con.execute("CREATE TEMP TABLE base AS SELECT * FROM submissions WHERE round = $round", params)
    base = con.execute("SELECT count(*) FROM base").fetchone()[0]  # type: ignore[index]
    copies = -(-households // base)
    con.execute("DELETE FROM selections WHERE round = $round", {"round": settings.round})
    con.execute(
        "CREATE TEMP TABLE grown AS SELECT b.submission_id AS src, b.submission_id || '#' || c AS sid "
        "FROM base b, range($copies) r(c) ORDER BY c, src LIMIT $n",
        {"copies": copies, "n": households},
    )
    con.execute(
        "INSERT INTO submissions SELECT b.* REPLACE (g.sid AS submission_id) FROM grown g "
        "JOIN base b ON b.submission_id = g.src"
    )
    con.execute("DELETE FROM submissions WHERE round = $round AND submission_id NOT LIKE '%#%'", params)
    raw = root / "data/raw"
    for p in raw.iterdir():
        p.unlink()
    con.execute("DELETE FROM files WHERE round = $round", params)
    for i in range(files):
        path = raw / f"kobo_export_part{i + 1:02d}.csv"
        part = f"round = $round AND hash(submission_id) % {files} = {i}"
        # each household's lineage names its file and row, as a load writes it (the buckets of the stored sums
        # of the estimates are 10,000 source rows of a file)
        con.execute(
            f"UPDATE submissions AS s SET source_file = $name, source_sha256 = $sha, source_row = r.row "
            f"FROM (SELECT submission_id, 1 + row_number() OVER (ORDER BY submission_id) AS row FROM submissions "
            f"WHERE {part}) AS r WHERE s.round = $round AND s.submission_id = r.submission_id",
            {"round": settings.round, "name": path.name, "sha": f"{i:064x}"},
        )
        con.execute(
            f"COPY (SELECT * FROM submissions WHERE {part} ORDER BY submission_id) TO '{path}' (HEADER)",
            {"round": settings.round},
        )
        rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        con.execute(
            "INSERT INTO files (sha256, round, name, format, rows, accepted, quarantined, warnings, status, "
            "processed_at, run_id) VALUES (?, ?, ?, 'kobo_csv', ?, ?, 0, 0, 'loaded', now(), 'bench')",
            [sha256_file(path), settings.round, path.name, rows, rows],
        )
    _backdate(raw)
    form = read_form(settings)
    done = refresh_estimates(con, settings, form, "bench-build")
    con.close()
    assert done.summary.households.interviewed == households, done.summary.households
    if reports:
        refresh_reports(settings, form, RunSummary("bench-build", settings.round))


CPU: list[float] = []  # CPU seconds (user + system) of each process `_wall` ran


def _wall(args: list[str], cwd: Path) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nothing-new-") as tmp:
        root = Path(tmp) / "demo"
        t0 = time.perf_counter()
        build(root, args.households, args.files)
        built = time.perf_counter() - t0
        config = root / "assessment.toml"
        py = [sys.executable]
        cli = [*py, "-m", "flows.cli", "run", "--config", str(config)]
        _wall(cli, root)  # writes the bytecode caches, as an installed package has them
        CPU.clear()
        runs = [_wall(cli, root) for _ in range(args.repeats)]
        cli_cpu = statistics.median(CPU)
        for _, out in runs:
            if not out.startswith("Nothing new:") or "Prefect:" in out:
                raise SystemExit(f"not a nothing-new run:\n{out}")
        python = statistics.median(_wall([*py, "-c", "pass"], root)[0] for _ in range(args.repeats))
        modules = "import flows.cli, duckdb, assess.store.uptodate, assess.core.xlsform"
        imports = statistics.median(_wall([*py, "-c", modules], root)[0] for _ in range(args.repeats))
        t1 = time.perf_counter()
        settings = load_settings(config)
        read_form(settings)
        config_s = time.perf_counter() - t1
        checks = []
        for _ in range(args.repeats):
            t2 = time.perf_counter()
            assert nothing_new(settings, reports=True) is not None
            checks.append(time.perf_counter() - t2)
        store_mb = settings.store_path.stat().st_size / 1e6
        inbox_mb = sum(p.stat().st_size for p in settings.inbox.iterdir()) / 1e6
        wall = statistics.median(s for s, _ in runs)
    load = os.getloadavg()[0]
    print(
        f"\nNothing-new benchmark ({os.cpu_count()} CPUs, load average {load:.1f}; built in {built:.0f} s)\n"
    )
    print(runs[0][1].strip())
    print()
    print(
        "| households | inbox files (MB) | store MB | `assess run` wall s (median) | its CPU s | python start s "
        "| imports (CLI, DuckDB, assess) s | config + form s | nothing-new check s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.households:,} | {args.files} ({inbox_mb:,.0f}) | {store_mb:,.0f} | {wall:.2f} | {cli_cpu:.2f} "
        f"| {python:.2f} | {imports - python:.2f} | {config_s:.2f} | {statistics.median(checks):.2f} |"
    )


if __name__ == "__main__":
    main()
