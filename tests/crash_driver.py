"""Run the assessment's load path in this process, without Prefect (for crash tests).

    python tests/crash_driver.py CONFIG [--fast-validation] [--drop-from DIR]

The library calls of `flows.run.run_assessment` up to the store (discover -> stage -> lock ->
`load_batch`), so a test can SIGKILL it at a crash point (ASSESS_CRASH_AT, assess/faults.py)
without paying Prefect's import and server start for every case; one test in test_crash.py kills the real
`assess run`. `--fast-validation` swaps the Great Expectations suite for the submission-id checks only:
crash tests are about what the store and the archive hold, not about which rows fail which rule.
`--drop-from DIR` copies DIR's files into the inbox after staging, as if dropped while the run is in
progress. Prints one JSON line: the run's file summaries.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from assess.clean.run import split_logs
from assess.inbox.archive import sha256_file
from assess.inbox.discover import inbox_files, seen_files
from assess.report.receipts import write_receipts
from assess.store.connection import connect
from assess.store.runs import load_batch
from assess.validate.stage import stage_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fast_validate(staged, form, settings, *, workdir):
    import duckdb

    from assess.core.problems import Problem, ValidationResult

    con = duckdb.connect()
    path = str(staged.path).replace("'", "''")
    rows = con.execute(
        f"SELECT _row, _sid FROM read_parquet('{path}') WHERE _sid IS NULL OR _sid IN "
        f"(SELECT _sid FROM read_parquet('{path}') GROUP BY _sid HAVING count(*) > 1)"
    ).fetchall()
    seen: set[str] = set()
    problems = []
    for row, sid in sorted(rows):
        if sid is None or sid in seen:
            problems.append(
                Problem(
                    expectation="expect_column_values_to_be_unique",
                    kind="unique",
                    row=row,
                    submission_id=sid,
                    reason="submission id empty or repeated",
                )
            )
        seen.add(sid)
    return ValidationResult(problems=problems, rules=1)


def main(argv: list[str]) -> None:
    from assess.core.settings import load_settings
    from assess.core.xlsform import read_form
    from assess.ops.lock import store_lock

    config = argv[0]
    if "--fast-validation" in argv:
        import assess.validate.stage as stage_module

        stage_module.validate = fast_validate
    settings = load_settings(config)
    form = read_form(settings)
    run_id = uuid.uuid4().hex[:12]
    seen = seen_files(settings)
    paths, _ = split_logs(
        [p for p in inbox_files(settings) if sha256_file(p) not in seen]
    )  # logs: not exports
    outcomes = [stage_file(p, settings, form) for p in paths]
    if "--drop-from" in argv:  # files dropped into the inbox while this run is in progress
        import shutil

        for f in sorted(Path(argv[argv.index("--drop-from") + 1]).iterdir()):
            shutil.copy2(f, settings.inbox / f.name)
    with store_lock(settings.lock_path, wait=120):
        con = connect(settings.store_path)
        try:
            load_batch(
                con,
                outcomes,
                settings,
                form,
                run_id,
                os.environ["ASSESS_HASH_KEY"],
                write_receipts=lambda out: write_receipts(out, settings, form),
            )
        finally:
            con.close()
    print(json.dumps([o.summary() for o in outcomes], default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
