"""Locate the team's shared real-data folder (../shared next to the repo) for tests.

Tests that need it call ``shared_dir()``: it skips the test when the folder is absent, except on CI
(``CI=true``), where a missing folder is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_dir(*parts: str) -> Path:
    """Path to ``shared/<parts...>``; skip (or fail on CI) when it does not exist."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        msg = f"shared data not found: {p}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return p
