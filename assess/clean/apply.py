"""A filled cleaning log applied as a layer: each line checked, valid lines stored as changes, never in raw rows.

`cleaning_changes` keeps every line (file, sha256, time, line, status); `cleaning_effective` holds what is in
effect, one row per (uuid, path, question): a later line (in the same log or a later one) replaces it, and a
`no_action` line for the same uuid and question takes it away (the raw value is back). `remove_survey` is kept
under the question `*` with the line's question, so that `no_action` on that question restores the survey.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..core.privacy import private_questions
from ..core.settings import Settings
from ..core.sqlutil import fetch_one, table_columns, transaction
from ..core.sqlutil import quote as q
from ..core.xlsform import Question, XLSForm
from .layer import base_tables
from .log import CHANGE_TYPES, read_log
from .release import RELEASED, ReleaseError, Rows, kept_aside, put_back, recheck, release, released

TRUE, FALSE = ("1", "true", "yes", "TRUE"), ("0", "false", "no", "FALSE")


@dataclass
class LogReceipt:
    name: str
    sha256: str
    lines: int = 0
    applied: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # applied, but (line, what to look at)
    # a kept-aside household the log addressed, checked again: (line, uuid, "released" or why still kept aside)
    quarantine: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def released(self) -> int:
        return sum(1 for _, _, what in self.quarantine if what == RELEASED)

    def as_dict(self) -> dict:
        return {
            "file": self.name,
            "sha256": self.sha256,
            "kind": "cleaning_log",
            "lines": self.lines,
            "applied": self.applied,
            "invalid": [{"line": n, "problem": m} for n, m in self.invalid],
            "warnings": [{"line": n, "warning": m} for n, m in self.warnings],
            "quarantine": [{"line": n, "uuid": u, "result": m} for n, u, m in self.quarantine],
        }


def _hash(key: str, value: str) -> str:
    return hashlib.sha256(f"{key}:{value}".encode()).hexdigest()


class _Target:
    """Where a line points: the table, column and key of one stored value (or an option of a select_multiple)."""

    def __init__(self, table: str, column: str, question: Question | None, option: str | None) -> None:
        self.table, self.column, self.question, self.option = table, column, question, option


def _target(form: XLSForm, name: str, path: str) -> _Target | None:
    option = None
    question = form.questions.get(name)
    if question is None:
        for sep in ("/", "."):
            parent, _, opt = name.rpartition(sep)
            if parent in form.questions and form.questions[parent].type == "select_multiple":
                if opt in form.choice_names(parent):
                    question, option = form.questions[parent], opt
                    break
    if question is None:
        return None
    if bool(path) != bool(question.repeat):
        return None
    table = form.repeats[question.repeat].table if question.repeat else "submissions"
    return _Target(table, question.name, question, option)


class Applier:
    """Applies lines in order on one connection (inside the caller's transaction)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, key: str) -> None:
        self.con, self.settings, self.form, self.key = con, settings, form, key
        self.private = private_questions(form, settings)
        self.tables = base_tables(con)
        self.db = q(fetch_one(con, "SELECT current_database()")[0])
        self.rows = Rows(con, settings, form)  # kept-aside rows, re-read from their archived files
        self.kept: set[str] = set()
        self.touched: dict[str, int] = {}  # uuid -> its last applied line
        self.plain: dict[
            str, dict[str, str]
        ] = {}  # uuid -> private question -> new value in clear (this log)

    def current(self, t: _Target, sid: str, path: str) -> tuple[bool, str | None]:
        """(the row exists, its value now: the change in effect, else the raw value)."""
        if sid in self.kept:
            return self._kept_current(t, sid)
        hit = self.con.execute(
            "SELECT new_value FROM cleaning_effective WHERE round = $r AND submission_id = $s AND path = $p "
            "AND question = $q",
            {"r": self.settings.round, "s": sid, "p": path, "q": t.column},
        ).fetchone()
        raw = self.con.execute(
            f"SELECT CAST({q(t.column)} AS VARCHAR) FROM {self.db}.main.{q(t.table)} WHERE round = $r "
            f"AND submission_id = $s{' AND path = $p' if path else ''}",
            {"r": self.settings.round, "s": sid, **({"p": path} if path else {})},
        ).fetchone()
        if raw is None:
            return False, None
        return True, hit[0] if hit else raw[0]

    def _kept_current(self, t: _Target, sid: str) -> tuple[bool, str | None]:
        hit = self.con.execute(
            "SELECT new_value FROM cleaning_effective WHERE round = $r AND submission_id = $s AND path = '' "
            "AND question = $q",
            {"r": self.settings.round, "s": sid, "q": t.column},
        ).fetchone()
        if hit:
            return True, hit[0]
        kept = self.rows.rows[sid]
        raw = kept.raw.get(kept.staged.question_columns.get(t.column, t.column))
        if raw is not None and t.column in self.private:
            return True, _hash(self.key, str(raw))
        return True, None if raw is None else str(raw)

    def new_value(self, t: _Target, value: str, now: str | None) -> tuple[str | None, str | None]:
        """(the value to store, or None with why it is refused)."""
        x = t.question
        assert x is not None
        if t.option is not None:
            if value not in TRUE + FALSE:
                return None, f"'{value}' is not 1/0 for the option column {x.name}/{t.option}"
            codes = [c for c in (now or "").split() if c != t.option]
            if value in TRUE:
                codes.append(t.option)
            order = self.form.choice_names(x.name)
            return " ".join(sorted(codes, key=order.index)), None
        if x.name in self.private:
            return _hash(self.key, value), None
        if x.type == "select_one" and value not in self.form.choice_names(x.name):
            return None, f"'{value}' is not a choice of {x.name}"
        if x.type == "select_multiple":
            bad = [c for c in value.split() if c not in self.form.choice_names(x.name)]
            if bad:
                return None, f"'{' '.join(bad)}' is not a choice of {x.name}"
            return " ".join(value.split()), None
        if x.type in ("integer", "decimal", "range"):
            try:
                number = float(value)
            except ValueError:
                return None, f"'{value}' is not a number ({x.name} is {x.type})"
            if x.type == "integer":
                if not number.is_integer():
                    return None, f"'{value}' is not a whole number ({x.name} is integer)"
                return str(int(number)), None
        return value, None

    def same(self, t: _Target, old: str, now: str | None) -> bool:
        if t.question is not None and t.question.name in self.private and t.option is None:
            return _hash(self.key, old) == now
        if t.option is not None:
            return (old in TRUE) == (t.option in (now or "").split())
        try:
            return float(old) == float(now or "nan")
        except ValueError:
            return set(old.split()) == set((now or "").split())

    def line(self, line: dict[str, str]) -> tuple[str, str | None, str | None]:
        """Apply one line: (status, message, stored value)."""
        r, sid, path = self.settings.round, line["uuid"], line.get("path", "")
        name, change = line["question"], line["change_type"].strip().lower()
        if not change:
            return "invalid", "empty change_type: choose one of " + ", ".join(CHANGE_TYPES), None
        if change not in CHANGE_TYPES:
            return "invalid", f"unknown change_type '{change}': use one of " + ", ".join(CHANGE_TYPES), None
        if not self.con.execute(
            f"SELECT count(*) FROM {self.db}.main.submissions WHERE round = $r AND submission_id = $s",
            {"r": r, "s": sid},
        ).fetchone()[0]:  # type: ignore[index]
            kept = kept_aside(self.con, r, sid)
            if kept is None:
                return "invalid", f"unknown uuid '{sid}' (not among the loaded households of round {r})", None
            if path:
                return (
                    "invalid",
                    f"uuid '{sid}' is kept aside ({kept[0]}, row {kept[2]}): its member rows "
                    "can be changed once the household is released; correct the household's answers first",
                    None,
                )
            try:
                self.rows.get(sid, kept)
            except ReleaseError as exc:
                return "invalid", f"uuid '{sid}' is kept aside ({kept[0]}, row {kept[2]}): {exc}", None
            self.kept.add(sid)
        key = {"r": r, "s": sid, "p": path}
        if change == "remove_survey":
            self._put(key, "*", change, name, line)
            return "applied", None, None
        t = _target(self.form, name, path)
        if change == "no_action":
            self.con.execute(
                "DELETE FROM cleaning_effective WHERE round = $r AND submission_id = $s AND ((path = $p AND "
                "question = $q) OR (question = '*' AND (new_value = $name OR $name = '')))",
                {**key, "q": t.column if t else name, "name": name},
            )
            return "applied", None, None
        if t is None:
            where = f" in a member row ({path})" if path else ""
            return "invalid", f"unknown question '{name}'{where}", None
        if t.table not in self.tables or t.column not in table_columns(self.con, t.table):
            return "invalid", f"question '{name}' has no loaded column", None
        exists, now = self.current(t, sid, path)
        if not exists:
            return "invalid", f"unknown member row {path} of uuid '{sid}'", None
        if change == "blank_response":
            value = None
        else:
            value, why = self.new_value(t, line["new_value"].strip(), now)
            if why:
                return "invalid", why, None
        warning = None
        old = line.get("old_value", "").strip()
        if old and not self.same(t, old, now):
            shown = "(private)" if t.column in self.private else repr(now)
            warning = f"old_value differs from the value now in {name} ({shown}); applied anyway"
        self._put(key, t.column, change, value, line)
        if t.column in self.private and t.option is None and value is not None:
            self.plain.setdefault(sid, {})[t.column] = line["new_value"].strip()
        return "applied", warning, value

    def _put(self, key: dict, question: str, change: str, value: str | None, line: dict[str, str]) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO cleaning_effective VALUES ($r, $s, $p, $q, $c, $v, $check, $sha, $line)",
            {**key, "q": question, "c": change, "v": value, "check": line.get("check_id") or None,
             "sha": line["_sha"], "line": int(line["line"])},
        )  # fmt: skip


def apply_log(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    path: Path,
    sha: str,
    key: str,
    run_id: str,
) -> LogReceipt:
    """Check and apply every line of a filled log, in order, in one transaction; return its receipt."""
    receipt = LogReceipt(path.name, sha)
    lines = read_log(path)
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        applier = Applier(con, settings, form, key)
        for line in lines:
            line["_sha"] = sha
            status, message, stored = applier.line(line)
            n = int(line["line"])
            receipt.lines += 1
            if status == "applied":
                receipt.applied += 1
                applier.touched[line["uuid"]] = n
                if message:
                    receipt.warnings.append((n, message))
            else:
                receipt.invalid.append((n, message or "invalid"))
            con.execute(
                "INSERT INTO cleaning_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    settings.round, sha, path.name, n, now, line["uuid"], line.get("path", ""), line["question"],
                    line["change_type"].strip().lower() or None,
                    None if line["question"] in applier.private else line.get("old_value") or None,
                    stored if line["change_type"] != "remove_survey" else None,
                    line.get("check_id") or None, line.get("issue") or None, status, message,
                ],
            )  # fmt: skip
        con.execute(
            "INSERT OR REPLACE INTO cleaning_logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sha, settings.round, path.name, receipt.lines, receipt.applied, len(receipt.invalid),
             len(receipt.warnings), now, run_id],
        )  # fmt: skip
    try:
        _recheck(applier, receipt, run_id)
    finally:
        applier.rows.close()
    return receipt


def _recheck(applier: Applier, receipt: LogReceipt, run_id: str) -> None:
    """Check again every kept-aside (or released) household the log changed: released when it passes, put back
    when a released one fails again; the receipt says which, on the household's last line."""
    con, settings, r = applier.con, applier.settings, applier.settings.round
    candidates = {
        s for (s,) in con.execute(
            "SELECT DISTINCT submission_id FROM quarantine WHERE round = ? AND member IS NULL AND (released_sha256 "
            "IS NOT NULL OR (superseded_by IS NULL AND action = 'quarantine'))", [r],
        ).fetchall()
    }  # fmt: skip
    for sid, n in applier.touched.items():
        if sid not in candidates:
            continue
        was = released(con, r, sid)
        where = was or kept_aside(con, r, sid)
        if where is None:
            continue
        try:
            kept = applier.rows.get(sid, where)
        except ReleaseError as exc:
            receipt.quarantine.append((n, sid, f"still kept aside: {exc}"))
            continue
        work = applier.rows.work / f"row-{len(receipt.quarantine)}"
        raw, result, reasons = recheck(con, kept, settings, applier.form, work, applier.plain.get(sid, {}))
        if not reasons and was is None:
            try:
                release(con, kept, raw, result, settings, applier.form, (receipt.name, receipt.sha256, n), run_id,
                        applier.key)  # fmt: skip
            except duckdb.IOException:
                raise  # the store itself is unwell: stop, as loading a file does
            except duckdb.Error as exc:  # rolled back: the row stays kept aside
                receipt.quarantine.append((n, sid, f"still kept aside: it could not be stored ({exc})"))
                continue
            receipt.quarantine.append((n, sid, RELEASED))
        elif reasons and was is not None:
            put_back(con, sid, kept.sha, r)
            receipt.quarantine.append((n, sid, "back in quarantine: " + "; ".join(reasons)))
        elif reasons:
            receipt.quarantine.append((n, sid, "still kept aside: " + "; ".join(reasons)))
    for n, sid, what in receipt.quarantine:
        con.execute(
            "UPDATE cleaning_changes SET message = concat_ws('; ', message, $m) WHERE round = $r "
            "AND sha256 = $sha AND line = $n",
            {"m": f"uuid {sid}: {what}", "r": r, "sha": receipt.sha256, "n": n},
        )


def applied_logs(con: duckdb.DuckDBPyConnection, round_: str) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT sha256 FROM cleaning_logs WHERE round = ?", [round_]).fetchall()
    }
