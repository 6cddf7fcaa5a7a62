"""Benchmark: render the national report plus N region reports (default 50) from a synthetic store.

The demo form and config give the questions and labels; the store is synthetic: N first-level regions with
3 districts each, 20 households per district, estimates for the demo's needs questions. Prints a results
table (reports, pages, workers, seconds). Target (issue 15, case f): 50 region reports + national under 30 s
on 2 cores.

    python benchmarks/bench_reports.py [--regions 50] [--workers 2] [--workers 1]

CPU seconds (parent + pool workers) are the stable figure on a shared machine; wall seconds depend on load.
The parent composes the pages (queries, charts, HTML) while the pool renders the ones already composed, so
on an idle machine the wall time is about the CPU seconds divided by the workers.
WeasyPrint subsets fonts with HarfBuzz when Debian's `libharfbuzz-subset0` is installed and falls back to
fontTools otherwise ("Using fontTools instead of HarfBuzz-Subset"): measured here, that fallback costs about
0.6 s of CPU per PDF (a 3-page region report: 2.2 s -> 1.55 s with HarfBuzz).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ASSESS_HASH_KEY", "bench-key-not-secret")

from assess.core.settings import load_settings  # noqa: E402
from assess.core.summary import RunSummary  # noqa: E402
from assess.core.xlsform import read_form  # noqa: E402
from assess.demo import write_demo  # noqa: E402
from assess.estimate.run import ESTIMATE_COLUMNS  # noqa: E402
from assess.report.build import build_reports
from assess.store.connection import connect


def synthetic_store(path: Path, settings, form, regions: int) -> None:
    """A store with `regions` regions x 3 districts: files, submissions, estimates (no quarantine)."""
    rng = random.Random(6)
    con = connect(path)
    for col in ("admin1", "admin2", "start", "cluster_id"):
        con.execute(f'ALTER TABLE submissions ADD COLUMN IF NOT EXISTS "{col}" VARCHAR')
    files = ["kobo_export_a.csv", "kobo_export_b.xlsx", "odk_central_c.csv"]
    for i, name in enumerate(files):
        con.execute(
            "INSERT INTO files (sha256, round, name, format, rows, accepted, quarantined, warnings, status, "
            "received_at, processed_at, run_id) VALUES (?, ?, ?, 'kobo_csv', ?, ?, 0, 0, 'loaded', now(), "
            "now(), 'bench')",
            [f"{i:064x}", settings.round, name, regions * 20, regions * 20],
        )
    con.execute(
        "INSERT INTO submissions (round, submission_id, source_file, source_sha256, source_row, loaded_at, admin1, "
        "admin2, start, cluster_id) SELECT $round, 'u' || r || '-' || d || '-' || h, "
        "$files[1 + (h % 3)], 'x', h, now(), printf('B%02d', r), printf('B%02d-%d', r, d), "
        "printf('2026-11-%02dT09:00:00', 2 + (h % 12)), printf('C%02d-%d-%d', r, d, h % 4) "
        "FROM range(1, $n + 1) a(r), range(1, 4) b(d), range(20) c(h)",
        {"round": settings.round, "files": files, "n": regions},
    )
    areas = [("national", "all", 20 * 3 * regions)]
    for r in range(1, regions + 1):
        areas.append(("admin1", f"B{r:02d}", 60))
        areas += [("admin2", f"B{r:02d}-{d}", 20) for d in range(1, 4)]
    rows = []
    for level, area, n in areas:
        for name in settings.needs:
            q = form.questions.get(name)  # None: an [[indicators.members]] count or share
            if q is None or q.type in ("integer", "decimal"):
                est = rng.uniform(4, 8)
                se = rng.uniform(0.1, 0.4)
                rows.append(
                    (
                        settings.round,
                        level,
                        area,
                        name,
                        "",
                        est,
                        est - 2 * se,
                        est + 2 * se,
                        n,
                        None,
                        se,
                        float(n),
                        100,
                        False,
                    )
                )
                continue
            for option in form.choice_names(name):
                est = rng.betavariate(2, 5)
                se = (est * (1 - est) / n) ** 0.5
                suppressed = n < 25 and rng.random() < 0.05
                rows.append(
                    (
                        settings.round,
                        level,
                        area,
                        name,
                        option,
                        est,
                        est - 2 * se,
                        est + 2 * se,
                        n,
                        round(est * n),
                        se,
                        float(n),
                        100,
                        suppressed,
                    )
                )
    cols = [c for c in ESTIMATE_COLUMNS if c not in ("unit", "n_households")]
    con.executemany(f"INSERT INTO estimates ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    con.execute("UPDATE estimates SET unit = 'household', n_households = n")
    con.close()


def pages_of(paths: list[Path]) -> int:
    from pypdf import PdfReader

    return sum(len(PdfReader(p).pages) for p in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=50)
    parser.add_argument("--workers", type=int, action="append", help="pool size (repeatable); default 2")
    args = parser.parse_args()
    workers_list = args.workers or [2]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        write_demo(root)
        settings = load_settings(root / "assessment.toml")
        settings = dataclasses.replace(settings, processed=Path(tmp) / "processed", frame=None)
        form = read_form(settings)
        synthetic_store(settings.store_path, settings, form, args.regions)
        results = []
        for workers in workers_list:
            con = connect(settings.store_path, read_only=True)
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0, c0 = time.perf_counter(), time.process_time()
            paths = build_reports(con, settings, form, RunSummary("bench", settings.round), workers=workers)
            seconds = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            parent = time.process_time() - c0
            cpu = parent + (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            con.close()
            results.append((len(paths) - 1, pages_of(paths), workers, seconds, cpu, parent))
        load = os.getloadavg()[0]
    print(f"\nReport rendering benchmark ({os.cpu_count()} CPUs, load average {load:.1f} at the end)\n")
    print(
        "| region reports | + national | pages | workers | wall s | CPU s | of which composing s | "
        "CPU s / workers (wall on an idle machine) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, pages, workers, seconds, cpu, parent in results:
        print(
            f"| {n} | 1 | {pages} | {workers} | {seconds:.1f} | {cpu:.1f} | {parent:.1f} | {cpu / workers:.1f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
