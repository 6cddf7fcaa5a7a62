"""Build a loaded, estimated store from an assessment folder without Prefect (for report and export tests).

The same sequence as `flows/run.py`: discover -> stage_file -> load_outcome -> clean_round -> run_estimates ->
run_partners, called
directly. Use it on a copy of the demo (`demo_dir` fixture) or a session-scoped copy of `demo_template`.
"""

from __future__ import annotations

from pathlib import Path

from assess.clean.run import clean_round, split_logs
from assess.core.privacy import hash_key
from assess.core.settings import Settings, load_settings
from assess.core.summary import RunSummary
from assess.core.xlsform import XLSForm, read_form
from assess.estimate.run import check_config_against_form, run_estimates
from assess.inbox.discover import inbox_files
from assess.partners.run import run_partners
from assess.store.connection import connect
from assess.store.runs import cleanup_staging, load_outcome
from assess.validate.stage import stage_file


def build_store(root: Path, run_id: str = "test-run") -> tuple[Settings, XLSForm, RunSummary]:
    """Load every export in `root`'s inbox and compute the estimates; returns (settings, form, run summary)."""
    settings = load_settings(Path(root) / "assessment.toml")
    form = read_form(settings)
    check_config_against_form(settings, form)
    exports, logs = split_logs(inbox_files(settings))
    outcomes = [stage_file(p, settings, form) for p in exports]
    con = connect(settings.store_path)
    try:
        key = hash_key()
        for out in outcomes:
            load_outcome(con, out, settings, form, run_id, key)
        clean_round(con, settings, form, run_id, logs, key)
        estimates = run_estimates(con, settings, form)
        run_partners(con, settings, form)
    finally:
        con.close()
    for out in outcomes:
        cleanup_staging(settings, out)
    run = RunSummary(
        run_id=run_id, round=settings.round, files=[o.summary() for o in outcomes], estimates=estimates
    )
    return settings, form, run
