"""The data-quality checks, each a rule with an id, run on a round's (cleaned) submissions in DuckDB.

Every check inserts its findings into the temp table `_findings` (submission_id, path, question, old_value,
issue, check_id); assess/clean/log.py writes the ones no earlier log carried. Lines about a whole interview
(duration, soft duplicate) name a pseudo question ("duration", "soft_duplicate"): they are answered with
`remove_survey` or `no_action`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..core.privacy import hash_key, private_questions
from ..core.settings import ConfigError, Settings
from ..core.sqlutil import quote as q
from ..core.sqlutil import table_columns
from ..core.xlsform import XLSForm
from .softdup import soft_duplicate_pairs


@dataclass(frozen=True)
class Rule:
    check_id: str
    what: str  # one line for the annex and the docs


RULES = (
    Rule("duration_short", "interview shorter than [quality] duration_minutes (from start/end)"),
    Rule("duration_long", "interview longer than [quality] duration_minutes (from start/end)"),
    Rule("outlier", "number more than outlier_sd SDs from the mean"),
    Rule("outlier_log", "number more than outlier_sd SDs from the mean of log(x+1)"),
    Rule("soft_duplicate", "differs from another submission in at most soft_duplicate_max_diff answers"),
    Rule("dont_know", "a [needs] missing_codes 'don't know' code"),
    Rule("other_is_choice", "'other, specify' text repeating a choice label of its question"),
)
DURATION, SOFT_DUPLICATE = "duration", "soft_duplicate"  # the pseudo questions of whole-interview lines


def start_findings(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _findings (submission_id VARCHAR, path VARCHAR, question VARCHAR, "
        "old_value VARCHAR, issue VARCHAR, check_id VARCHAR)"
    )


def run_checks(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> None:
    """Every check on the round's households, into `_findings` (replaced)."""
    start_findings(con)
    cols = table_columns(con, "submissions")
    check_duration(con, settings, form, cols)
    check_outliers(con, settings, form, cols)
    check_dont_know(con, settings, form, cols)
    check_other_text(con, settings, form, cols)
    check_soft_duplicates(con, settings, form, cols)


def _of_type(form: XLSForm, cols: dict[str, str], *types: str) -> list[str]:
    return [x.name for x in form.questions.values() if x.type in types and not x.in_repeat and x.name in cols]


def duration_sql(form: XLSForm, cols: dict[str, str]) -> str | None:
    """Minutes from the form's `start` to its `end` (ISO times with offsets), or None without both."""
    start = next(iter(_of_type(form, cols, "start") or [c for c in ("start",) if c in cols]), None)
    end = next(iter(_of_type(form, cols, "end") or [c for c in ("end",) if c in cols]), None)
    if not start or not end:
        return None
    return (
        f"date_diff('millisecond', TRY_CAST({q(start)} AS TIMESTAMPTZ), TRY_CAST({q(end)} AS TIMESTAMPTZ)) "
        "/ 60000.0"
    )


def check_duration(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, cols: dict) -> None:
    minutes = duration_sql(form, cols)
    if minutes is None:
        return
    low, high = settings.quality.duration_minutes
    con.execute(
        "INSERT INTO _findings SELECT submission_id, '', $dur, CAST(round(m, 1) AS VARCHAR), "
        "CASE WHEN m < $low THEN printf('interview took %.1f minutes (less than %g)', m, $low) "
        "ELSE printf('interview took %.1f minutes (more than %g)', m, $high) END, "
        "CASE WHEN m < $low THEN 'duration_short' ELSE 'duration_long' END "
        f"FROM (SELECT submission_id, {minutes} AS m FROM submissions WHERE round = $round) "
        "WHERE m < $low OR m > $high",
        {"dur": DURATION, "low": float(low), "high": float(high), "round": settings.round},
    )


def _numeric(form: XLSForm, settings: Settings, cols: dict[str, str]) -> list[str]:
    private = private_questions(form, settings)
    return [n for n in _of_type(form, cols, "integer", "decimal") if n not in private]


def check_outliers(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, cols: dict) -> None:
    """Raw and log(x+1) z-scores per question (and area with `outlier_by`), in one unpivot; don't-know codes
    are left out. A value flagged on both scales gives one line (`outlier`)."""
    numeric = _numeric(form, settings, cols)
    if not numeric:
        return
    by = settings.quality.outlier_by
    if by and by not in cols:
        raise ConfigError(f"{settings.config_path}: [quality] outlier_by = '{by}' is not a loaded column.")
    area = f"CAST({q(by)} AS VARCHAR)" if by else "''"
    casts = ", ".join(f"CAST({q(n)} AS DOUBLE) AS {q(n)}" for n in numeric)
    codes = ", ".join(str(c) for c in settings.missing_codes) or "NULL"
    con.execute(
        "INSERT INTO _findings SELECT submission_id, '', question, CASE WHEN value = floor(value) "
        "THEN CAST(CAST(value AS BIGINT) AS VARCHAR) ELSE CAST(value AS VARCHAR) END, "
        "printf('%g is an outlier (mean %.3g, sd %.3g%s)', value, m, sd, "
        "CASE WHEN z_raw THEN '' ELSE ', on log(x+1)' END), CASE WHEN z_raw THEN 'outlier' ELSE 'outlier_log' END "
        "FROM (SELECT *, sd > 0 AND abs(value - m) > $k * sd AS z_raw, "
        "lsd > 0 AND value >= 0 AND abs(ln(value + 1) - lm) > $k * lsd AS z_log FROM ("
        "SELECT *, avg(value) OVER w AS m, stddev_samp(value) OVER w AS sd, "
        "avg(CASE WHEN value >= 0 THEN ln(value + 1) END) OVER w AS lm, "
        "stddev_samp(CASE WHEN value >= 0 THEN ln(value + 1) END) OVER w AS lsd FROM ("
        f"SELECT submission_id, _area, question, value FROM (SELECT submission_id, {area} AS _area, {casts} "
        f"FROM submissions WHERE round = $round) UNPIVOT (value FOR question IN ({', '.join(q(n) for n in numeric)}))"
        f") WHERE value NOT IN ({codes}) WINDOW w AS (PARTITION BY question, _area))) WHERE z_raw OR z_log",
        {"k": float(settings.quality.outlier_sd), "round": settings.round},
    )


def check_dont_know(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, cols: dict) -> None:
    """Numbers equal to a `[needs] missing_codes` code, and select answers written as such a code."""
    if not settings.missing_codes:
        return
    texts = [str(int(c)) if float(c).is_integer() else str(c) for c in settings.missing_codes]
    for name in _numeric(form, settings, cols):
        con.execute(
            f"INSERT INTO _findings SELECT submission_id, '', $q, CAST({q(name)} AS VARCHAR), "
            f"printf('\"don''t know\" code %s', CAST({q(name)} AS VARCHAR)), 'dont_know' "
            f"FROM submissions WHERE round = $round AND CAST({q(name)} AS DOUBLE) IN ({', '.join(texts)})",
            {"q": name, "round": settings.round},
        )
    for name in _of_type(form, cols, "select_one"):
        con.execute(
            f"INSERT INTO _findings SELECT submission_id, '', $q, {q(name)}, "
            f"printf('\"don''t know\" code %s', {q(name)}), 'dont_know' FROM submissions "
            f"WHERE round = $round AND {q(name)} IN (SELECT unnest($codes))",
            {"q": name, "round": settings.round, "codes": texts},
        )


def other_pairs(form: XLSForm, cols: dict[str, str]) -> list[tuple[str, str]]:
    """(text question, its select question): `x_other` / `x_autre` beside a select `x`, or a text question
    whose `relevant` names exactly one select question with 'other'."""
    out = []
    for x in form.questions.values():
        if x.type != "text" or x.in_repeat or x.name not in cols:
            continue
        parent = next(
            (
                p
                for p in form.questions.values()
                if p.is_select
                and not p.in_repeat
                and (x.name in (f"{p.name}_other", f"{p.name}_autre") or f"${{{p.name}}}" in x.relevant)
            ),
            None,
        )
        if parent is not None:
            out.append((x.name, parent.name))
    return out


def check_other_text(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, cols: dict) -> None:
    """'Other, specify' text equal (case and spaces aside) to a choice label or code of its question. A private
    text is stored as a keyed hash: it is compared with the hashes of the labels, never read."""
    private = private_questions(form, settings)
    for text_q, parent in other_pairs(form, cols):
        question = form.questions[parent]
        labels: dict[str, str] = {}
        for c in form.choices.get(question.list_name or "", []):
            if c.name in ("other", "autre"):
                continue
            for label in (c.name, *c.labels.values()):
                if label.strip():
                    labels[label] = c.name
        if not labels:
            continue
        variants = {v: code for label, code in labels.items() for v in {label, label.strip(), label.lower()}}
        if text_q in private:
            key = hash_key()
            match = "sha256($key || ':' || v.label) = s.t"
            shown = "'(private)'"
            params: dict = {"key": key}
        else:
            match = "lower(trim(s.t)) = lower(trim(v.label))"
            shown = "s.t"
            params = {}
        con.execute(
            f"INSERT INTO _findings SELECT DISTINCT s.submission_id, '', $q, {shown}, "
            "'\"other\" text repeats the choice ' || v.code || ' of ' || $parent, 'other_is_choice' "
            f"FROM (SELECT submission_id, {q(text_q)} AS t FROM submissions WHERE round = $round "
            f"AND {q(text_q)} IS NOT NULL) s JOIN (SELECT unnest($labels) AS label, unnest($codes) AS code) v "
            f"ON {match}",
            {
                **params,
                "q": text_q,
                "parent": parent,
                "round": settings.round,
                "labels": list(variants),
                "codes": list(variants.values()),
            },
        )


def check_soft_duplicates(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, cols: dict
) -> None:
    """One line per submission with a soft duplicate (pairs found exactly; see softdup.py), naming its closest
    match and how many there are, as cleaningtools reports them: a log line per submission, not per pair."""
    compared = comparable_columns(form, cols)
    if not compared:
        return
    soft_duplicate_pairs(
        con, "submissions", compared, settings.quality.soft_duplicate_max_diff, settings.round
    )
    con.execute(
        "INSERT INTO _findings SELECT a, '', $sd, CAST(diff AS VARCHAR), printf('differs from %s in %d answer(s)%s', "
        "b, diff, CASE WHEN n > 1 THEN printf('; %d submissions this close', n) ELSE '' END), 'soft_duplicate' "
        "FROM (SELECT a, b, diff, count(*) OVER (PARTITION BY a) AS n, "
        "row_number() OVER (PARTITION BY a ORDER BY diff, b) AS k FROM ("
        "SELECT a, b, diff FROM _soft_pairs UNION ALL SELECT b, a, diff FROM _soft_pairs)) WHERE k = 1",
        {"sd": SOFT_DUPLICATE},
    )


NOT_COMPARED = {
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email",
    "audit", "note", "calculate", "geopoint", "geotrace", "geoshape", "image", "audio", "video", "file",
    "hidden", "barcode", "start-geopoint", "background-audio",
}  # fmt: skip


def comparable_columns(form: XLSForm, cols: dict[str, str]) -> list[str]:
    """The answered household questions two soft duplicates are compared on (cleaningtools leaves out times,
    device ids, geopoints, audit, notes, calculates, option columns and `_` metadata)."""
    return [
        x.name
        for x in form.answer_questions
        if x.type not in NOT_COMPARED and not x.name.startswith("_") and x.name in cols
    ]


def enumerator_sql(settings: Settings, form: XLSForm, cols: dict[str, str]) -> str:
    """The enumerator of a submission: `[quality] enumerator`, else the device id (stored hashed), cut short."""
    name = settings.quality.enumerator
    if name and name in cols:
        if name in private_questions(form, settings):
            return f"left(CAST({q(name)} AS VARCHAR), 10)"
        return f"CAST({q(name)} AS VARCHAR)"
    device = next((c for c in ("deviceid", "DeviceID__meta", "DeviceID", "_submitted_by") if c in cols), None)
    return f"left(CAST({q(device)} AS VARCHAR), 10)" if device else "'(unknown)'"
