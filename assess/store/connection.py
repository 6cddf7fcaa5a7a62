"""Opening the store: a new store gets today's schema; an older one is migrated, in one transaction.

The store carries its schema version in `schema_version`. A store written by release 0.1.0 has no such
table and is version 1. Each migration is a named SQL file `sql/migrations/<NNN>_<what>.sql`; they run in
order inside one transaction, after a copy of the store file is kept beside it
(`assessment.duckdb.before-v<N>`), so an upgrade either completes or leaves the store as it was.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from ..core.sqlutil import fetch_value, named_query, table_exists, transaction

LEGACY_VERSION = 1  # release 0.1.0: the tables of schema.sql, no `schema_version`


class StoreVersionError(Exception):
    """The store was written by a newer release, or needs an upgrade that a read-only open cannot do."""


@dataclass(frozen=True)
class Migration:
    version: int  # the schema version this migration produces
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration, in order: `sql/migrations/002_x.sql` produces schema version 2."""
    folder = resources.files("assess.store").joinpath("sql", "migrations")
    found = []
    for entry in folder.iterdir():
        m = re.fullmatch(r"(\d{3})_(\w+)\.sql", entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    # numbers are reserved per piece of work (a number may still be missing while its branch is unmerged), but
    # each is used once and none precedes the 0.1.0 schema
    if len(set(versions)) != len(versions) or (versions and versions[0] <= LEGACY_VERSION):
        raise RuntimeError(
            f"store migrations must have distinct numbers above {LEGACY_VERSION:03d}: {versions}"
        )
    return tuple(found)


def latest_version() -> int:
    found = migrations()
    return found[-1].version if found else LEGACY_VERSION


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version; None for an empty database (no store tables yet)."""
    if table_exists(con, "schema_version"):
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else LEGACY_VERSION
    return LEGACY_VERSION if table_exists(con, "files") else None


def pending(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """The migrations the store has not had yet (every one for an empty database), in order. A migration is
    pending when its version is not stamped in `schema_version`, so that one numbered below a store's version
    (its branch merged after a later one) still runs."""
    version = schema_version(con)
    if version is None:
        return list(migrations())
    done = {LEGACY_VERSION}
    if table_exists(con, "schema_version"):
        done |= {int(v) for (v,) in con.execute("SELECT version FROM schema_version").fetchall()}
    return [mig for mig in migrations() if mig.version not in done]


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store. Writable: create or upgrade it first. Read-only: refuse a store that needs an upgrade."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no store yet. Run `assess run` first.")
        con = duckdb.connect(str(path), read_only=True)
        version = schema_version(con)
        if version is not None and (version > latest_version() or pending(con)):
            missing = [f"{m.version:03d} {m.name}" for m in pending(con)]
            con.close()
            _refuse(path, version, missing)
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        upgrade(con, path)
    except BaseException:
        con.close()
        raise
    return con


def upgrade(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> list[int]:
    """Bring the store to the latest schema; return the versions applied (empty when it was current)."""
    version = schema_version(con)
    if version is not None and version > latest_version():
        _refuse(path, version)
    todo = pending(con)
    if version is not None and not todo:
        return []
    if version is not None and path is not None and path.exists():
        con.execute("CHECKPOINT")
        shutil.copyfile(path, path.with_name(f"{path.name}.before-v{todo[-1].version}"))
    with transaction(con):
        con.execute(named_query("assess.store", "schema_version"))
        if version is None:  # a new store: the 0.1.0 tables, then every migration, like any old store
            con.execute(named_query("assess.store", "schema"))
        if not fetch_value(con, "SELECT count(*) FROM schema_version"):
            _stamp(con, LEGACY_VERSION, "release 0.1.0 tables")
        for mig in todo:
            con.execute(mig.sql)
            _stamp(con, mig.version, mig.name)
    return [mig.version for mig in todo] if version is not None else []


def _stamp(con: duckdb.DuckDBPyConnection, version: int, name: str) -> None:
    con.execute(
        "INSERT INTO schema_version VALUES ($v, $name, $now)",
        {"v": version, "name": name, "now": datetime.now(UTC).replace(tzinfo=None)},
    )


def _refuse(path: Path | None, version: int, missing: list[str] | None = None) -> None:
    where = str(path) if path else "the store"
    if version > latest_version():
        raise StoreVersionError(
            f"{where} was written by a newer release of assess (store schema {version}; this release knows up to "
            f"{latest_version()}). Upgrade assess (git pull && make setup) before using this store."
        )
    raise StoreVersionError(
        f"{where} was written by an older release (store schema {version}; this release uses "
        f"{latest_version()}{'; not applied yet: ' + ', '.join(missing) if missing else ''}). "
        "Run `assess run` once to upgrade it (a copy is kept beside it), then try again."
    )
