"""The sampling frame: one row per stratum with its population (`[design] frame`, `strata`, `population`).

`read_frame` is the only reader of the frame: the design weights and the report's methodology table both
use it, so a stratum has the same code and population everywhere. Every cell is text: a stratum coded
`NA`, `null`, `N/A` or `01` is that code, never "missing" and never a number. Rows are numbered as in the
spreadsheet (header row 1, first data row 2); every mistake is a `ConfigError` naming the file, the row and
the column. This module never imports prefect.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..core.settings import ConfigError, Settings

__all__ = ["read_frame"]

EXCEL_SUFFIXES = (".xlsx", ".xls", ".xlsm")


def _read_table(path: Path) -> pd.DataFrame:
    """The frame file as text cells ('' for an empty cell), one DataFrame row per spreadsheet row."""
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        df = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[])
    elif suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], skip_blank_lines=False, encoding="utf-8-sig"
        )
    df.columns = [str(c).strip() for c in df.columns]
    return df.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())


def read_frame(settings: Settings) -> dict[str, float]:
    """{stratum code: population} from `settings.frame`, in file order (ConfigError when the frame is unusable)."""
    path, config = settings.frame, settings.config_path
    if path is None:
        raise ConfigError(f"{config}: [design] frame is not set; name the sampling frame file.")
    if not path.is_file():
        raise ConfigError(f"{path}: sampling frame not found; check [design] frame in {config}.")
    try:
        df = _read_table(path)
    except (OSError, ValueError, ImportError) as exc:  # parser, encoding and engine errors are ValueErrors
        raise ConfigError(
            f"{path}: the sampling frame cannot be read ({str(exc).splitlines()[0] if str(exc) else exc!r}); "
            "save it as a UTF-8 CSV with a header row."
        ) from exc
    strata, population = settings.strata or "", settings.population
    for column, key in ((strata, "strata"), (population, "population")):
        if column not in df.columns:
            raise ConfigError(
                f"{path}: the sampling frame has no column '{column}' (columns: "
                f"{', '.join(repr(c) for c in df.columns)}); rename the column or set [design] {key} in {config}."
            )
    frame: dict[str, float] = {}
    first_row: dict[str, int] = {}
    for i, (code, text) in enumerate(zip(df[strata], df[population], strict=True)):
        row = i + 2  # the header is row 1
        if code == "" and text == "":
            continue  # a blank row
        if code == "":
            raise ConfigError(
                f"{path}: row {row}, column '{strata}' is empty; write the stratum's code or delete the row."
            )
        if text == "":
            raise ConfigError(
                f"{path}: row {row}, column '{population}' is empty; give stratum '{code}' its "
                "population or delete the row."
            )
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(
                f"{path}: row {row}, column '{population}': '{text}' is not a number; write the "
                f"population of stratum '{code}' as a plain number such as 12000."
            )
        if value < 0:
            raise ConfigError(
                f"{path}: row {row}, column '{population}': {text} is negative; write the "
                f"population of stratum '{code}' (0 or more)."
            )
        if code in first_row:
            raise ConfigError(
                f"{path}: row {row}, column '{strata}': stratum '{code}' is already listed on row "
                f"{first_row[code]}; keep one row per stratum."
            )
        first_row[code] = row
        frame[code] = value
    return frame
