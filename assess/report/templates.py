"""The one Jinja2 environment that renders the report templates (found by `assess.core.packaged`).

A source checkout keeps them in the repository's `templates/` folder (the layout users asked for); a wheel
installs the same files as package data under `assess/templates/`.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..core.packaged import templates_dir

__all__ = ["environment", "templates_dir"]


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
