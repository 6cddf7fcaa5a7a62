"""Build a loaded, estimated store from an assessment folder without Prefect (for report and export tests).

The same sequence as `flows/run.py`: discover -> stage_file -> load_outcome -> run_estimates, called
directly. Use it on a copy of the demo (`demo_dir` fixture) or a session-scoped copy of `demo_template`.
"""

from __future__ import annotations

from pathlib import Path

from assess import analysis, ingest, store
from assess.privacy import hash_key
from assess.settings import Settings, load_settings
from assess.xlsform import XLSForm, read_xlsform


def build_store(root: Path, run_id: str = "test-run") -> tuple[Settings, XLSForm, dict]:
    """Load every export in `root`'s inbox and compute the estimates; returns (settings, form, run dict)."""
    settings = load_settings(Path(root) / "assessment.toml")
    form = read_xlsform(settings.xlsform)
    analysis.check_config_against_form(settings, form)
    outcomes = [ingest.stage_file(p, settings, form) for p in ingest.discover(settings)]
    con = store.connect(settings.store_path)
    try:
        key = hash_key(settings)
        for out in outcomes:
            ingest.load_outcome(con, out, settings, form, run_id, key)
        estimates = analysis.run_estimates(con, settings, form)
    finally:
        con.close()
    for out in outcomes:
        ingest.cleanup_staging(settings, out)
    run = {"run_id": run_id, "round": settings.round, "files": [o.summary() for o in outcomes],
           "estimates": estimates}
    return settings, form, run
