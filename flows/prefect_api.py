"""Which Prefect API `assess run` uses, chosen before Prefect is imported (so that a choice costs no start-up).

In order: `[prefect] api_url` in the config; `PREFECT_API_URL` (the environment, or the active Prefect
profile); a server answering on http://127.0.0.1:4200/api/health within 0.5 s (the one `assess serve` starts);
otherwise Prefect's embedded server, started for the run (the slow way: see README "Prefect start cost").
"""

from __future__ import annotations

import os
import sys
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOCAL_API = "http://127.0.0.1:4200/api"
PROBE_SECONDS = 0.5


@dataclass(frozen=True)
class PrefectApi:
    url: str | None  # None: the embedded server
    source: str  # why this one

    def line(self) -> str:
        """The one line the CLI prints."""
        if self.url is None:
            return f"Prefect: embedded server ({self.source})."
        return f"Prefect: server {self.url} ({self.source})."


def answers(url: str, timeout: float = PROBE_SECONDS) -> bool:
    """True when a Prefect server answers `<url>/health` with 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as resp:
            return resp.status == 200 and resp.read(64).strip().lower() in (b"true", b'"ok"', b"ok")
    except (OSError, ValueError):
        return False


def profile_api_url(env: dict[str, str] | None = None) -> str | None:
    """PREFECT_API_URL of the active Prefect profile (`prefect config set`), read without importing Prefect."""
    env = os.environ if env is None else env
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    name = env.get("PREFECT_PROFILE") or data.get("active")
    profile = data.get("profiles", {}).get(name, {}) if isinstance(name, str) else {}
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return url if isinstance(url, str) and url else None


def choose(config_url: str | None, env: dict[str, str] | None = None, local: str = LOCAL_API) -> PrefectApi:
    """The Prefect API to use, by the rule in the module docstring (probes `local` only when nothing is set)."""
    env = os.environ if env is None else env
    if config_url:
        return PrefectApi(config_url, "[prefect] api_url")
    if env.get("PREFECT_API_URL"):
        return PrefectApi(env["PREFECT_API_URL"], "PREFECT_API_URL")
    profiled = profile_api_url(env)
    if profiled:
        return PrefectApi(profiled, "PREFECT_API_URL of the Prefect profile")
    if answers(local):
        return PrefectApi(local, f"answering on {local}/health")
    return PrefectApi(None, f"no server answered on {local}/health; `assess serve` starts one")


def use(config_url: str | None) -> PrefectApi:
    """Choose, and make Prefect use it: sets PREFECT_API_URL before Prefect is imported. When Prefect is
    already imported (in-process callers, tests), its own settings decide and are reported as they are."""
    if "prefect" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        current = PREFECT_API_URL.value()
        return PrefectApi(current or None, "Prefect's settings in this process")
    api = choose(config_url)
    if api.url is not None:
        os.environ["PREFECT_API_URL"] = api.url
    return api
