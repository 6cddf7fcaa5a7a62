"""Report wording for one language: translated strings, numbers, percentages, intervals, dates and lists.

Shares print as "38%", intervals as "33–43%" (clipped to 0-100% for display only), means with one decimal.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from ..core.summary import HouseholdCounts
from ..core.xlsform import RTL_CODES
from .i18n import MONTHS, STRINGS

NBSP_NARROW = "\u202f"


class Text:
    """Report wording and number formats for one language."""

    def __init__(self, code: str, min_cell: int):
        self.code = code
        self.rtl = code in RTL_CODES
        self.min_cell = min_cell
        self.strings = {**STRINGS["en"], **STRINGS.get(code, {})}

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def fill(self, key: str, **kw: Any) -> str:
        """The string `key` with its {placeholders} filled in."""
        return self.strings[key].format(**kw)

    @property
    def suppressed(self) -> str:
        return f"n<{self.min_cell}"

    def _pct_sign(self) -> str:
        return NBSP_NARROW + "%" if self.code == "fr" else "%"

    def pct_number(self, x: float) -> str:
        v = min(max(x, 0.0), 1.0)
        if 0 < v < 0.005:
            return "<1"
        if 0.995 < v < 1:
            return ">99"
        return str(round(v * 100))

    def pct(self, x: float | None) -> str:
        return self["not_available"] if x is None else self.pct_number(x) + self._pct_sign()

    def pct_ci(self, low: float | None, high: float | None) -> str:
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return ""
        lo, hi = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
        # an upper bound below 0.5% prints "<1", never a "0–0%" interval around a share that is not 0
        top = self.pct_number(hi) if 0 < hi < 0.005 else str(round(hi * 100))
        return f"{round(lo * 100)}–{top}{self._pct_sign()}"

    def num(self, x: float | None, decimals: int = 1) -> str:
        if x is None:
            return self["not_available"]
        s = f"{x:,.{decimals}f}"
        if self.code == "fr":
            s = s.replace(",", NBSP_NARROW).replace(".", ",")
        return s

    def num_ci(self, low: float | None, high: float | None) -> str:
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return ""
        return f"{self.num(low)}–{self.num(high)}"

    def count(self, n: int | None) -> str:
        if n is None:
            return self["not_available"]
        s = f"{int(n):,}"
        return s.replace(",", NBSP_NARROW) if self.code == "fr" else s

    def households(self, counts: HouseholdCounts, declined_word: str) -> str:
        """'2,000 interviewed, 40 declined, 1,960 in the estimates' (the same numbers as the CLI and exports)."""
        key = "counts_declined" if declined_word == "declined" else "counts_unanswered"
        return self.fill(
            key,
            interviewed=self.count(counts.interviewed),
            declined=self.count(counts.declined),
            in_estimates=self.count(counts.in_estimates),
        )

    def households_tail(self, counts: HouseholdCounts, declined_word: str) -> str:
        """'40 declined; 1,960 are in the estimates.': follows a sentence that gave the households interviewed."""
        key = "counts_tail_declined" if declined_word == "declined" else "counts_tail_unanswered"
        return self.fill(
            key, declined=self.count(counts.declined), in_estimates=self.count(counts.in_estimates)
        )

    def day(self, d: date | None) -> str:
        if d is None:
            return ""
        months = MONTHS.get(self.code, MONTHS["en"])
        return f"{d.day} {months[d.month - 1]} {d.year}"

    def period(self, first: date | None, last: date | None) -> tuple[str, str]:
        """('2', '13 November 2026'): the start without what it shares with the end."""
        if first is None or last is None:
            return "", ""
        months = MONTHS.get(self.code, MONTHS["en"])
        end = self.day(last)
        if (first.year, first.month) == (last.year, last.month):
            start = str(first.day)
        elif first.year == last.year:
            start = f"{first.day} {months[first.month - 1]}"
        else:
            start = self.day(first)
        return start, end

    def join(self, items: list[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        sep = "، " if self.code == "ar" else ", "
        last = f" {self['and']} " if self.code != "ar" else f" {self['and']}"
        return sep.join(items[:-1]) + last + items[-1]

    def join_or(self, items: list[str]) -> str:
        """'a, b or c' (a choice among answers)."""
        if len(items) <= 1:
            return "".join(items)
        sep = "، " if self.code == "ar" else ", "
        last = f" {self['or']} " if self.code != "ar" else f" {self['or']} "
        return sep.join(items[:-1]) + last + items[-1]

    def quoted(self, label: str) -> str:
        """An answer's label in the language's quotation marks."""
        return self.fill("quote", x=label)

    def areas(self, k: int, level: str) -> str:
        """'6 regions', '1 region' from a level's label; '6 areas (Admin 1)' when the label is not one word."""
        word = level.strip()
        if self.code in ("en", "fr") and re.fullmatch(r"[^\W\d_]+", word):
            word = word.lower()
            if k != 1:
                word = _plural(word, self.code)
            return f"{self.count(k)} {word}"
        return self.fill("areas_one" if k == 1 else "areas_many", k=self.count(k), level=level).replace(
            " ()", ""
        )


def _plural(word: str, code: str) -> str:
    if word.endswith(("s", "x", "z")):
        return word
    if code == "en":
        if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
            return word[:-1] + "ies"
        if word.endswith(("ch", "sh")):
            return word + "es"
    elif word.endswith(("au", "eu")):
        return word + "x"
    return word + "s"
