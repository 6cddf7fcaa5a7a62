"""Operations: schedule, folder watcher, run hygiene (lock, notification), hand-off between workers."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from assess.core.settings import load_settings
from assess.inbox import writers
from assess.inbox.discover import inbox_files, wanted
from assess.inbox.settle import Settler, split_settled
from assess.ops import notify
from assess.store.connection import connect
from assess.store.runs import load_outcome
from assess.validate import handoff
from assess.validate.stage import stage_file

REPO = Path(__file__).resolve().parents[1]
ASSESS = str(Path(sys.executable).with_name("assess"))


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def small_template(tmp_path_factory) -> Path:
    """A 300-household demo: same shapes as the full demo, a fraction of the validation time."""
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("ops-demo")
    write_demo(root, households=300)
    return root


@pytest.fixture
def small_demo(small_template, tmp_path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(small_template, dest)
    return dest


def _append(config: Path, text: str) -> None:
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def _counts(settings) -> dict:
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        files = con.execute("SELECT name, status, accepted FROM files ORDER BY name").fetchall()
        subs, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (round, submission_id)) FROM submissions"
        ).fetchone()
    finally:
        con.close()
    return {"files": files, "submissions": subs, "distinct": distinct}


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A local HTTP server on 127.0.0.1 that records the JSON posted to it."""
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook.received
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------------------------------ pure parts


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class FakeFiles:
    """stat() over a dict of path -> (size, mtime_ns)."""

    def __init__(self):
        self.files: dict[Path, tuple[int, int]] = {}

    def __call__(self, path):
        if Path(path) not in self.files:
            raise FileNotFoundError(path)
        size, mtime = self.files[Path(path)]
        return os.stat_result((0o100644, 0, 0, 1, 0, 0, size, 0, mtime // 10**9, 0, 0, mtime, 0))


def test_wanted_ignores_temp_lock_and_hidden_files(tmp_path):
    inbox = tmp_path / "raw"
    for name in ("export.csv", "export.xlsx", "sub/export.csv", "Export 2026-11.CSV"):
        assert wanted(inbox / name, inbox), name
    for name in (
        "~$export.xlsx",
        "export.csv.part",
        "export.csv.crdownload",
        "export.csv.tmp",
        ".export.csv",
        ".~lock.export.xlsx#",
        ".hidden/export.csv",
        "export.download",
    ):
        assert not wanted(inbox / name, inbox), name
    assert not wanted(tmp_path / "elsewhere.csv", inbox)


def test_growing_file_is_not_released_until_it_stops_growing():
    clock, fs = FakeClock(), FakeFiles()
    s = Settler(stable_seconds=5, debounce_seconds=1, clock=clock, stat=fs)
    p = Path("/inbox/a.csv")
    fs.files[p] = (100, 1)
    s.touch(p)
    for i in range(10):  # keeps growing every 2 s (no events: e.g. a network share without notifications)
        clock.t += 2
        fs.files[p] = (100 + i * 100, 2 + i)
        assert s.poll() == [], f"released while still growing (step {i})"
    clock.t += 4.9
    assert s.poll() == []
    clock.t += 0.2
    assert s.poll() == [p]
    assert s.poll() == [] and s.pending() == []


def test_many_files_dropped_at_once_make_one_batch():
    clock, fs = FakeClock(), FakeFiles()
    s = Settler(stable_seconds=2, debounce_seconds=1, clock=clock, stat=fs)
    paths = [Path(f"/inbox/f{i:02d}.csv") for i in range(30)]
    for i, p in enumerate(paths):  # a copy of 30 files, one every 0.1 s
        fs.files[p] = (10, i)
        s.touch(p)
        clock.t += 0.1
        assert s.poll() == []
    clock.t += 2.5
    assert s.poll() == paths  # one batch, all of them
    assert s.poll() == []


def test_a_stuck_file_does_not_hold_back_the_others_forever():
    clock, fs = FakeClock(), FakeFiles()
    s = Settler(stable_seconds=2, debounce_seconds=1, max_wait_seconds=60, clock=clock, stat=fs)
    done, stuck = Path("/inbox/done.csv"), Path("/inbox/stuck.csv")
    fs.files[done], fs.files[stuck] = (10, 1), (10, 1)
    s.touch(done)
    s.touch(stuck)
    for i in range(40):
        clock.t += 2
        fs.files[stuck] = (10 + i, 2 + i)
        batch = s.poll()
        if batch:
            break
    assert batch == [done] and clock.t - 1000 >= 60
    assert s.pending() == [stuck]


def test_deleted_and_renamed_files_are_forgotten():
    clock, fs = FakeClock(), FakeFiles()
    s = Settler(stable_seconds=1, debounce_seconds=0, clock=clock, stat=fs)
    p = Path("/inbox/x.csv")
    fs.files[p] = (1, 1)
    s.touch(p)
    s.poll()
    del fs.files[p]
    clock.t += 5
    assert s.poll() == [] and s.pending() == []


class FakeWriters:
    """The open-for-writing check over a set of paths a test says are held open."""

    def __init__(self):
        self.held: set[Path] = set()
        self.asked: list[list[Path]] = []

    def __call__(self, paths):
        self.asked.append(list(paths))
        return {p for p in paths if p in self.held}


def test_a_file_held_open_for_writing_waits_however_long_its_writer_pauses():
    clock, fs, writers = FakeClock(), FakeFiles(), FakeWriters()
    s = Settler(stable_seconds=5, debounce_seconds=1, clock=clock, stat=fs, writers=writers)
    p = Path("/inbox/a.csv")
    fs.files[p] = (100, 1)
    writers.held.add(p)
    s.touch(p)
    for _ in range(12):  # the writer pauses 60 s with the file open: its size says nothing
        clock.t += 5
        assert s.poll() == []
    writers.held.clear()  # it finished and closed, but we saw no close event (e.g. moved in, or not inotify)
    fs.files[p] = (200, 2)
    clock.t += 4.9
    assert s.poll() == []
    clock.t += 5.2
    assert s.poll() == [p]


def test_a_closed_file_is_ready_without_waiting_stable_seconds_unless_someone_still_writes():
    clock, fs, writers = FakeClock(), FakeFiles(), FakeWriters()
    s = Settler(
        stable_seconds=30, debounce_seconds=0.5, clock=clock, stat=fs, writers=writers, closed_seconds=0.5
    )
    a, b = Path("/inbox/a.csv"), Path("/inbox/b.csv")
    fs.files[a], fs.files[b] = (100, 1), (100, 1)
    s.touch(a)
    s.closed(a)  # close-write
    writers.held.add(b)  # b: one writer closed, another still has it open
    s.touch(b)
    s.closed(b)
    assert s.poll() == []  # first look at their sizes
    clock.t += 0.3
    assert s.poll() == []  # not yet closed_seconds
    clock.t += 0.3
    assert s.poll() == []  # a is ready, but b is pending: one batch waits for both
    assert writers.asked[-1] == [a, b]
    writers.held.clear()
    s.closed(b)  # the last writer closes
    clock.t += 0.6
    assert s.poll() == [a, b]
    s.touch(a)  # written again after its close: back to waiting for a close or stable_seconds
    clock.t += 1
    assert s.poll() == []


def test_without_a_writers_check_the_size_stable_rule_decides():
    clock, fs = FakeClock(), FakeFiles()
    s = Settler(stable_seconds=2, debounce_seconds=0, clock=clock, stat=fs)
    p = Path("/inbox/a.csv")
    fs.files[p] = (1, 1)
    s.touch(p)
    assert s.poll() == []
    clock.t += 2.1
    assert s.poll() == [p]


def test_open_for_writing_reads_proc(tmp_path):
    if not writers.available():
        pytest.skip("needs Linux /proc fdinfo")
    target, other = tmp_path / "export.csv", tmp_path / "other.csv"
    target.write_text("a\n")
    other.write_text("b\n")
    assert writers.open_for_writing([target, other]) == set()
    with open(target, encoding="utf-8"):  # reading is not writing
        assert writers.open_for_writing([target]) == set()
    with open(target, "r+", encoding="utf-8"):  # read-write is
        assert writers.open_for_writing([target, other]) == {target}
    link = tmp_path / "link" / "export.csv"
    link.parent.mkdir()
    link.symlink_to(target)
    # another process, holding it open for appending through a symlink, then closing it
    code = "import sys, time; f = open(sys.argv[1], 'a'); print('open', flush=True); sys.stdin.readline(); f.close()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(link)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "open"
        assert writers.open_for_writing([target, other]) == {target}
        assert writers.open_for_writing([link]) == {link}  # asked by another name of the same file
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(10)
    finally:
        proc.kill()
    assert writers.open_for_writing([target]) == set()
    assert writers.open_for_writing([tmp_path / "missing.csv"]) == set()
    assert writers.open_for_writing([]) == set()


def test_open_for_writing_skips_what_it_cannot_read_or_what_vanished(tmp_path):
    proc = tmp_path / "proc"  # a fake /proc: an unreadable process, one that ended mid-scan, odd fdinfo
    target = tmp_path / "export.csv"
    target.write_text("a\n")
    (proc / "self" / "fdinfo").mkdir(parents=True)
    (proc / "10" / "fd").mkdir(parents=True)
    (proc / "10" / "fdinfo").mkdir()
    (proc / "10" / "fd" / "3").symlink_to(target)
    (proc / "10" / "fdinfo" / "3").write_text("pos:\t0\nflags:\t0100000\n")  # O_RDONLY
    (proc / "10" / "fd" / "4").symlink_to(target)  # its fdinfo is gone (closed while we looked)
    (proc / "11" / "fd").mkdir(parents=True)
    (proc / "11" / "fd").chmod(0)  # another user's process
    (proc / "12").mkdir()  # ended: no fd folder
    (proc / "13" / "fd").mkdir(parents=True)
    (proc / "13" / "fdinfo").mkdir()
    (proc / "13" / "fd" / "7").symlink_to(target)
    (proc / "13" / "fdinfo" / "7").write_text("pos:\t0\nflags:\tnonsense\n")
    try:
        assert writers.available(proc)
        assert writers.open_for_writing([target], proc=proc) == set()
        (proc / "13" / "fdinfo" / "7").write_text("pos:\t0\nflags:\t02102001\n")  # O_WRONLY|O_APPEND|...
        assert writers.open_for_writing([target], proc=proc) == {target}
    finally:
        (proc / "11" / "fd").chmod(0o755)


def test_split_settled_holds_back_only_files_still_changing(tmp_path):
    old, young, growing = tmp_path / "old.csv", tmp_path / "young.csv", tmp_path / "growing.csv"
    for p in (old, young, growing):
        p.write_text("a\n")
    os.utime(old, (time.time() - 3600, time.time() - 3600))

    def sleep(seconds):
        assert seconds <= 2.0
        growing.write_text("a\nb\n")

    ready, held = split_settled([old, young, growing], settle_seconds=2.0, sleep=sleep)
    assert ready == [old, young] and held == [growing]
    assert split_settled([old], sleep=lambda s: pytest.fail("slept for an old file")) == ([old], [])


# ------------------------------------------------------------------------------------------------ notification


def test_notify_posts_json_and_runs_the_command(webhook, tmp_path):
    url, received = webhook
    out = tmp_path / "env.txt"
    cmd = f"{sys.executable} -c \"import os; open({str(out)!r}, 'w').write(os.environ['ASSESS_MESSAGE'])\""
    failure = notify.Failure(
        assessment="/x/assessment.toml",
        round="R1",
        flow="assessment-run",
        run_name="r",
        run_id="123",
        state="Failed",
        message="disk full",
    )
    assert notify.send(failure, webhook=url, command=cmd) == ["webhook", "command"]
    assert received[0]["type"] == "application/json"
    assert (
        received[0]["json"]["event"] == "assess.run.failed" and received[0]["json"]["message"] == "disk full"
    )
    assert out.read_text() == "disk full"
    # an unreachable hook or a failing command is logged, never raised
    assert notify.send(failure, webhook="http://127.0.0.1:9/nothing", command="false") == []


# ------------------------------------------------------------------------------------------------ hand-off


def test_hand_off_round_trip_loads_like_the_direct_route(small_demo, tmp_path):
    settings = load_settings(small_demo / "assessment.toml")
    from assess.core.privacy import hash_key
    from assess.core.xlsform import read_form

    form = read_form(settings)
    # the two smaller exports (not the roster re-exports): the order and the round trip are the point
    exports = [p for p in inbox_files(settings) if "cleaning_log" not in p.name]  # issue 17: the demo's log
    files = [p for p in exports[1:] if "2026-11-16" not in p.name]
    for p in files:  # the workers' side
        handoff.write_outcome(stage_file(p, settings, form), settings)
    # a worker on another machine mounted the share elsewhere: paths in outcome.json are relative
    moved = tmp_path / "elsewhere"
    shutil.copytree(small_demo, moved)
    shutil.rmtree(small_demo / "data" / "processed")
    settings = load_settings(moved / "assessment.toml")
    staged = handoff.staged_outcomes(settings)
    assert [json.loads(p.read_text())["name"] for p in staged] == [p.name for p in files]  # file order kept
    outs = [handoff.read_outcome(p, settings) for p in staged]
    assert all(o.staged and o.staged.path.is_file() for o in outs)
    con = connect(settings.store_path)
    try:
        for o in outs:
            load_outcome(con, o, settings, form, "run1", hash_key())
    finally:
        con.close()
    counts = _counts(settings)
    assert [f[1] for f in counts["files"]] == ["loaded"] * 2
    assert counts["submissions"] == counts["distinct"] == sum(o.rows for o in outs)


# ------------------------------------------------------------------------------------------------ Prefect


def test_schedule_is_registered_with_the_configured_cron(prefect_harness, small_demo):
    from prefect.client.orchestration import get_client

    from flows.deploy import SETTLED_EVENT, assessment_deployment, resource_id

    config = small_demo / "assessment.toml"
    _append(config, '[schedule]\ncron = "0 2 * * *"\ntimezone = "Africa/Nairobi"')
    settings = load_settings(config)
    deployment_id = assessment_deployment(settings).apply()
    with get_client(sync_client=True) as client:
        dep = client.read_deployment(deployment_id)
        automations = client.read_resource_related_automations(f"prefect.deployment.{deployment_id}")
    assert len(dep.schedules) == 1
    assert dep.schedules[0].schedule.cron == "0 2 * * *"
    assert dep.schedules[0].schedule.timezone == "Africa/Nairobi"
    assert dep.schedules[0].active
    assert dep.parameters == {"config_path": str(settings.config_path)}
    assert dep.global_concurrency_limit and dep.global_concurrency_limit.limit == 1
    [auto] = automations
    assert auto.trigger.expect == {SETTLED_EVENT}
    assert auto.trigger.match.model_dump()["prefect.resource.id"] == resource_id(settings)


def test_dropped_files_are_ingested_exactly_once_and_never_half_written(
    prefect_harness, small_demo, tmp_path
):
    from flows.watch import local_runner, watch

    settings = load_settings(small_demo / "assessment.toml")
    held = tmp_path / "held"
    shutil.move(settings.inbox, held)  # start with an empty inbox
    settings.inbox.mkdir()
    big, small = held / "kobo_export_2026-11-10.csv", held / "odk_central_2026-11-14.csv"
    run = local_runner(settings, reports=False)
    batches: list[list[tuple[str, int]]] = []
    stop = threading.Event()

    def on_batch(files):
        batches.append([(p.name, p.stat().st_size) for p in files])
        run(files)

    def drop():
        data = big.read_bytes()
        (settings.inbox / "~$kobo.xlsx").write_bytes(b"lock")  # office lock file: ignored
        (settings.inbox / "odk.csv.part").write_bytes(small.read_bytes()[:1000])  # partial download: ignored
        with open(settings.inbox / big.name, "wb") as f:  # a slow copy: 8 chunks, 0.5 s apart
            for i in range(8):
                f.write(data[i * len(data) // 8 : (i + 1) * len(data) // 8])
                f.flush()
                time.sleep(0.5)
        shutil.copy(small, settings.inbox / small.name)  # dropped together with the big one
        deadline = time.monotonic() + 240
        while len(batches) < 1 or not settings.store_path.exists() or _runs_done(settings) < 1:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1)
        shutil.copy(big, settings.inbox / "kobo_export_again.csv")  # same content, other name
        os.utime(settings.inbox / small.name)  # touched again
        time.sleep(4)  # longer than stable + debounce: would have made a second batch
        stop.set()

    writer = threading.Thread(target=drop)
    writer.start()
    watch(settings, on_batch, stable_seconds=1.5, debounce_seconds=0.5, poll_seconds=0.2, stop=stop)
    writer.join()
    assert len(batches) == 1, batches
    assert sorted(batches[0]) == sorted([(big.name, big.stat().st_size), (small.name, small.stat().st_size)])
    counts = _counts(settings)
    assert [(f[0], f[1]) for f in counts["files"]] == [(big.name, "loaded"), (small.name, "loaded")]
    rows_in_big = sum(1 for _ in open(big, encoding="utf-8-sig")) - 1
    assert counts["files"][0][2] == rows_in_big  # the whole file, not the half seen while it was growing
    assert counts["submissions"] == counts["distinct"]


WRITER = """
import sys, time
src, dest, pause, stamp = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
data = open(src, "rb").read()
with open(dest, "wb") as f:
    f.write(data[:len(data) // 2])
    f.flush()
    time.sleep(pause)  # half a file on disk, unchanged, still open
    f.write(data[len(data) // 2:])
open(stamp, "w").write(repr(time.time()))  # closed
"""


def test_a_paused_writer_is_waited_for_until_it_closes_the_file(prefect_harness, small_demo, tmp_path):
    if not writers.available():
        pytest.skip("needs Linux /proc fdinfo")
    import io

    from rich.console import Console

    from flows.display import stage_display
    from flows.watch import local_runner, watch

    settings = load_settings(small_demo / "assessment.toml")
    held = tmp_path / "held"
    shutil.move(settings.inbox, held)
    settings.inbox.mkdir()
    source = held / "kobo_export_2026-11-10.csv"
    stamp = tmp_path / "closed-at"
    shown = Console(file=io.StringIO(), width=80)
    run = local_runner(
        settings,
        reports=False,
        display=lambda: stage_display(shown),
        on_result=lambda result: results.append(result),
    )
    batches: list[tuple[float, list[tuple[str, int]]]] = []
    results: list = []
    stop = threading.Event()

    def on_batch(files):
        batches.append((time.time(), [(p.name, p.stat().st_size) for p in files]))
        run(files)
        stop.set()

    pause, stable = 4.0, 1.0  # the writer pauses 4x longer than the size-stable rule waits
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(source), str(settings.inbox / source.name), str(pause), str(stamp)]
    )
    deadline = threading.Timer(240, stop.set)
    deadline.start()
    try:
        watch(settings, on_batch, stable_seconds=stable, debounce_seconds=0.3, poll_seconds=0.1, stop=stop)
    finally:
        deadline.cancel()
    assert writer.wait(30) == 0
    [(released_at, files)] = batches
    assert files == [(source.name, source.stat().st_size)]  # the whole file
    assert released_at >= float(stamp.read_text())  # only after the writer closed it
    [result] = results
    rows = sum(1 for _ in open(source, encoding="utf-8-sig")) - 1
    assert [(f.file, f.status, f.rows, f.accepted + f.quarantined) for f in result.files] == [
        (source.name, "loaded", rows, rows)
    ]
    assert "Files staged" in shown.file.getvalue() and "1/1" in shown.file.getvalue()


def _runs_done(settings) -> int:
    try:
        con = duckdb.connect(str(settings.store_path), read_only=True)
    except duckdb.Error:
        return 0
    try:
        return con.execute("SELECT count(DISTINCT run_id) FROM files").fetchone()[0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def test_busy_store_exits_3_and_the_failure_is_notified(prefect_harness, small_demo, webhook, tmp_path):
    from typer.testing import CliRunner

    from assess.ops.lock import store_lock
    from flows.cli import app

    url, received = webhook
    marker = tmp_path / "notified.txt"
    config = small_demo / "assessment.toml"
    cmd = f"{sys.executable} -c \"import os; open({str(marker)!r}, 'w').write(os.environ['ASSESS_STATE'])\""
    _append(config, f"[notify]\nwebhook = {json.dumps(url)}\ncommand = {json.dumps(cmd)}")
    settings = load_settings(config)
    shutil.rmtree(settings.inbox)  # nothing to stage: the run goes straight for the lock
    settings.inbox.mkdir()
    with store_lock(settings.lock_path):  # another run is writing
        result = CliRunner().invoke(app, ["run", "--config", str(config), "--no-reports", "--wait", "1"])
    assert result.exit_code == 3, result.output
    assert "being written by another run" in result.output and "waited 1 s" in result.output
    assert len(received) == 1
    body = received[0]["json"]
    assert body["event"] == "assess.run.failed" and body["state"] == "Failed"
    assert "being written by another run" in body["message"]
    assert body["assessment"] == str(settings.config_path) and body["run_id"]
    assert marker.read_text() == "Failed"


def test_two_concurrent_runs_do_not_corrupt_the_store(prefect_harness, small_demo):
    from prefect.settings import PREFECT_API_URL

    config = small_demo / "assessment.toml"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "200"}
    procs = [
        subprocess.Popen(
            [ASSESS, "run", "--config", str(config), "--no-reports"],
            env=env,
            cwd=small_demo,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=400)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n=====\n".join(outs)
    settings = load_settings(config)
    counts = _counts(settings)
    assert [f[1] for f in counts["files"]] == ["loaded"] * 5  # three exports and two roster re-exports
    assert counts["submissions"] == counts["distinct"] == 301  # 300 and the planted near-duplicate (issue 17)
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM selections").fetchone()[0] > 0
    finally:
        con.close()
