"""The layout-refactor baseline: the demo plus files with bad rows, run through the real CLI.

`python -m tests.baseline OUT_DIR` writes `estimates.csv` and `quarantine.csv` as `assess export` gives
them. The copies committed under tests/data/baseline/ were made with the code before the move into
sub-packages (issue 11); `tests/test_baseline.py` runs the same thing on today's code and compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.corpus import _csv_text, _fresh_ids, _set, demo_rows

BASELINE_KEY = "baseline-key-not-secret"


def write_inbox_extras(demo_dir: Path) -> None:
    """Files with row-level problems and two unusable files, beside the demo's own exports."""
    header, base = demo_rows(demo_dir, n=12)
    inbox = demo_dir / "data" / "raw"
    bad = _fresh_ids(header, base, "baseline_bad")
    bad = _set(
        header, bad, "household-hh_size", ["99", "4", "0", "5", "6", "abc", "3", "4", "2", "7", "3", "5"]
    )
    bad = _set(
        header,
        bad,
        "needs-water_source",
        [
            "piped",
            "bottled_champagne",
            "piped",
            "",
            "piped",
            "piped",
            "piped",
            "piped",
            "piped",
            "piped",
            "piped",
            "piped",
        ],
    )
    (inbox / "zz_bad_rows.csv").write_text(_csv_text(header, bad), encoding="utf-8")
    (inbox / "zz_empty.csv").write_bytes(b"")
    other = ["KEY", "SubmissionDate", "crop", "yield_kg", "field_size", "irrigated", "farmer_group"]
    rows = [[f"uuid:other-{i}", "2026-11-02", "maize", "1200", "2.5", "yes", "G1"] for i in range(12)]
    (inbox / "zz_other_form.csv").write_text(_csv_text(other, rows), encoding="utf-8")


def make(out: Path, extra_env: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Write the demo into `out/demo`, run it without reports and export both tables; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "ASSESS_HASH_KEY": BASELINE_KEY, **(extra_env or {})}
    demo = out / "demo"
    subprocess.run([bindir / "assess", "demo", str(demo)], check=True, env=env, capture_output=True)
    write_inbox_extras(demo)
    for f in sorted((demo / "data" / "raw").iterdir()):  # oldest first is the load order: make it fixed
        os.utime(f, (1_700_000_000 + len(f.name), 1_700_000_000 + len(f.name)))
    run = subprocess.run(
        [bindir / "assess", "run", "--no-reports"], cwd=demo, env=env, capture_output=True, text=True
    )
    assert run.returncode in (0, 4), run.stdout + run.stderr
    paths = out / "estimates.csv", out / "quarantine.csv"
    for table, path in zip(("estimates", "quarantine"), paths, strict=True):
        subprocess.run(
            [bindir / "assess", "export", table, "--out", str(path)],
            cwd=demo,
            env=env,
            check=True,
            capture_output=True,
        )
    return paths


if __name__ == "__main__":
    make(Path(sys.argv[1]))
