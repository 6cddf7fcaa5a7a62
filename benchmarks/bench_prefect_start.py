"""What Prefect costs before any work starts: a trivial flow called in a fresh Python process.

    .venv/bin/python benchmarks/bench_prefect_start.py [--repeat 3]

Variants (each in a new process, wall time from process start to the flow's return):

* `import prefect` only - the floor every CLI call that runs a flow pays;
* embedded server, fresh PREFECT_HOME - first run on a machine (database migrations);
* embedded server, warm PREFECT_HOME - `assess run` as shipped (settings from flows/__init__.py);
* embedded server, warm, tuned - plus skipping block registration and the migration check;
* running server - `prefect server start` already up (SQLite), PREFECT_API_URL set: what `assess serve`,
  workers and a data officer with a long-running server get.

Prints a results table (median and min over the repeats). The machine's load matters: note `uptime`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.deploy import free_port, start_server, stop_group, wait_healthy  # noqa: E402

FLOW = """
import time, sys
t0 = float(sys.argv[1])
import flows  # the pipeline's Prefect defaults
from prefect import flow
@flow
def noop() -> int:
    return 1
assert noop() == 1
print(f"RESULT {time.time() - t0:.2f}")
"""
IMPORT_ONLY = """
import time, sys
t0 = float(sys.argv[1])
import flows, prefect
print(f"RESULT {time.time() - t0:.2f}")
"""
TUNED = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false",
}


def one(code: str, env: dict[str, str]) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", code, repr(time.time())],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return float(line.split()[1])
    raise RuntimeError(f"benchmark process failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp:
        warm = {**base, "PREFECT_HOME": f"{tmp}/warm"}
        one(FLOW, warm)  # migrate the warm home once
        for i in range(args.repeat):
            results.setdefault("import prefect only", []).append(one(IMPORT_ONLY, warm))
            results.setdefault("embedded server, fresh PREFECT_HOME", []).append(
                one(FLOW, {**base, "PREFECT_HOME": f"{tmp}/fresh{i}"})
            )
            results.setdefault("embedded server, warm PREFECT_HOME", []).append(one(FLOW, warm))
            results.setdefault("embedded server, warm, tuned", []).append(one(FLOW, {**warm, **TUNED}))
        port = free_port()
        server_home = {**base, "PREFECT_HOME": f"{tmp}/server"}
        started = time.monotonic()
        proc = start_server(port, env=server_home, log=Path(tmp) / "server.log")
        try:
            wait_healthy(f"http://127.0.0.1:{port}/api", proc)
            results["(start of `prefect server start` itself)"] = [round(time.monotonic() - started, 2)]
            client = {**server_home, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
            for _ in range(args.repeat):
                results.setdefault("running server (PREFECT_API_URL)", []).append(one(FLOW, client))
        finally:
            stop_group(proc)
    load = os.getloadavg()
    print(
        f"\nPrefect start cost: a trivial flow in a fresh process; {args.repeat} repeat(s); "
        f"{os.cpu_count()} CPUs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n"
    )
    width = max(len(k) for k in results)
    print(f"| {'variant'.ljust(width)} | median s | min s |")
    print(f"|{'-' * (width + 2)}|---------:|------:|")
    for name, values in results.items():
        print(f"| {name.ljust(width)} | {statistics.median(values):8.1f} | {min(values):5.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
