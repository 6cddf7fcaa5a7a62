"""Deployments of the run flow: the nightly schedule and the folder-drop trigger, and `assess serve`.

`assessment_deployment` builds the deployment from `assessment.toml` ([schedule] cron + timezone); the
folder watcher (`flows/watch.py`) emits an `assess.inbox.settled` event for the assessment's resource id
and the deployment's trigger starts a run for the files named in the event.

Prefect's embedded (ephemeral) server does not run the scheduler service (only event triggers), so a
schedule served against it would never fire. `assess serve` therefore uses `PREFECT_API_URL` when it is
set and otherwise starts a local `prefect server start` (SQLite under PREFECT_HOME) for as long as it runs.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assess.core.settings import Settings

SETTLED_EVENT = "assess.inbox.settled"


def resource_id(settings: Settings) -> str:
    """The Prefect resource id of one assessment (stable for a config path)."""
    digest = hashlib.sha256(str(settings.config_path).encode()).hexdigest()[:16]
    return f"assess.assessment.{digest}"


def deployment_name(settings: Settings) -> str:
    return f"{settings.config_path.parent.name or 'assessment'}-{settings.round}"


def assessment_deployment(settings: Settings, *, trigger: bool = True, name: str | None = None):
    """The run flow as a deployment: cron schedule from the config (if any) and the folder-drop trigger."""
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
    from prefect.schedules import Cron

    from flows.run import run_assessment

    schedules = [Cron(settings.cron, timezone=settings.timezone)] if settings.cron else None
    triggers = None
    if trigger:
        triggers = [
            DeploymentEventTrigger(
                name=f"files dropped into {settings.inbox}",
                expect={SETTLED_EVENT},
                match={"prefect.resource.id": resource_id(settings)},
                parameters={"config_path": str(settings.config_path), "files": "{{ event.payload.files }}"},
            )
        ]
    return run_assessment.to_deployment(
        name=name or deployment_name(settings),
        schedules=schedules,
        triggers=triggers,
        parameters={"config_path": str(settings.config_path)},
        description=f"Assessment run for {settings.config_path} (round {settings.round}).",
        tags=["assess", f"round:{settings.round}"],
        concurrency_limit=1,  # one run at a time per assessment; the store lock guards the rest
    )


def serve_assessment(settings: Settings, *, trigger: bool = True, port: int = 4200) -> None:
    """Serve the deployment until interrupted, against PREFECT_API_URL or a local server started here."""
    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deployment = assessment_deployment(settings, trigger=trigger)
    if PREFECT_API_URL.value():
        serve(deployment)
        return
    # stop the local server on `kill` / systemd stop too, not only on Ctrl-C (it runs in its own session)
    signal.signal(signal.SIGTERM, _interrupt)
    with local_server(port) as url, temporary_settings({PREFECT_API_URL: url}):
        serve(deployment)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode} before it was ready")
        time.sleep(0.5)
    raise TimeoutError(f"prefect server at {url} not ready after {timeout:.0f} s")


def start_server(port: int, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1:port in its own process group (stop it with `stop_group`)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("prefect")),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop a child and everything it started: `prefect server start` leaves a child holding the port
    when only the parent is killed; workers stop on SIGINT, not SIGTERM."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def local_server(port: int = 4200) -> Iterator[str]:
    """A Prefect server on 127.0.0.1:port for the duration; reuses one already answering there."""
    url = f"http://127.0.0.1:{port}/api"
    if healthy(url):
        yield url
        return
    proc = start_server(port)
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop_group(proc)
