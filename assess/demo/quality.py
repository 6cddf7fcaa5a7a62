"""Demo material for the data-quality loop (issue 17): a few suspicious households planted in the Kobo XLSX
export (three very short interviews, an outlier, a near-duplicate of another household) and the cleaning log a
field officer filled for them, dropped in the inbox with the exports, so `assess run` shows the whole loop."""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

from openpyxl import Workbook

FILLED_LOG_PATH = Path("data/raw/cleaning_log_2026-11-18_filled.xlsx")
CONFIG = """
# [quality] Checks on each run's households, written to data/processed/cleaning/<round>/cleaning_log.<run>.xlsx
# (and .csv) for the field team to answer: change_type = change_response, blank_response, remove_survey or
# no_action. Drop the filled log into the inbox: it is applied over the raw data (which stays as loaded).
[quality]
duration_minutes = [10, 90]       # interviews outside are flagged
outlier_sd = 3                    # numbers this many SDs from the mean (raw, and on log(x+1))
soft_duplicate_max_diff = 2       # households differing in at most this many answers
"""


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def add_suspicious(exports: list[list[dict[str, Any]]], seed: int) -> list[list[str]]:
    """Plant the suspicious households in the Kobo XLSX export (in place); return the filled log's lines."""
    rng = random.Random(seed + 17)
    recs = exports[1]
    consenting = [r for r in recs if r.get("consent") == "yes"]
    if len(consenting) < 60:  # a tiny demo (tests): nothing planted
        return []
    lines = []
    for r in consenting[10:13]:
        start = dt.datetime.fromisoformat(r["start"])
        minutes = rng.uniform(4, 7)
        r["end"] = _iso(start + dt.timedelta(minutes=minutes))
        issue = f"interview took {minutes:.1f} minutes"
        lines.append([r["_uuid"], "duration", f"{minutes:.1f}", issue, "duration_short", "remove_survey", ""])
    outlier = next(r for r in consenting[20:] if 10 <= (r.get("displacement_months") or 0) <= 20)
    typed = outlier["displacement_months"]
    outlier["displacement_months"] = int(f"{typed}{typed % 10}")  # the last digit typed twice: 14 -> 144
    lines.append(
        [outlier["_uuid"], "displacement_months", str(outlier["displacement_months"]), "last digit typed twice",
         "outlier", "change_response", str(typed)]
    )  # fmt: skip
    source = consenting[30]
    twin = copy.deepcopy(source)
    twin["_uuid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    twin["_id"] = max(r["_id"] for r in recs) + 1
    twin["_index"] = len(recs) + 1
    twin["water_sufficient"] = "no" if source.get("water_sufficient") == "yes" else "yes"
    for key in ("start", "end"):
        twin[key] = _iso(dt.datetime.fromisoformat(source[key]) + dt.timedelta(minutes=55))
    twin["_submitted"] = source["_submitted"] + dt.timedelta(minutes=55)
    recs.append(twin)
    lines.append([twin["_uuid"], "soft_duplicate", "1", f"same household as {source['_uuid']}", "soft_duplicate",
                  "remove_survey", ""])  # fmt: skip
    lines.append([source["_uuid"], "soft_duplicate", "1", "the original interview: kept", "soft_duplicate",
                  "no_action", ""])  # fmt: skip
    return lines


def write_filled_log(dest: Path, lines: list[list[str]]) -> list[Path]:
    """The log as a field officer sends it back: cleaningtools' columns, one decision per line."""
    if not lines:
        return []
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "cleaning_log"
    ws.append(["uuid", "question", "old_value", "issue", "check_id", "change_type", "new_value"])
    for line in lines:
        ws.append(line)
    path = dest / FILLED_LOG_PATH
    wb.save(path)
    return [path]
