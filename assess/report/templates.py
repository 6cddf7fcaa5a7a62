"""Where the Jinja2 templates and the print CSS live, and the one Jinja2 environment that renders them.

A source checkout keeps them in the repository's `templates/` folder (the layout users asked for); a wheel
installs the same files as package data under `assess/templates/`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@cache
def templates_dir() -> Path:
    installed = Path(str(resources.files("assess"))) / "templates"
    if (installed / "report.css").is_file():
        return installed
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "report.css").is_file():
        return checkout
    raise FileNotFoundError(
        f"the report templates are missing (looked in {installed} and {checkout}); reinstall assess"
    )


@cache
def environment() -> Environment:
    """Autoescaping, strict (an undefined name is an error, not an empty cell)."""
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(["html", "j2", "html.j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
