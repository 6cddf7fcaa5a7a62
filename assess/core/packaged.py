"""Files shipped with assess: where the report templates and print CSS are (a checkout or an installed wheel).

A source checkout keeps them in the repository's `templates/` folder (the layout users asked for); a wheel
installs the same files as package data under `assess/templates/`. Here, in core, so that the input registry
(assess/store/inputs.py) can fingerprint them as well as the report layer render them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


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
