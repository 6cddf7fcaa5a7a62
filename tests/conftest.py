"""Shared fixtures: a demo assessment in a temp dir, and one Prefect test harness for the session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("ASSESS_HASH_KEY", "test-key-not-secret")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo assessment, generated once per session (copy it before changing anything)."""
    from assess.demo import write_demo

    root = tmp_path_factory.mktemp("demo-template")
    write_demo(root)
    return root


@pytest.fixture
def demo_dir(demo_template, tmp_path) -> Path:
    """A fresh copy of the demo assessment for one test."""
    dest = tmp_path / "demo"
    shutil.copytree(demo_template, dest)
    return dest


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server (SQLite) for all flow tests in the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
