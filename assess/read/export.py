"""Export readers: KoboToolbox CSV/XLSX, ODK Central CSV and csv.zip, and hand-made variants, auto-detected.

Every file becomes one Parquet file of text columns named after XLSForm questions (the staging form),
plus `_row` (the row as numbered in the spreadsheet a coordinator opens: header row 1, first data row 2)
and `_sid` (the submission id, `uuid:` stripped). Parsing streams through DuckDB's CSV reader; nothing here
holds the whole file in pandas. Repeat groups (Kobo XLSX sheets, ODK csv.zip members) are linked to their
households in `assess.read.repeats`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..core.privacy import METADATA_COPY_SUFFIX
from ..core.settings import DEFAULT_ID_COLUMNS
from ..core.sqlutil import fetch_value
from ..core.xlsform import STRUCTURE_TYPES, XLSForm

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLS_SUFFIXES = (".xlsx", ".xls", ".xlsm")
ZIP_SUFFIXES = (".zip",)  # ODK Central's `<formId>.csv.zip`: the households and one CSV per repeat group
SUPPORTED_SUFFIXES = CSV_SUFFIXES + XLS_SUFFIXES + ZIP_SUFFIXES
# Files that are never exports: office lock files, partial downloads, hidden files.
IGNORED_PATTERNS = (r"^~\$", r"^\.", r"\.part$", r"\.crdownload$", r"\.tmp$", r"\.download$", r"^\.~lock")
MAX_COLUMNS = 5000
MAX_HEADER_CHARS = 10_000_000  # the header row is read whole, up to this size
MAX_XLSX_UNCOMPRESSED = 1_000_000_000  # bytes; guards against zip bombs
# `_row` numbers rows as the spreadsheet does: the header is row 1, the first data row is row 2
FIRST_DATA_ROW = 2
# staging columns (`_row`, `_sid`) and the store's lineage columns of `submissions`
RESERVED_NAMES = (
    "_row",
    "_sid",
    "round",
    "submission_id",
    "source_file",
    "source_sha256",
    "source_row",
    "loaded_at",
)
# ... and of the member tables (`r_<repeat>`): a repeat's staging links and the store's instance columns
REPEAT_RESERVED_NAMES = (
    *RESERVED_NAMES,
    "_hh_row",
    "_path",
    "_parent_path",
    "_pos",
    "path",
    "parent_path",
    "source_member",
)
# ODK Central's metadata columns (central-backend lib/data/briefcase.js)
ODK_CENTRAL_METADATA = frozenset(
    {
        "SubmissionDate",
        "KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    }
)
_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f"}


class StructuralError(Exception):
    """The file as a whole cannot be used; the message says why and what to do."""


def unsupported_reason(suffix: str) -> str:
    return (
        f"'{suffix or 'no extension'}' files are not survey exports. Drop the CSV or XLSX export downloaded "
        "from KoboToolbox, or the CSV or csv.zip export of ODK Central."
    )


@dataclass
class Column:
    """One export column mapped onto the form."""

    header: str
    name: str  # canonical name in staging
    question: str | None = None  # owning question
    option: str | None = None  # for select_multiple option columns
    part: str | None = None  # geopoint part


class _MappedColumns:
    """Question lookups over a staged table's `columns`."""

    columns: list[Column]

    @property
    def question_columns(self) -> dict[str, str]:
        return {
            c.question: c.name for c in self.columns if c.question and c.option is None and c.part is None
        }

    def option_columns(self, question: str) -> dict[str, str]:
        return {c.option: c.name for c in self.columns if c.question == question and c.option is not None}


@dataclass
class StagedRepeat(_MappedColumns):
    """The member rows of one repeat group (a Kobo repeat sheet, an ODK `<formId>-<repeat>.csv`) as Parquet:
    text columns named after the repeat's questions plus `_row` (the row in that sheet/member, header row 1),
    `_sid` (the household's submission id), `_hh_row` (the household's row in the household sheet), `_path`
    (`roster[2]`, `roster[2]/child[1]`), `_parent_path` ('' under the household), `_pos` (the instance number
    within its parent). A row that cannot be linked to a household row of the file has `_hh_row` NULL."""

    repeat: str  # the form's repeat name
    member: str  # sheet name or zip member file
    path: Path
    rows: int
    columns: list[Column]
    parent: str | None = None  # the enclosing repeat group (None: directly under the household)


@dataclass
class Staged(_MappedColumns):
    path: Path  # parquet file
    format: str
    rows: int
    columns: list[Column]
    id_column: str
    warnings: list[str] = field(default_factory=list)
    # the repeat groups this file holds, parents before children; a form repeat absent here is not in the file
    # (a Kobo CSV): its members in the store are left as they are
    repeats: dict[str, StagedRepeat] = field(default_factory=dict)


def is_ignored(path: Path) -> bool:
    name = path.name
    return any(re.search(p, name, flags=re.IGNORECASE) for p in IGNORED_PATTERNS)


# ---------------------------------------------------------------------------------------------- raw reading


def _detect_encoding(head: bytes) -> tuple[str, str | None]:
    """Return (python codec, warning)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "file is UTF-16 text; it was read, but please export CSV as UTF-8"
    if len(head) > 3 and head[1:2] == b"\x00" and head[3:4] == b"\x00":
        return (
            "utf-16-le",
            "file is UTF-16 text without a byte-order mark; it was read, but please export UTF-8",
        )
    try:
        head.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(head) - 3:
            return "utf-8", None
    return (
        "latin-1",
        "file is not UTF-8; it was read as Latin-1 (Windows Western). Please export CSV as UTF-8",
    )


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: 0 for d in (",", ";", "\t", "|")}
    in_quotes = False
    for ch in header_line:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _utf8_copy(path: Path, codec: str, workdir: Path) -> Path:
    target = workdir / "transcoded.csv"
    with (
        open(path, encoding=codec, errors="strict", newline="") as src,
        open(target, "w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def _ends_with_newline(path: Path, codec: str) -> bool:
    """Exports end with a line break; a file that stops mid-row was probably cut off."""
    width = 2 if codec.startswith("utf-16") else 1
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2 * width))
        tail = fh.read()
    if codec.startswith("utf-16"):
        return tail.endswith((b"\n\x00", b"\x00\n", b"\r\x00", b"\x00\r"))
    return tail.endswith((b"\n", b"\r"))


def _read_header_csv(path: Path, codec: str) -> tuple[list[str], str]:
    with open(path, encoding=codec, errors="replace", newline="") as fh:
        sample = fh.read(1 << 16)
        if not sample.strip():
            raise StructuralError(
                "the file is empty. Export the data again from KoboToolbox/ODK and drop it again."
            )
        first_line = sample.splitlines()[0] if sample.splitlines() else sample
        delim = _sniff_delimiter(first_line)
        # the header row can be longer than the sample (thousands of long group paths): parse it from the file
        fh.seek(0)
        csv.field_size_limit(MAX_HEADER_CHARS)
        try:
            header = next(csv.reader(_bounded(fh, MAX_HEADER_CHARS), delimiter=delim), [])
        except csv.Error as exc:
            raise StructuralError(f"the first row (column names) cannot be read ({exc}).") from exc
    return [h.strip().lstrip("\ufeff") for h in header], delim


def _bounded(fh: io.TextIOBase, limit: int) -> Iterator[str]:
    """Lines of `fh`, stopping once `limit` characters were read (a file with no line breaks is not a header)."""
    read = 0
    while read < limit:
        line = fh.readline(limit - read)
        if not line:
            return
        read += len(line)
        yield line


def _xlsx_guard(path: Path) -> None:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(path):
            raise StructuralError(
                "this .xlsx file is not a valid Excel workbook (not a zip archive). It may be damaged or "
                "renamed: download the export again."
            )
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
        if total > MAX_XLSX_UNCOMPRESSED:
            raise StructuralError(
                f"this workbook expands to {total / 1e9:.1f} GB, which is not a plausible survey export. "
                "Export it as CSV instead."
            )


def _xls_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


@dataclass
class Sheet:
    """One worksheet as text: its name, header row and data rows (trailing empty rows dropped)."""

    name: str
    header: list[str]
    body: list[list[str | None]]


def _read_excel(path: Path, *, every_sheet: bool = False) -> list[Sheet]:
    """The first sheet (the households) and, with `every_sheet`, the others (Kobo's repeat groups)."""
    from python_calamine import CalamineWorkbook

    _xlsx_guard(path)
    sheets: list[Sheet] = []
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names if every_sheet else wb.sheet_names[:1]
        for i, name in enumerate(names):
            rows = wb.get_sheet_by_index(i).to_python(skip_empty_area=False)
            if not rows:
                if i == 0:
                    raise StructuralError(
                        "the first sheet is empty. Export the data again and drop it again."
                    )
                sheets.append(Sheet(name, [], []))
                continue
            header = [(_xls_cell(h) or "").strip() for h in rows[0]]
            body = [[_xls_cell(v) for v in r] for r in rows[1:]]
            while body and not any(c not in (None, "") for c in body[-1]):
                body.pop()
            sheets.append(Sheet(name, header, body))
    except StructuralError:
        raise
    except Exception as exc:
        raise StructuralError(f"cannot read this workbook ({exc}). Download the export again.") from exc
    if not sheets:
        raise StructuralError("the workbook has no sheets. Export the data again and drop it again.")
    return sheets


# ---------------------------------------------------------------------------------------------- mapping


def detect_format(headers: list[str], kind: str) -> str:
    hs = set(headers)
    if hs & {"meta-instanceID", "SubmissionDate", "KEY"} or any(h.startswith("meta-") for h in headers):
        return f"odk_{kind}"
    if hs & {"_uuid", "_submission_time", "_index", "_id"}:
        return f"kobo_{kind}"
    return f"generic_{kind}"


def map_columns(
    headers: list[str], form: XLSForm, repeat: str | None = None
) -> tuple[list[Column], list[str]]:
    """Map export headers onto form question names (group paths `/` or `-`, option and geopoint columns).

    `repeat`: the headers of that repeat group's table, whose columns are its own questions, named by their full
    group path (Kobo) or by the path inside the repeat (ODK Central)."""
    warnings: list[str] = []
    paths: dict[str, str] = {}
    if repeat is None:
        # repeat questions too: hand-merged datasets carry them as flat columns
        questions = [q for q in form.questions.values() if q.type not in STRUCTURE_TYPES]
    else:
        questions = [
            q for q in form.questions.values() if q.type not in STRUCTURE_TYPES and q.repeat == repeat
        ]
    for q in questions:
        inside = q.group_path[q.group_path.index(repeat) + 1 :] if repeat in q.group_path else q.group_path
        for sep in ("/", "-", "."):
            paths.setdefault(sep.join((*q.group_path, q.name)), q.name)
            paths.setdefault(sep.join((*inside, q.name)), q.name)
        paths.setdefault(q.name, q.name)
    columns: list[Column] = []
    # names the staging file and the store use for their own columns: an export column never takes them
    reserved = RESERVED_NAMES if repeat is None else REPEAT_RESERVED_NAMES
    used: set[str] = {n.lower() for n in reserved}

    def unique(name: str) -> str:
        # DuckDB column names are case-insensitive: `deviceid` and ODK's `DeviceID` would collide
        base, i = name, 2
        while name.lower() in used:
            name = f"{base}__{i}"
            i += 1
        used.add(name.lower())
        return name

    for idx, raw in enumerate(headers):
        header = raw.strip()
        if header == "":
            columns.append(Column(header=raw, name=unique(f"_unnamed_{idx + 1}")))
            continue
        if header in paths and header.lower() not in used:
            qname = paths[header]
            if qname.lower() in used:
                warnings.append(
                    f"column {idx + 1} '{header}' repeats question '{qname}'; kept as an extra column"
                )
                columns.append(Column(header=raw, name=unique(header)))
                continue
            columns.append(Column(header=raw, name=unique(qname), question=qname))
            continue
        col = _option_or_geo(header, paths, form)
        if col is not None:
            col.header = raw
            col.name = unique(col.name)
            columns.append(col)
            continue
        if header in ODK_CENTRAL_METADATA and header.lower() in used:
            # ODK Central's own column beside a question of the same name in another case: both are expected
            columns.append(Column(header=raw, name=unique(header + METADATA_COPY_SUFFIX)))
            continue
        name = unique(header)
        if header.lower() in (n.lower() for n in reserved):
            warnings.append(
                f"column {idx + 1} '{header}' has a name the pipeline uses itself; kept as '{name}'"
            )
        elif name != header:
            # DuckDB (like Excel) ignores case in column names: 'deviceid' and ODK's 'DeviceID' are one name
            warnings.append(
                f"column {idx + 1} '{header}' repeats an earlier column name (upper/lower case "
                f"ignored); the copy was kept as '{name}'"
            )
        columns.append(Column(header=raw, name=name))
    return columns, warnings


def _option_or_geo(header: str, paths: dict[str, str], form: XLSForm) -> Column | None:
    # select_multiple option columns: <path>/<option> (Kobo and ODK), rarely <path>.<option>
    for sep in ("/", "."):
        if sep in header:
            prefix, option = header.rsplit(sep, 1)
            qname = paths.get(prefix)
            if qname and form.questions[qname].type == "select_multiple":
                return Column(header=header, name=f"{qname}/{option}", question=qname, option=option)
    # Kobo geopoint parts: _<path>_latitude
    m = re.match(r"^_(.+)_(latitude|longitude|altitude|precision)$", header)
    if m and paths.get(m.group(1)):
        qname = paths[m.group(1)]
        return Column(header=header, name=f"_{qname}_{m.group(2)}", question=qname, part=m.group(2))
    # ODK geopoint parts: <path>-Latitude
    m = re.match(r"^(.+)-(Latitude|Longitude|Altitude|Accuracy)$", header, flags=re.IGNORECASE)
    if m and paths.get(m.group(1)):
        qname = paths[m.group(1)]
        return Column(
            header=header, name=f"_{qname}_{m.group(2).lower()}", question=qname, part=m.group(2).lower()
        )
    return None


def find_id_column(columns: list[Column], configured: str | None) -> str:
    names = {c.header.strip(): c.name for c in columns}
    names.update({c.name: c.name for c in columns})
    if configured:
        if configured not in names:
            raise StructuralError(
                f"the submission id column '{configured}' (from [survey] id_column) is not in this file. "
                "Check the config or the export settings."
            )
        return names[configured]
    for cand in DEFAULT_ID_COLUMNS:
        if cand in names:
            return names[cand]
    raise StructuralError(
        "no submission id column (looked for " + ", ".join(DEFAULT_ID_COLUMNS) + "). "
        "Export with the metadata columns, or set [survey] id_column in the config."
    )


# ---------------------------------------------------------------------------------------------- staging


def stage_export(path: Path, form: XLSForm, out: Path, *, id_column: str | None = None) -> Staged:
    """Read one export into a Parquet staging file of text columns named after form questions (and, for a form
    with repeat groups, one Parquet file per repeat group the export holds, beside it: `Staged.repeats`).

    Raises StructuralError (with a message for the coordinator) when the file as a whole is unusable.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise StructuralError(unsupported_reason(suffix))
    if path.stat().st_size == 0:
        raise StructuralError("the file is empty (0 bytes). Export the data again and drop it again.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix in ZIP_SUFFIXES:
        from .repeats import stage_zip

        return stage_zip(path, form, out, id_column=id_column)
    if suffix in XLS_SUFFIXES:
        sheets = _read_excel(path, every_sheet=bool(form.repeats))
        staged = household(stage_sheet(sheets[0], form, out, id_column=id_column), "xlsx")
        if form.repeats:
            from .repeats import stage_kobo_repeats

            stage_kobo_repeats(staged, sheets[1:], form)
        return staged
    staged = household(stage_csv_table(path, form, out, id_column=id_column), "csv")
    if form.repeats:
        staged.warnings.append(repeats_missing_note(form, list(form.repeats), "csv"))
    return staged


@dataclass
class StagedTable:
    """One sheet or CSV staged as text: the rows, the mapped columns, the id column (households only)."""

    path: Path
    rows: int
    columns: list[Column]
    id_column: str | None
    warnings: list[str]


def household(table: StagedTable, kind: str) -> Staged:
    """The household level of an export, from its staged table (`kind`: csv, xlsx, csv.zip)."""
    if table.rows == 0:
        raise StructuralError("the file has a header but no data rows. Nothing to load; check the export.")
    assert table.id_column is not None
    return Staged(
        path=table.path,
        format=detect_format([c.header for c in table.columns], kind),
        rows=table.rows,
        columns=table.columns,
        id_column=table.id_column,
        warnings=table.warnings,
    )


def repeats_missing_note(form: XLSForm, missing: list[str], kind: str) -> str:
    """What a receipt says when a form's repeat groups are not in the file (members already loaded stay)."""
    names = ", ".join(f"'{n}'" for n in missing)
    where = {
        "csv": "a CSV export holds the households only",
        "csv.zip": "the zip has no CSV file for them",
    }.get(
        kind,
        "the workbook has no sheet for them; KoboToolbox leaves a repeat's sheet out when no submission has one",
    )
    return (
        f"the repeat group(s) {names} of the form are not in this file ({where}): their member rows were not "
        "read, and member rows loaded from earlier files stay as they were. To load members, export XLSX from "
        "KoboToolbox (it holds one sheet per repeat group) or the csv.zip from ODK Central"
    )


def stage_sheet(
    sheet: Sheet, form: XLSForm, out: Path, *, id_column: str | None = None, repeat: str | None = None
) -> StagedTable:
    """Stage one worksheet (the households, or with `repeat` that repeat group's raw rows, without an id)."""
    _check_headers(sheet.header)
    columns, warnings = map_columns(sheet.header, form, repeat)
    idc = find_id_column(columns, id_column) if repeat is None else None
    arrays = {
        c.name: pa.array([r[i] if i < len(r) else None for r in sheet.body], pa.string())
        for i, c in enumerate(columns)
    }
    table = pa.table(
        {"_row": pa.array(range(FIRST_DATA_ROW, len(sheet.body) + FIRST_DATA_ROW), pa.int64()), **arrays}
    )
    con = duckdb.connect()
    try:
        con.register("xl", table)
        rows = _write_staging(con, "xl", columns, idc, out)
    finally:
        con.close()
    return StagedTable(path=out, rows=rows, columns=columns, id_column=idc, warnings=warnings)


def stage_csv_table(
    path: Path, form: XLSForm, out: Path, *, id_column: str | None = None, repeat: str | None = None
) -> StagedTable:
    """Stage one CSV file (the households, or with `repeat` that repeat group's raw rows, without an id)."""
    warnings: list[str] = []
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if b"PK\x03\x04" == head[:4]:
        raise StructuralError("this file is a zip/Excel workbook with a .csv name. Rename it to .xlsx.")
    codec, warn = _detect_encoding(head)
    if warn:
        warnings.append(warn)
    headers, delim = _read_header_csv(path, codec)
    if delim == "\t":
        warnings.append("columns are separated by tabs; read fine")
    if not _ends_with_newline(path, codec):
        warnings.append(
            "the file does not end with a line break: it may have been cut off (an incomplete "
            "download or copy?). Check its last row, or export it again"
        )
    _check_headers(headers)
    columns, w = map_columns(headers, form, repeat)
    warnings += w
    idc = find_id_column(columns, id_column) if repeat is None else None
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = path if codec in ("utf-8", "utf-8-sig") else _utf8_copy(path, codec, Path(tmp))
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = true")
        spec = {f"c{i}": "VARCHAR" for i in range(len(columns))}
        try:
            renamed = [Column(c.header, f"c{i}", c.question, c.option, c.part) for i, c in enumerate(columns)]
            id_pos = f"c{[c.name for c in columns].index(idc)}" if idc is not None else None
            final = [c.name for c in columns]
            try:  # fast parallel scan first; short (ragged) rows need the serial scanner's null padding
                rows = _stage_csv(con, src, delim, spec, renamed, id_pos, out, final, ragged=False)
            except duckdb.Error:
                rows = _stage_csv(con, src, delim, spec, renamed, id_pos, out, final, ragged=True)
        except duckdb.Error as exc:
            msg = str(exc).split("\n")[0]
            raise StructuralError(
                f"the CSV{'' if repeat is None else ' of the repeat group ' + repr(repeat)} could not be parsed "
                f"({msg}). Check that the file is complete and was exported as CSV; then drop it again."
            ) from exc
        finally:
            con.close()
    return StagedTable(path=out, rows=rows, columns=columns, id_column=idc, warnings=warnings)


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    delim: str,
    spec: dict,
    renamed: list[Column],
    id_col: str | None,
    out: Path,
    final: list[str],
    *,
    ragged: bool,
) -> int:
    rel = con.read_csv(
        str(src),
        delimiter=delim,
        header=True,
        columns=spec,
        auto_detect=False,
        quotechar='"',
        escapechar='"',
        null_padding=ragged,
        parallel=not ragged,
        strict_mode=False,
        max_line_size=20_000_000,
    )
    con.register("raw_csv", rel)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW numbered AS SELECT row_number() OVER () + {FIRST_DATA_ROW - 1} "
        "AS _row, * FROM raw_csv"
    )
    return _write_staging(con, "numbered", renamed, id_col, out, final_names=final)


def _check_headers(headers: list[str]) -> None:
    if not any(h.strip() for h in headers):
        raise StructuralError("the first row has no column names. Export with headers (column names).")
    if len(headers) > MAX_COLUMNS:
        raise StructuralError(
            f"the file has {len(headers):,} columns, more than any form export ({MAX_COLUMNS:,} at most). "
            "Check that this is a survey export and that the separator is right."
        )


def _write_staging(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[Column],
    id_col: str | None,
    out: Path,
    final_names: list[str] | None = None,
) -> int:
    names = final_names or [c.name for c in columns]
    selects = ['"_row"']
    for c, final in zip(columns, names, strict=True):
        selects.append(f"NULLIF(trim({_q(c.name)}), '') AS {_q(final)}")
    sid = (
        f"NULLIF(regexp_replace(trim({_q(id_col)}), '^uuid:', ''), '') AS _sid"
        if id_col is not None
        else "CAST(NULL AS VARCHAR) AS _sid"
    )
    tmp = out.with_suffix(".parquet.tmp")
    con.execute(
        f"COPY (SELECT {', '.join(selects)}, {sid} FROM {source} ORDER BY _row) "
        f"TO '{_sql_str(tmp)}' (FORMAT parquet)"
    )
    tmp.replace(out)
    return fetch_value(con, f"SELECT count(*) FROM read_parquet('{_sql_str(out)}')")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def truthy_sql(expr: str) -> str:
    """SQL turning an option cell (1/0, TRUE/FALSE, True/False, 1.0) into BOOLEAN, NULL when blank."""
    # a simple CASE, not `IN (...)`: DuckDB's in_clause optimizer plans every IN list as a join, and the
    # hundreds of option columns of a wide form made one INSERT take 8 s for 400 rows (0.3 s this way)
    whens = " ".join(f"WHEN '{v}' THEN {str(v in _TRUE).lower()}" for v in sorted(_TRUE | _FALSE))
    return f"(CASE lower({expr}) {whens} END)"
