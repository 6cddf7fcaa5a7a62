"""A throw-away PostgreSQL on 127.0.0.1 for a Prefect server (tests, trying server mode on one machine).

    python scripts/pg_local.py start DIR [--port 5433]   # prints the PREFECT_API_DATABASE_CONNECTION_URL
    python scripts/pg_local.py stop DIR

PostgreSQL refuses to run as root: when run as root, initdb and pg_ctl run as the `postgres` user and
DIR is handed to it. Trust authentication on loopback only; for a real server use Debian's cluster
(`pg_createcluster`) with a password instead.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(directory: Path, port: int, database: str = "prefect") -> str:
    """initdb + start on 127.0.0.1:port + create `database`; return the asyncpg URL for Prefect."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL not found: install Debian's postgresql package (scripts/system-deps.sh)")
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data, log = directory / "data", directory / "postgres.log"
    run = dict(check=True, capture_output=True, text=True)
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                     "--no-sync", "-E", "UTF8"]), **run)
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
                                 f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off "
                                 "-c max_connections=200", "start"]), **run)
    exists = subprocess.run(_as_postgres([str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                          "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"]), **run)
    if exists.stdout.strip() != "1":
        subprocess.run(_as_postgres([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                     database]), **run)
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"


def stop(directory: Path) -> None:
    bindir = pg_bin()
    if bindir is None or not (directory / "data" / "postmaster.pid").exists():
        return
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(directory / "data"), "-m", "fast", "-w",
                                 "-t", "60", "stop"]), check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=5433)
    args = parser.parse_args(argv)
    directory = args.directory.resolve()
    if args.action == "start":
        print(start(directory, args.port))
    else:
        stop(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
