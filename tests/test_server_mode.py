"""Server mode end to end: PostgreSQL + `prefect server start` + a process work pool with two workers.

Brings everything up on 127.0.0.1, processes the demo files through the pool (one ingest run per file,
two workers in parallel, then one aggregation into DuckDB), checks the store, and stops everything it
started (process groups: `prefect server start` leaves a child on the port otherwise; workers stop on
SIGINT). A second test drives the folder-drop trigger: `assess serve` + an `assess.inbox.settled` event.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from assess.clean.run import split_logs
from assess.core.settings import load_settings
from flows.deploy import free_port, start_server, stop_group, wait_healthy

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "scripts"))
import pg_local  # noqa: E402

pytestmark = pytest.mark.slow
POOL = "assess-test"


@pytest.fixture(scope="module")
def postgres():
    if pg_local.pg_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
        pytest.skip("PostgreSQL is not installed")
    directory = Path(tempfile.mkdtemp(prefix="assess-pg-"))
    try:
        yield pg_local.start(directory, free_port())
    finally:
        pg_local.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """A Prefect server backed by PostgreSQL; yields (api_url, env for clients, log dir)."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    common = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
    }
    proc = start_server(
        port,
        env={
            **common,
            "PREFECT_API_DATABASE_CONNECTION_URL": postgres,
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
            "PREFECT_UI_ENABLED": "false",
        },
        log=home / "server.log",
    )
    try:
        wait_healthy(url, proc, timeout=240)
        env = {
            **os.environ,
            **common,
            "PREFECT_API_URL": url,
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "COLUMNS": "200",
        }
        yield url, env, home
    finally:
        stop_group(proc)
        _assert_port_free(port)


def _assert_port_free(port: int) -> None:
    import socket

    for _ in range(40):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.25)
    pytest.fail(f"something still listens on {port} after stopping the Prefect server")


def _cli(args: list[str], env: dict, cwd: Path = REPO) -> str:
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def demo(tmp_path) -> Path:
    from assess.demo import write_demo

    write_demo(tmp_path / "demo", households=300)
    return tmp_path / "demo"


def _store_counts(settings) -> tuple[list, int, int]:
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        files = con.execute("SELECT name, status FROM files ORDER BY name").fetchall()
        n, distinct = con.execute(
            "SELECT count(*), count(DISTINCT submission_id) FROM submissions"
        ).fetchone()
    finally:
        con.close()
    return files, n, distinct


def test_two_workers_ingest_in_parallel_then_one_aggregation(server, demo):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.ingest_flow import fan_out

    url, env, home = server
    config = demo / "assessment.toml"
    env = {**env, "ASSESS_CONFIG": str(config)}
    _cli([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], env)
    _cli(
        [str(BIN / "prefect"), "--no-prompt", "deploy", "--name", "ingest-file", "--pool", POOL], env
    )  # prefect.yaml
    workers = [
        subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", f"w{i}", "--limit", "1"],
            env=env,
            stdout=open(home / f"w{i}.log", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in (1, 2)
    ]
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            result = fan_out(
                str(config), ingest_deployment="assess-ingest-file/ingest-file", reports=False, timeout_s=400
            )
            with get_client(sync_client=True) as client:
                runs = [client.read_flow_run(i) for i in result.ingest_runs]
    finally:
        for w in workers:
            stop_group(w, signal.SIGINT, timeout=30)
    settings = load_settings(config)
    # the demo's filled cleaning log is applied by the aggregation, not staged by an ingest run (issue 17)
    names = sorted(p.name for p in split_logs(sorted(settings.inbox.iterdir()))[0])
    assert result.failed_ingest_runs == []
    assert len(runs) == 5 and all(r.state.is_completed() for r in runs)
    assert sorted(f.file for f in result.files) == names
    assert {f.status for f in result.files} == {"loaded"}
    files, n, distinct = _store_counts(settings)
    assert [f for f, _ in files] == names and {s for _, s in files} == {"loaded"}
    assert n == distinct == 301  # 300 and the near-duplicate the demo plants (issue 17)
    assert not list((settings.processed / "staging").rglob("outcome.json"))  # hand-offs consumed
    # both workers ran ingest runs, and two ran at the same time
    logs = [(home / f"w{i}.log").read_text(errors="replace") for i in (1, 2)]
    assert all(any(str(r.id) in log for r in runs) for log in logs), logs
    spans = sorted((r.start_time, r.end_time) for r in runs)
    assert any(b[0] < a[1] - timedelta(seconds=0.5) for a, b in zip(spans, spans[1:], strict=False)), spans
    assert all(w.poll() is not None for w in workers)


def test_folder_drop_event_triggers_the_served_deployment(server, demo, tmp_path):
    """`assess serve` + `assess watch --emit-event` as separate processes, as a data officer runs them."""
    from flows.deploy import deployment_name

    url, env, home = server
    config = demo / "assessment.toml"
    config.write_text(config.read_text() + '\n[schedule]\ncron = "0 2 * * *"\ntimezone = "Africa/Nairobi"\n')
    settings = load_settings(config)
    held = demo / "held"
    held.mkdir()
    exports, logs = split_logs(sorted(settings.inbox.iterdir()))
    target, *others = exports
    others += logs  # the filled cleaning log waits with the other files
    for p in others:
        shutil.move(p, held / p.name)
    serve_log, watch_log = tmp_path / "serve.log", tmp_path / "watch.log"
    serve = subprocess.Popen(
        [str(BIN / "assess"), "serve", "--config", str(config)],
        env=env,
        cwd=demo,
        stdout=open(serve_log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watch = None
    try:
        _wait_for_trigger(url, f"assessment-run/{deployment_name(settings)}", serve, serve_log)
        watch = subprocess.Popen(
            [
                str(BIN / "assess"),
                "watch",
                "--config",
                str(config),
                "--emit-event",
                "--stable-seconds",
                "1",
                "--debounce",
                "0.5",
            ],
            env=env,
            cwd=demo,
            stdout=open(watch_log, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def logs() -> str:
            return f"serve:\n{serve_log.read_text(errors='replace')}\nwatch:\n{watch_log.read_text(errors='replace')}"

        files: list = []
        deadline = time.monotonic() + 300
        while not files and time.monotonic() < deadline:
            assert serve.poll() is None and watch.poll() is None, logs()
            time.sleep(1)
            try:
                files = _store_counts(settings)[0] if settings.store_path.exists() else []
            except duckdb.Error:
                files = []  # the run is writing it right now
        assert "event" in watch_log.read_text(errors="replace"), logs()
        # the files row commits before the run's estimates and reports: wait for the run to release the
        # store lock; then the store is readable while serve and watch keep running (they hold no connection)
        from assess.ops.lock import store_lock

        with store_lock(settings.lock_path, wait=300):
            files, n, distinct = _store_counts(settings)
        assert files == [(target.name, "loaded")], logs()
        assert n == distinct > 0
    finally:
        if watch is not None:
            stop_group(watch, signal.SIGINT, timeout=30)
        stop_group(serve, signal.SIGINT, timeout=30)


def _wait_for_trigger(url: str, name: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until `assess serve` has registered the deployment and the automation behind its trigger."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                dep = client.read_deployment_by_name(name)
                if client.read_resource_related_automations(f"prefect.deployment.{dep.id}"):
                    time.sleep(2)  # the runner polls for runs once it has started
                    return
            except ObjectNotFound:
                pass
            time.sleep(1)
    pytest.fail(f"assess serve did not register {name} in {timeout:.0f} s: {log.read_text(errors='replace')}")


def test_assess_run_uses_the_server_named_in_the_config_and_says_so(server, demo):
    """`[prefect] api_url`: the run is on that server (not an embedded one), and the CLI names it; the next
    run has nothing new and says so without starting Prefect at all."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url, env, home = server
    config = demo / "assessment.toml"
    config.write_text(config.read_text() + f'\n[prefect]\napi_url = "{url}"\n')
    env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    cmd = [sys.executable, "-m", "flows.cli", "run", "--no-reports", "--config", str(config)]
    first = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Prefect: server {url} ([prefect] api_url)." in first.stderr.splitlines()
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        runs = [
            r for r in client.read_flow_runs() if r.parameters.get("config_path") == str(config.resolve())
        ]
    assert len(runs) == 1 and runs[0].state.is_completed()
    again = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("Nothing new: 5 files already loaded; estimates are up to date (run ")
    assert "Prefect:" not in again.stderr
