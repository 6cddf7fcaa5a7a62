"""Tell someone when a run fails: `[notify] webhook` (POST JSON) and/or `[notify] command` (run with env vars).

Called from the flow's failure hook, so nightly and folder-drop runs that nobody watches still reach a
person. Never raises: a broken notifier must not hide the failure it reports; problems are logged.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """What a data officer needs to act on a failed run."""

    assessment: str  # config path
    round: str
    flow: str
    run_name: str
    run_id: str
    state: str  # Failed | Crashed | Rejected (the run completed, but every new file was rejected)
    message: str
    ui_url: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"event": "assess.run.failed", **self.__dict__}

    def env(self) -> dict[str, str]:
        return {f"ASSESS_{k.upper()}": str(v) for k, v in self.as_dict().items() if v is not None}


def send(
    failure: Failure, webhook: str | None = None, command: str | None = None, timeout: float = 10.0
) -> list[str]:
    """Deliver `failure` to the configured channels; return the ones that succeeded ("webhook", "command")."""
    done: list[str] = []
    if webhook:
        body = json.dumps(failure.as_dict()).encode("utf-8")
        req = urllib.request.Request(
            webhook,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "assess-notify"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - URL comes from the config
                resp.read()
            done.append("webhook")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.error("failure notification to %s did not go through: %s", webhook, exc)
    if command:
        try:
            proc = subprocess.run(
                shlex.split(command),
                env={**os.environ, **failure.env()},
                timeout=60,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode == 0:
                done.append("command")
            else:
                log.error("notify command exited %d: %s", proc.returncode, (proc.stderr or "").strip()[:500])
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            log.error("notify command %r could not run: %s", command, exc)
    return done
