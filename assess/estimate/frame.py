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

__all__ = ["area_populations", "read_frame"]

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
    """{stratum code: population} from `settings.frame`, in file order (ConfigError when the frame is unusable).

    A frame may list the areas of a finer region level inside each stratum (a column named like the level,
    e.g. `admin2`, one row per district): the stratum's population is then the sum of its rows."""
    frame: dict[str, float] = {}
    for (code, _), value in _frame_rows(settings).items():
        frame[code] = frame.get(code, 0.0) + value
    return frame


def area_populations(settings: Settings) -> dict[tuple[str, str], float]:
    """(level, area code) -> population from the frame: national ('national', 'all'), each stratum, and each
    area of a finer level the frame lists (for people in need). Empty without a frame."""
    if settings.frame is None or not settings.strata:
        return {}
    rows = _frame_rows(settings)
    out: dict[tuple[str, str], float] = {("national", "all"): sum(rows.values())}
    finer = _finer_level(settings, None)
    for (code, sub), value in rows.items():
        key = (settings.strata, code)
        out[key] = out.get(key, 0.0) + value
        if sub and finer:
            out[(finer, sub)] = value
    return out


def _finer_level(settings: Settings, columns: list[str] | None) -> str | None:
    levels = settings.region_levels
    if settings.strata not in levels or levels.index(settings.strata) + 1 >= len(levels):
        return None
    finer = levels[levels.index(settings.strata) + 1]
    return finer if columns is None or finer in columns else None


def _frame_rows(settings: Settings) -> dict[tuple[str, str], float]:
    """(stratum, finer area or '') -> population, one entry per frame row (checked as described above)."""
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
    finer = _finer_level(settings, list(df.columns))
    subs = df[finer] if finer else [""] * len(df)
    frame: dict[tuple[str, str], float] = {}
    first_row: dict[tuple[str, str], int] = {}
    for i, (code, sub, text) in enumerate(zip(df[strata], subs, df[population], strict=True)):
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
        if (code, sub) in first_row:
            what = f"area '{sub}' of stratum '{code}'" if finer else f"stratum '{code}'"
            raise ConfigError(
                f"{path}: row {row}, column '{finer if finer else strata}': {what} is already listed on row "
                f"{first_row[(code, sub)]}; keep one row per {'area' if finer else 'stratum'}."
            )
        first_row[(code, sub)] = row
        frame[(code, sub)] = value
    return frame
