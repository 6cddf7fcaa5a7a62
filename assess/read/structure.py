"""Structural checks: is this file, as a whole, an export of this form that we can key and place?"""

from __future__ import annotations

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import fetch_one
from ..core.xlsform import XLSForm
from .export import ODK_CENTRAL_METADATA, Staged, StructuralError

# Export metadata (Kobo, ODK Central, SurveyCTO) that is not a form question.
METADATA_PREFIXES = ("_", "meta-", "meta/", "__")
METADATA_NAMES = ODK_CENTRAL_METADATA | {
    "start",
    "end",
    "today",
    "deviceid",
    "uuid",
    "instanceID",
    "index",
    "parent_index",
    "formdef_version",
    "CompletionDate",
    "instanceName",
}


def column_for(staged: Staged, name: str) -> str | None:
    """The staged column for a question name or a raw export header."""
    for c in staged.columns:
        if c.option is None and c.part is None and (c.name == name or c.question == name):
            return c.name
    for c in staged.columns:
        if c.header.strip() == name:
            return c.name
    return None


def structural_checks(staged: Staged, form: XLSForm, settings: Settings) -> None:
    """Raise StructuralError when the file cannot be used at all."""
    data_cols = [
        c
        for c in staged.columns
        if not c.name.startswith(METADATA_PREFIXES) and c.header.strip() not in METADATA_NAMES
    ]
    matched = [c for c in data_cols if c.question]
    if data_cols and len(matched) < max(1, 0.25 * len(data_cols)):
        raise StructuralError(
            f"this file does not look like an export of the form '{form.title}' ({form.path.name}): only "
            f"{len(matched)} of its {len(data_cols)} data columns are questions of that form. Check that the "
            "file was exported from the right form, or point [survey] xlsform at its form."
        )
    missing = [lvl for lvl in settings.region_levels if column_for(staged, lvl) is None]
    for name in (settings.strata, settings.cluster, settings.weight):
        if name and column_for(staged, name) is None and name not in missing:
            missing.append(name)
    if missing:
        raise StructuralError(
            f"the column(s) {', '.join(repr(m) for m in missing)} named in the config ([regions] levels / [design]) "
            "are not in this file. Export with all questions, or fix the names in the config."
        )
    con = duckdb.connect()
    path = str(staged.path).replace("'", "''")
    rows, distinct = fetch_one(con, f"SELECT count(*), count(DISTINCT _sid) FROM read_parquet('{path}')")
    if rows >= 10 and distinct < 0.5 * rows:
        id_header = next(c.header for c in staged.columns if c.name == staged.id_column)
        raise StructuralError(
            f"the submission id column '{id_header}' is not unique per row ({distinct} distinct values over {rows} "
            "rows): it probably identifies the form or the device, not the submission. Set [survey] id_column to "
            "the column that identifies each submission (e.g. KEY, _uuid or meta-instanceID)."
        )
