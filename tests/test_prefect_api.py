"""Which Prefect API `assess run` uses (flows/prefect_api.py): the order of the rule, and the health probe
against a tiny local HTTP server on 127.0.0.1 (a real `prefect server start` is in test_server_mode.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flows.deploy import free_port
from flows.prefect_api import PROBE_SECONDS, answers, choose, profile_api_url


@contextmanager
def health_server(body: bytes = b"true", status: int = 200, delay: float = 0.0) -> Iterator[str]:
    """A server on 127.0.0.1 answering /api/health like Prefect's; yields its API url."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            ok = self.path == "/api/health"
            self.send_response(status if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if ok else b"{}")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def _nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}/api"  # nothing listens there


def test_a_server_answering_the_health_check_is_used(tmp_path):
    env = {"PREFECT_HOME": str(tmp_path)}
    with health_server() as url:
        api = choose(None, env, local=url)
    assert api.url == url
    assert api.line() == f"Prefect: server {url} (answering on {url}/health)."


def test_without_a_server_the_embedded_one_is_used(tmp_path):
    env = {"PREFECT_HOME": str(tmp_path)}
    local = _nowhere()
    api = choose(None, env, local=local)
    assert api.url is None
    assert api.line() == (
        f"Prefect: embedded server (no server answered on {local}/health; `assess serve` starts one)."
    )
    with health_server(status=500) as url:  # something else on the port: not a Prefect server
        assert choose(None, env, local=url).url is None
    with health_server(body=b"<html>hello</html>") as url:
        assert choose(None, env, local=url).url is None


def test_a_slow_server_is_given_half_a_second(tmp_path):
    with health_server(delay=3.0) as url:
        started = time.monotonic()
        api = choose(None, {"PREFECT_HOME": str(tmp_path)}, local=url)
        took = time.monotonic() - started
    assert api.url is None
    assert PROBE_SECONDS <= took < PROBE_SECONDS + 1.0


def test_the_order_config_then_environment_then_profile_then_probe(tmp_path):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://profile:4200/api"\n[profiles.other]\n',
        encoding="utf-8",
    )
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_API_URL": "http://env:4200/api"}
    with health_server() as local:
        assert choose("http://config:4200/api", env, local=local).line() == (
            "Prefect: server http://config:4200/api ([prefect] api_url)."
        )
        assert (
            choose(None, env, local=local).line() == "Prefect: server http://env:4200/api (PREFECT_API_URL)."
        )
        no_env = {"PREFECT_HOME": str(tmp_path)}
        assert choose(None, no_env, local=local).line() == (
            "Prefect: server http://profile:4200/api (PREFECT_API_URL of the Prefect profile)."
        )
        assert profile_api_url({**no_env, "PREFECT_PROFILE": "other"}) is None
        assert choose(None, {**no_env, "PREFECT_PROFILE": "other"}, local=local).url == local
    assert answers(local) is False  # stopped


def test_config_api_url_is_checked(tmp_path):
    import pytest

    from assess.core.settings import ConfigError, load_settings

    form = tmp_path / "form.xlsx"
    form.write_bytes(b"")
    config = tmp_path / "assessment.toml"
    config.write_text(
        '[survey]\nxlsform = "form.xlsx"\n[prefect]\napi_url = "localhost:4200"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"\[prefect\] api_url must be the address of a Prefect server"):
        load_settings(config)
    config.write_text(
        '[survey]\nxlsform = "form.xlsx"\n[prefect]\napi_url = "http://127.0.0.1:4300/api/"\n',
        encoding="utf-8",
    )
    assert load_settings(config).prefect_api_url == "http://127.0.0.1:4300/api"
