"""Is there anything for a run to do? The check `assess run` makes before it starts Prefect.

Nothing is new when every inbox file is already processed in this round, no input of the estimates (and of the
reports, when they are wanted) changed since they were last made, the report files are still there, and no
killed run left work for the next one (receipts to write, staging to sweep). The store lock is tried, not
waited for: a run in progress means "not nothing new" (the run then waits its turn).
Inbox files are recognised by (path, size, modification time) from `inbox_hashes`, so a check reads no file
content; a file with another size or time is hashed again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import table_exists
from ..core.summary import HouseholdCounts
from ..inbox.archive import sha256_file
from ..inbox.discover import inbox_files
from ..ops.lock import StoreBusy, store_lock
from . import inputs
from .connection import StoreVersionError, connect

SETTLE_SECONDS = 2.0  # a file younger than this may still be written: the run's own discovery decides


@dataclass(frozen=True)
class NothingNew:
    files: int  # loaded files of the round
    run_id: str
    when: str
    reports: bool
    households: str  # the households sentence of the estimates

    def message(self) -> str:
        what = "estimates and reports are" if self.reports else "estimates are"
        return (
            f"Nothing new: {self.files:,} file{'s' if self.files != 1 else ''} already loaded; {what} up to date "
            f"(run {self.run_id} at {self.when})."
        )


def known_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, str]]:
    return {p: (size, mtime, sha) for p, size, mtime, sha in con.execute(_SELECT_HASHES).fetchall()}


_SELECT_HASHES = "SELECT path, size, mtime_ns, sha256 FROM inbox_hashes"
_KILLED = "SELECT count(*) FROM runs WHERE round = ? AND status = 'loading'"


def inbox_shas(files: list[Path], known: dict[str, tuple[int, int, str]]) -> dict[Path, tuple[int, int, str]]:
    """path -> (size, mtime_ns, sha256): from `known` when size and time match, else hashed now."""
    out: dict[Path, tuple[int, int, str]] = {}
    for p in files:
        try:
            st = p.stat()
            cached = known.get(str(p))
            if cached and cached[:2] == (st.st_size, st.st_mtime_ns):
                out[p] = cached
                continue
            sha = sha256_file(p)
            after = p.stat()
            if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
                continue  # changed while hashed: not known
            out[p] = (st.st_size, st.st_mtime_ns, sha)
        except OSError:
            continue  # vanished while looked at
    return out


def _processed(con: duckdb.DuckDBPyConnection, round_: str | None = None) -> set[str]:
    """The sha256 of every dropped file a run has dealt with (of `round_`, else any): exports in `files`,
    filled cleaning logs in `cleaning_logs` (issue 17)."""
    where = "" if round_ is None else " WHERE round = $round"
    params = {} if round_ is None else {"round": round_}
    query = f"SELECT sha256 FROM files{where}"
    if table_exists(con, "cleaning_logs"):
        query += f" UNION SELECT sha256 FROM cleaning_logs{where}"
    return {r[0] for r in con.execute(query, params).fetchall()}


def remember_inbox(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Keep (path, size, time) -> sha256 of the inbox files already processed (in any round); forget the rest.
    The caller holds the store lock and a writable connection."""
    files = inbox_files(settings)
    shas = inbox_shas(files, known_hashes(con))
    processed = _processed(con)
    rows = [[str(p), size, mtime, sha] for p, (size, mtime, sha) in shas.items() if sha in processed]
    con.execute("DELETE FROM inbox_hashes")
    if rows:
        con.executemany("INSERT OR REPLACE INTO inbox_hashes VALUES (?, ?, ?, ?)", rows)


def nothing_new(settings: Settings, *, reports: bool, reload_into_round: bool = False) -> NothingNew | None:
    """A `NothingNew` when the run would redo nothing; None when it has something to do (or cannot tell)."""
    if reload_into_round or not settings.store_path.exists():
        return None
    try:
        with store_lock(settings.lock_path, wait=0):
            con = connect(settings.store_path, read_only=True)
            try:
                return _check(con, settings, reports)
            finally:
                con.close()
    except (StoreBusy, StoreVersionError, duckdb.Error):
        return None


def _check(con: duckdb.DuckDBPyConnection, settings: Settings, reports: bool) -> NothingNew | None:
    files = inbox_files(settings)
    now = time.time()
    try:
        if any(now - p.stat().st_mtime < SETTLE_SECONDS for p in files):
            return None  # maybe still being written: the run decides, and says so
    except OSError:
        return None
    if con.execute(_KILLED, [settings.round]).fetchone() != (0,):
        return None  # a killed run's receipts and staging are finished by the next run: let it run
    if settings.staging_root.is_dir() and any(settings.staging_root.iterdir()):
        return None  # staging leftovers (raw answers) are swept by a run
    seen = _processed(con, settings.round)
    shas = inbox_shas(files, known_hashes(con))
    if len(shas) != len(files) or any(sha not in seen for _, _, sha in shas.values()):
        return None  # a new file, or one loaded under another round (the run says it skips it)
    estimate = inputs.plan(con, settings, inputs.ESTIMATE)
    last = estimate.last
    if last is None or not estimate.up_to_date or not last.result.get("households", {}).get("interviewed"):
        return None
    if reports:
        report = inputs.plan(con, settings, inputs.REPORT)
        if not report.up_to_date or report.last is None:
            return None
        if not all(Path(p).is_file() for p in report.last.result.get("paths", [])):
            return None
        last = report.last
    loaded = con.execute(
        "SELECT count(*) FROM files WHERE round = ? AND status = 'loaded'", [settings.round]
    ).fetchone()
    counts = HouseholdCounts(**estimate.last.result["households"])  # type: ignore[union-attr]
    word = estimate.last.result.get("declined_word", "declined")  # type: ignore[union-attr]
    return NothingNew(
        files=int(loaded[0]) if loaded else 0,
        run_id=last.run_id,
        when=last.when(),
        reports=reports,
        households=counts.sentence(word),
    )
