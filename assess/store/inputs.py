"""The input registry: every input a round's estimates and reports are computed from, fingerprinted in one place.

A stage ("estimate", "report") records the fingerprints of the inputs it used (`stage_inputs`) beside what it
produced (`stage_runs`). The next run compares: when no input of a stage changed, the stage is up to date and
is not redone; otherwise `Plan.changed` names what did, so a `[report]` option re-renders the reports only.
Adding an input (an analysis plan, cleaning logs, a 3W list, boundaries) is one `register(...)` line below.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from ..core.packaged import templates_dir
from ..core.settings import Settings
from ..core.sqlutil import named_query, table_exists, transaction
from ..inbox.archive import sha256_file

ESTIMATE, REPORT = "estimate", "report"
BOTH = (ESTIMATE, REPORT)
STAGES = BOTH

# (fingerprint, detail): the detail is kept for a later "what changed" answer (e.g. the list of loaded files)
Print = tuple[str, str | None]
Fingerprint = Callable[[duckdb.DuckDBPyConnection, Settings], Print]


@dataclass(frozen=True)
class Input:
    name: str
    stages: tuple[str, ...]  # the stages that must be redone when it changes
    fingerprint: Fingerprint


REGISTRY: dict[str, Input] = {}


def register(name: str, stages: Iterable[str], fingerprint: Fingerprint) -> None:
    """Add an input: `fingerprint(con, settings)` -> (a short stable text, detail or None)."""
    REGISTRY[name] = Input(name, tuple(stages), fingerprint)


def _digest(parts: Iterable[str | bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _file(path: Path | None) -> Print:
    if path is None:
        return "none", None
    try:
        return sha256_file(path), None
    except OSError:
        return "missing", None


def _files_with(status: str) -> Fingerprint:
    def fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
        rows = con.execute(_q("inputs_files"), {"round": settings.round, "status": status}).fetchall()
        shas = [r[0] for r in rows]
        return _digest(shas), json.dumps(shas)

    return fingerprint


def _earlier_rounds(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
    """Trends compare with the other rounds' estimates: their size and sum stand for them."""
    rows = con.execute(_q("inputs_other_rounds"), {"round": settings.round}).fetchall()
    return _digest(repr(r) for r in rows), None


def _templates(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
    root = templates_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return _digest(x for p in files for x in (p.relative_to(root).as_posix(), p.read_bytes())), None


def _package(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
    try:
        return version("assess"), None
    except PackageNotFoundError:
        return "unknown", None


def _estimates(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
    """The reports are rendered from the round's latest estimates: the run that made them."""
    last = last_stage(con, settings.round, ESTIMATE)
    return (last.run_id if last else "none"), None


@cache
def _config_sections(path: Path, mtime_ns: int, size: int) -> dict[str, str]:
    data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    return {k: _digest([json.dumps(v, sort_keys=True, default=str)]) for k, v in data.items()}


def _config(section: str) -> Fingerprint:
    def fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
        st = settings.config_path.stat()
        sections = _config_sections(settings.config_path, st.st_mtime_ns, st.st_size)
        return sections.get(section, "absent"), None

    return fingerprint


# The stages each config section affects. Suppression (`[privacy] min_cell`) is part of estimation; a changed
# estimate re-renders the reports through the `estimates` input. A section not listed affects both.
CONFIG_EFFECTS: dict[str, tuple[str, ...]] = {
    "survey": BOTH,  # round, id column, title, label language
    "regions": (ESTIMATE,),
    "needs": (ESTIMATE,),
    "design": (ESTIMATE,),
    "indicators": (ESTIMATE,),
    "privacy": (ESTIMATE,),
    "validation": (REPORT,),  # applies to files loaded from now on; the report's annex quotes the rules
    "report": (REPORT,),
    "paths": (),  # where files are: the files themselves are inputs
    "schedule": (),
    "notify": (),
    "prefect": (),
}

register("loaded_files", (ESTIMATE,), _files_with("loaded"))
register("rejected_files", (REPORT,), _files_with("rejected"))
register("xlsform", BOTH, lambda con, s: _file(s.xlsform))
register("frame", (ESTIMATE,), lambda con, s: _file(s.frame))
register("earlier_rounds", (ESTIMATE,), _earlier_rounds)
register("package_version", BOTH, _package)
register("templates", (REPORT,), _templates)
register("logo", (REPORT,), lambda con, s: _file(s.logo))
register("estimates", (REPORT,), _estimates)


def _cleaning(con: duckdb.DuckDBPyConnection, settings: Settings) -> Print:
    """The cleaning in effect for the round (issue 17): what every applied log line changes or removes, and
    the quarantined households a log released into the store."""
    if not table_exists(con, "cleaning_effective"):
        return "none", None
    rows = con.execute(
        "SELECT submission_id, path, question, change_type, new_value FROM cleaning_effective "
        "WHERE round = ? ORDER BY ALL",
        [settings.round],
    ).fetchall()
    rows += con.execute(
        'SELECT DISTINCT submission_id, sha256, "row", released_sha256, released_line FROM quarantine '
        "WHERE round = ? AND released_sha256 IS NOT NULL ORDER BY ALL",
        [settings.round],
    ).fetchall()
    return _digest(repr(r) for r in rows), None


register("cleaning", (ESTIMATE,), _cleaning)
register("analysis_plan", (ESTIMATE,), lambda con, s: _file(s.plan))  # issue 16: the list of analyses
# issue 18: the 3W list feeds coverage and people in need (made with the estimates); boundaries only the maps
register("partners_list", (ESTIMATE,), lambda con, s: _file(s.partners.file if s.partners else None))
register(
    "boundaries",
    (REPORT,),
    lambda con, s: (
        _digest(f"{level}={b.key}:{_file(b.file)[0]}" for level, b in sorted(s.boundaries.items())),
        None,
    ),
)


def _q(name: str) -> str:
    return named_query("assess.store", name)


def config_section_names(settings: Settings) -> list[str]:
    st = settings.config_path.stat()
    return sorted(
        set(CONFIG_EFFECTS) | set(_config_sections(settings.config_path, st.st_mtime_ns, st.st_size))
    )


def fingerprints(con: duckdb.DuckDBPyConnection, settings: Settings, stage: str) -> dict[str, Print]:
    """The current fingerprint of every input of `stage` (registered inputs, then config sections)."""
    out = {i.name: i.fingerprint(con, settings) for i in REGISTRY.values() if stage in i.stages}
    for section in config_section_names(settings):
        if stage in CONFIG_EFFECTS.get(section, BOTH):
            out[f"config[{section}]"] = _config(section)(con, settings)
    return out


@dataclass
class StageRecord:
    """A completed stage: its run, when it finished, what it produced, and the fingerprints it used."""

    run_id: str
    stage: str
    finished_at: datetime
    result: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, str | None] = field(default_factory=dict)

    def when(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} UTC"


def last_stage(con: duckdb.DuckDBPyConnection, round_: str, stage: str) -> StageRecord | None:
    row = con.execute(_q("inputs_last_stage"), {"round": round_, "stage": stage}).fetchone()
    if row is None:
        return None
    run_id, finished_at, result = row
    rows = con.execute(_q("inputs_of_stage"), {"run": run_id, "stage": stage}).fetchall()
    return StageRecord(
        run_id=run_id,
        stage=stage,
        finished_at=finished_at,
        result=json.loads(result) if result else {},
        inputs={name: fp for name, fp, _ in rows},
        details={name: detail for name, _, detail in rows},
    )


@dataclass
class Plan:
    """Whether a stage must be redone, and why (the inputs that changed; "never run" the first time)."""

    stage: str
    prints: dict[str, Print]
    last: StageRecord | None
    changed: list[str]

    @property
    def up_to_date(self) -> bool:
        return self.last is not None and not self.changed


def plan(con: duckdb.DuckDBPyConnection, settings: Settings, stage: str) -> Plan:
    prints = fingerprints(con, settings, stage)
    last = last_stage(con, settings.round, stage)
    if last is None:
        return Plan(stage, prints, None, ["never run"])
    now = {name: fp for name, (fp, _) in prints.items()}
    changed = sorted(n for n in now.keys() | last.inputs.keys() if now.get(n) != last.inputs.get(n))
    return Plan(stage, prints, last, changed)


def record_stage(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: Settings,
    stage: str,
    prints: dict[str, Print],
    result: dict[str, Any],
) -> None:
    """Record a completed stage (the caller holds the store lock and a writable connection)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        con.execute("DELETE FROM stage_inputs WHERE run_id = ? AND stage = ?", [run_id, stage])
        con.execute(
            "INSERT OR REPLACE INTO stage_runs VALUES (?, ?, ?, ?, ?)",
            [run_id, settings.round, stage, now, json.dumps(result, default=str)],
        )
        con.executemany(
            "INSERT INTO stage_inputs VALUES (?, ?, ?, ?, ?)",
            [[run_id, stage, name, fp, detail] for name, (fp, detail) in sorted(prints.items())],
        )
