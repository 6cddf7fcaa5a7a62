"""Repeat groups (household rosters, per-member modules): read from the exporters' own shapes and linked to
their households, so that every member row carries its household's submission id and an instance path.

- KoboToolbox XLSX (formpack): the first sheet holds the households, every other sheet one repeat group, named
  after it (cut to Excel's 31 characters as `name[:28]...`, `... (1)` when two cuts clash; `[]:*?/\\` become
  `_`). A repeat row has `_parent_table_name` (the parent repeat's name, else the form's) and `_parent_index`
  (-> the `_index` of its parent sheet's row), and `_submission_*` copies (`_submission__uuid`, ...). A sheet
  has `_index` only when it has child repeats (or the export forces it).
- ODK Central csv.zip (central-backend `lib/data/briefcase.js`): `<formId>.csv` holds the households, one
  `<formId>-<repeat>.csv` per repeat group (`~1`, `~2` when repeat names clash) ends with `PARENT_KEY, KEY`,
  keys like `uuid:<id>/<group>/roster[2]/child[1]`; media files are ignored.

Both give the same instance path: `roster[n]` or `roster[n]/child[m]`, n counted from 1 within the parent
instance in the export's row order (Central's key numbers instances the same way). Kobo's `_index` shifts between
cumulative exports and is only used to link rows within one file, never as a key.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import duckdb

from ..core.sqlutil import fetch_value, literal, quote
from ..core.xlsform import XLSForm
from .export import (
    MAX_XLSX_UNCOMPRESSED,
    Column,
    Sheet,
    Staged,
    StagedRepeat,
    StagedTable,
    StructuralError,
    _detect_encoding,
    _read_header_csv,
    household,
    map_columns,
    repeats_missing_note,
    stage_csv_table,
    stage_sheet,
)

KOBO_INDEX = "_index"
KOBO_PARENT_INDEX = "_parent_index"
KOBO_PARENT_TABLE = "_parent_table_name"
KOBO_SUBMISSION_UUID = "_submission__uuid"
ODK_KEY = "KEY"
ODK_PARENT_KEY = "PARENT_KEY"
EXCEL_FORBIDDEN = "[]:*?/\\"
SHEET_NAME_LIMIT = 31
MAX_ZIP_MEMBERS = 10_000
_ELLIPSIS = re.compile(r"(.*?)\.\.\.(?: \(\d+\))?")


def _column(columns: list[Column], header: str) -> str | None:
    """The staged name of the export column `header` (exact first, then ignoring case)."""
    found = next((c.name for c in columns if c.header.strip() == header), None)
    return found or next((c.name for c in columns if c.header.strip().lower() == header.lower()), None)


def _sid_sql(expr: str) -> str:
    return f"NULLIF(regexp_replace(trim({expr}), '^uuid:', ''), '')"


# ------------------------------------------------------------------------------------------------ Kobo XLSX


def sheet_matches(sheet_name: str, repeat: str) -> bool:
    """True when Kobo would name the sheet of `repeat` `sheet_name` (31-character cut, ellipsis, forbidden
    characters replaced); Excel ignores case in sheet names."""
    sheet = sheet_name.strip().casefold()
    name = repeat.translate({ord(c): "_" for c in EXCEL_FORBIDDEN}).casefold()
    if sheet in (name, name[:SHEET_NAME_LIMIT]):
        return True
    cut = _ELLIPSIS.fullmatch(sheet)
    return bool(cut and cut.group(1) and len(name) > len(cut.group(1)) and name.startswith(cut.group(1)))


def _first_value(sheet: Sheet, header: str) -> str | None:
    idx = next((i for i, h in enumerate(sheet.header) if h.strip() == header), None)
    if idx is None:
        return None
    return next((str(r[idx]).strip() for r in sheet.body if idx < len(r) and r[idx] not in (None, "")), None)


def match_sheet(sheet: Sheet, form: XLSForm, taken: set[str]) -> str | None:
    """The repeat group a Kobo sheet holds: by its name, then `_parent_table_name`, then its columns."""
    parent_table = _first_value(sheet, KOBO_PARENT_TABLE)

    def parent_fits(name: str) -> bool:
        if parent_table is None:
            return True
        parent = form.repeats[name].parent
        return parent == parent_table if parent_table in form.repeats else parent is None

    def score(name: str) -> int:
        columns, _ = map_columns(sheet.header, form, name)
        return sum(1 for c in columns if c.question)

    free = [r for r in form.repeats if r not in taken]
    named = [r for r in free if sheet_matches(sheet.name, r)]
    candidates = [r for r in named if parent_fits(r)] or named
    if not candidates:
        candidates = [r for r in free if parent_fits(r) and score(r) > 0]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (score(r), -list(form.repeats).index(r)))


def stage_kobo_repeats(staged: Staged, sheets: list[Sheet], form: XLSForm) -> None:
    """Stage every repeat sheet of a Kobo workbook into `staged.repeats`; notes go to `staged.warnings`."""
    raws: dict[str, tuple[str, StagedTable]] = {}
    with tempfile.TemporaryDirectory(dir=staged.path.parent) as tmp:
        for i, sheet in enumerate(sheets):
            if not sheet.header or not any(h for h in sheet.header):
                staged.warnings.append(f"sheet '{sheet.name}' is empty; ignored")
                continue
            name = match_sheet(sheet, form, set(raws))
            if name is None:
                staged.warnings.append(f"sheet '{sheet.name}' is not a repeat group of the form; ignored")
                continue
            table = stage_sheet(sheet, form, Path(tmp) / f"raw{i}.parquet", repeat=name)
            staged.warnings += [f"sheet '{sheet.name}': {w}" for w in table.warnings]
            raws[name] = (sheet.name, table)
        con = duckdb.connect()
        try:
            _link_kobo(con, staged, raws, form)
        finally:
            con.close()


def _link_kobo(
    con: duckdb.DuckDBPyConnection, staged: Staged, raws: dict[str, tuple[str, StagedTable]], form: XLSForm
) -> None:
    hh = f"read_parquet({literal(str(staged.path))})"
    con.execute(
        f"CREATE TEMP TABLE by_uuid AS SELECT _sid AS sid, min(_row) AS hh_row, '' AS path FROM {hh} "
        "WHERE _sid IS NOT NULL GROUP BY _sid"
    )
    links: dict[str | None, str] = {}  # parent (None: households) -> temp table of (k, hh_row, sid, path)
    index = _column(staged.columns, KOBO_INDEX)
    if index:
        con.execute(
            f"CREATE TEMP TABLE link_hh AS SELECT TRY_CAST({quote(index)} AS DOUBLE) AS k, _row AS hh_row, "
            f"_sid AS sid, '' AS path FROM {hh} WHERE k IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY k ORDER BY _row) = 1"
        )
        links[None] = "link_hh"
    missing: list[str] = []
    for n, (name, rep) in enumerate(form.repeats.items()):
        if name not in raws or (rep.parent is not None and rep.parent not in staged.repeats):
            missing.append(name)
            continue
        member, table = raws[name]
        parent_index = _column(table.columns, KOBO_PARENT_INDEX)
        uuid = _column(table.columns, KOBO_SUBMISSION_UUID)
        raw = f"read_parquet({literal(str(table.path))})"
        if parent_index and rep.parent in links:
            join = f"LEFT JOIN {links[rep.parent]} p ON p.k = TRY_CAST(r.{quote(parent_index)} AS DOUBLE)"
        elif rep.parent is None and uuid:
            join = f"LEFT JOIN by_uuid p ON p.sid = {_sid_sql('r.' + quote(uuid))}"
        else:
            parent = f"repeat group '{rep.parent}'" if rep.parent else "household"
            staged.warnings.append(
                f"sheet '{member}' (repeat group '{name}') cannot be linked to its {parent} rows: it has no "
                f"{KOBO_PARENT_INDEX} column (or the parent sheet no {KOBO_INDEX} column); its rows were not read. "
                "Export again from KoboToolbox without removing those columns"
            )
            missing.append(name)
            continue
        fallback = _sid_sql("r." + quote(uuid)) if uuid else "CAST(NULL AS VARCHAR)"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE linked AS
            SELECT r.* EXCLUDE (_sid), coalesce(p.sid, {fallback}) AS __sid, p.hh_row AS __hh, p.path AS __pp,
                   row_number() OVER (PARTITION BY p.hh_row, p.path ORDER BY r._row) AS __n
            FROM {raw} r {join}""")
        out = staged.path.with_name(f"{staged.path.stem}.repeat{n}.parquet")
        staged.repeats[name] = _write_repeat(
            con,
            name,
            member,
            table,
            out,
            parent=rep.parent,
            path_sql=(
                "CASE WHEN __hh IS NOT NULL THEN (CASE WHEN __pp = '' THEN '' ELSE __pp || '/' END) || $name || '[' "
                "|| __n || ']' END"
            ),
            parent_sql="CASE WHEN __hh IS NOT NULL THEN __pp END",
            pos_sql="CASE WHEN __hh IS NOT NULL THEN __n END",
        )
        own_index = _column(table.columns, KOBO_INDEX)
        if own_index:
            links[name] = f"link_{n}"
            con.execute(
                f"CREATE TEMP TABLE link_{n} AS SELECT TRY_CAST({quote(own_index)} AS DOUBLE) AS k, "
                f"_hh_row AS hh_row, _sid AS sid, _path AS path FROM read_parquet({literal(str(out))}) "
                "WHERE k IS NOT NULL AND _hh_row IS NOT NULL "
                "QUALIFY row_number() OVER (PARTITION BY k ORDER BY _row) = 1"
            )
    if missing:
        staged.warnings.append(repeats_missing_note(form, missing, "xlsx"))


def _write_repeat(
    con: duckdb.DuckDBPyConnection,
    name: str,
    member: str,
    table: StagedTable,
    out: Path,
    *,
    parent: str | None,
    path_sql: str,
    parent_sql: str,
    pos_sql: str,
) -> StagedRepeat:
    """Write the `linked` temp table (raw columns plus __sid, __hh and what path_sql etc. read) as the repeat's
    staging Parquet: `_row, _sid, _hh_row, _path, _parent_path, _pos`, then the mapped columns."""
    cols = ", ".join(quote(c.name) for c in table.columns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE staged_repeat AS
        SELECT _row, __sid AS _sid, CASE WHEN ({path_sql}) IS NOT NULL THEN __hh END AS _hh_row,
               {path_sql} AS _path, {parent_sql} AS _parent_path, CAST({pos_sql} AS BIGINT) AS _pos{", " + cols if cols else ""}
        FROM linked ORDER BY _row""",
        {"name": name},
    )
    tmp = out.with_suffix(".parquet.tmp")
    con.execute(f"COPY staged_repeat TO {literal(str(tmp))} (FORMAT parquet)")
    tmp.replace(out)
    rows = fetch_value(con, "SELECT count(*) FROM staged_repeat")
    return StagedRepeat(repeat=name, member=member, path=out, rows=rows, columns=table.columns, parent=parent)


# ------------------------------------------------------------------------------------------------ ODK csv.zip


def _zip_csv_members(path: Path) -> list[zipfile.ZipInfo]:
    """The CSV members of a zip, after the zip-bomb and path guards that every member passes."""
    if not zipfile.is_zipfile(path):
        raise StructuralError(
            "this .zip file is not a valid zip archive. It may be damaged: download the export again."
        )
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise StructuralError(f"this zip holds {len(infos):,} files, which no survey export does.")
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise StructuralError(
            f"this zip expands to {total / 1e9:.1f} GB, which is not a plausible survey export. "
            "Export the households as CSV instead."
        )
    for info in infos:
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise StructuralError(
                f"this zip holds a file named '{info.filename[:120]}', which points outside the "
                "archive: no survey export does that. Download the export again."
            )
    return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".csv")]


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> Path:
    """Copy one member out under our own name (never the member's), reading at most its declared size."""
    with zf.open(info) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return dest


def _first_row(path: Path) -> tuple[list[str], list[str]]:
    with open(path, "rb") as fh:
        codec, _ = _detect_encoding(fh.read(1 << 16))
    header, delim = _read_header_csv(path, codec)
    with open(path, encoding=codec, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delim)
        next(reader, None)
        first = next(reader, [])
    return header, first


def _repeat_of_member(
    member: str, header: list[str], first: list[str], main_stem: str, form: XLSForm
) -> str | None:
    """The repeat group of an ODK member CSV: the last `name[n]` of its KEY, else its file name."""
    key = next((first[i] for i, h in enumerate(header) if h.strip() == ODK_KEY and i < len(first)), "")
    steps = [s for s in key.split("/")[1:] if re.search(r"\[\d+\]$", s)]
    if steps:
        name = re.sub(r"\[\d+\]$", "", steps[-1])
        if name in form.repeats:
            return name
    stem = PurePosixPath(member).name[: -len(".csv")]
    stem = re.sub(r"~\d+$", "", stem)
    if stem.startswith(main_stem + "-"):
        stem = stem[len(main_stem) + 1 :]
    return stem if stem in form.repeats else None


def stage_zip(path: Path, form: XLSForm, out: Path, *, id_column: str | None = None) -> Staged:
    """Stage an ODK Central csv.zip: `<formId>.csv` (households) and one CSV per repeat group."""
    infos = _zip_csv_members(path)
    if not infos:
        raise StructuralError(
            "this zip holds no CSV file. Drop the csv.zip downloaded from ODK Central (or the "
            "CSV or XLSX export itself)."
        )
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp_name:
        tmp = Path(tmp_name)
        files: list[tuple[str, Path, list[str], list[str]]] = []
        with zipfile.ZipFile(path) as zf:
            for i, info in enumerate(infos):
                extracted = _extract(zf, info, tmp / f"member{i}.csv")
                if extracted.stat().st_size == 0:
                    continue
                header, first = _first_row(extracted)
                files.append((info.filename, extracted, header, first))
        repeat_files = [f for f in files if any(h.strip() == ODK_PARENT_KEY for h in f[2])]
        mains = [f for f in files if f not in repeat_files]
        if len(mains) > 1:  # `<formId>.csv` is the one the repeat files are named after
            named = [
                m
                for m in mains
                if any(
                    PurePosixPath(r[0]).name.startswith(PurePosixPath(m[0]).stem + "-") for r in repeat_files
                )
            ]
            mains = named or mains
        if len(mains) != 1:
            found = ", ".join(f"'{f[0]}'" for f in files) or "none"
            raise StructuralError(
                f"this zip should hold one households CSV (<formId>.csv) beside the repeat group CSVs; found: "
                f"{found[:300]}. Drop the csv.zip exactly as ODK Central gave it."
            )
        main_name, main_path = mains[0][0], mains[0][1]
        staged = household(stage_csv_table(main_path, form, out, id_column=id_column), "csv.zip")
        main_stem = PurePosixPath(main_name).stem
        raws: dict[str, tuple[str, StagedTable]] = {}
        for i, (member, extracted, header, first) in enumerate(repeat_files):
            name = _repeat_of_member(member, header, first, main_stem, form)
            if name is None:
                staged.warnings.append(f"'{member}' is not a repeat group of the form; ignored")
                continue
            if name in raws:
                staged.warnings.append(
                    f"'{member}' holds the repeat group '{name}' again; only '{raws[name][0]}' was read"
                )
                continue
            table = stage_csv_table(extracted, form, tmp / f"raw{i}.parquet", repeat=name)
            staged.warnings += [f"'{member}': {w}" for w in table.warnings]
            raws[name] = (member, table)
        con = duckdb.connect()
        try:
            _link_central(con, staged, raws, form)
        finally:
            con.close()
    return staged


def _link_central(
    con: duckdb.DuckDBPyConnection, staged: Staged, raws: dict[str, tuple[str, StagedTable]], form: XLSForm
) -> None:
    hh = f"read_parquet({literal(str(staged.path))})"
    con.execute(
        f"CREATE TEMP TABLE by_sid AS SELECT _sid AS sid, min(_row) AS hh_row FROM {hh} "
        "WHERE _sid IS NOT NULL GROUP BY _sid"
    )
    missing: list[str] = []
    for n, (name, rep) in enumerate(form.repeats.items()):
        if name not in raws or (rep.parent is not None and rep.parent not in staged.repeats):
            missing.append(name)
            continue
        member, table = raws[name]
        key = _column(table.columns, ODK_KEY)
        parent_key = _column(table.columns, ODK_PARENT_KEY)
        raw = f"read_parquet({literal(str(table.path))})"
        if key:
            key_sql = f"trim(r.{quote(key)})"
        elif parent_key:  # no KEY: number the instances of each parent in row order, as Central does
            key_sql = (
                f"trim(r.{quote(parent_key)}) || '/' || $name || '[' || row_number() OVER "
                f"(PARTITION BY r.{quote(parent_key)} ORDER BY r._row) || ']'"
            )
        else:
            staged.warnings.append(
                f"'{member}' has neither {ODK_KEY} nor {ODK_PARENT_KEY}: its rows cannot be "
                "linked to their households and were not read"
            )
            missing.append(name)
            continue
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE keyed AS
            SELECT r.* EXCLUDE (_sid), {key_sql} AS __key FROM {raw} r""",
            {"name": name} if not key else None,
        )
        con.execute(r"""CREATE OR REPLACE TEMP TABLE linked AS
            SELECT k.*, b.hh_row AS __hh FROM (
                SELECT *, NULLIF(regexp_replace(split_part(__key, '/', 1), '^uuid:', ''), '') AS __sid,
                       list_filter(string_split(__key, '/')[2:], lambda x: regexp_matches(x, '\[[0-9]+\]$')) AS __steps
                FROM keyed) k
            LEFT JOIN by_sid b ON b.sid = k.__sid""")
        ok = r"(len(__steps) > 0 AND regexp_replace(__steps[-1], '\[[0-9]+\]$', '') = $name)"
        out = staged.path.with_name(f"{staged.path.stem}.repeat{n}.parquet")
        staged.repeats[name] = _write_repeat(
            con,
            name,
            member,
            table,
            out,
            parent=rep.parent,
            path_sql=f"CASE WHEN {ok} THEN array_to_string(__steps, '/') END",
            parent_sql=f"CASE WHEN {ok} THEN array_to_string(__steps[1:len(__steps) - 1], '/') END",
            pos_sql=rf"CASE WHEN {ok} THEN TRY_CAST(regexp_extract(__steps[-1], '\[([0-9]+)\]$', 1) AS BIGINT) END",
        )
    if missing:
        staged.warnings.append(repeats_missing_note(form, missing, "csv.zip"))
