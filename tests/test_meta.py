"""Project conventions a reader relies on."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_domain_library_never_imports_prefect():
    offenders = [
        p.name
        for p in (ROOT / "assess").rglob("*.py")
        if re.search(r"^\s*(from|import)\s+prefect", p.read_text(), flags=re.M)
    ]
    assert offenders == []


def test_every_cli_command_is_in_the_readme():
    from typer.main import get_command

    from flows.cli import app

    readme = (ROOT / "README.md").read_text()
    cli = get_command(app)
    names = []
    for name, cmd in cli.commands.items():
        if hasattr(cmd, "commands"):
            names += [f"{name} {sub}" for sub in cmd.commands]
        else:
            names.append(name)
    missing = [n for n in names if f"assess {n}" not in readme]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()
