"""The tables of the needs-and-partners pages: the needs-versus-presence matrix, the ranked gaps and people in
need. Read from the `coverage`, `pin` and `partner_files` tables the run wrote (assess/partners/), with the
estimates' suppression as it stands (assess/partners/read.py); nothing here recomputes a number.
"""

from __future__ import annotations

from typing import Any

from ..core.partner_settings import CLUSTERS
from ..core.sqlutil import table_exists
from ..partners.read import shown_coverage, shown_pin
from .context import Context, heat_class
from .partner_words import PartnerWords

GAP_CLASSES = ("gap", "thin", "covered", "low_need", "unknown")
TOP_GAPS = 15


class PartnerTables(Context):
    """The tables of the partner pages: matrix, ranked gaps and people in need, and the wording."""

    @property
    def pw(self) -> PartnerWords:
        return PartnerWords(self.code)

    def gap_names(self) -> dict[str, str]:
        return {k: self.pw[k] for k in GAP_CLASSES}

    # -- reading --------------------------------------------------------------------------------------------
    def _partner_tables(self) -> dict[str, Any]:
        cache = self.__dict__.get("_partner_cache")
        if cache is not None:
            return cache
        con, r = self.data.con, {"round": self.settings.round}
        cov = shown_coverage(con, self.settings, self.settings.round)
        pin = shown_pin(con, self.settings.round)
        file = (
            con.execute(
                "SELECT file, rows, accepted, quarantined, status, reason FROM partner_files WHERE round = $round",
                r,
            ).fetchone()
            if table_exists(con, "partner_files")
            else None
        )
        cache = {
            "coverage": {(c[0], c[1], c[2]): c for c in cov},
            "pin": {(p[0], p[1], p[2]): p for p in pin},
            "file": file,
        }
        self.__dict__["_partner_cache"] = cache
        return cache

    def cluster_label(self, code: str) -> str:
        return CLUSTERS.get(code.upper(), (code,))[0]

    def pin_sectors(self) -> list[tuple[str, str]]:
        """(severity sector, label) for the PiN columns, intersectoral last."""
        sev = [
            (s.sector, self.data.sector_label(f"severity_{s.sector}", self.code))
            for s in self.settings.indicators.severity
        ]
        return [*sev, ("overall", self.pw["intersectoral"])]

    def _label(self, level: str, area: str) -> str:
        return self.text["national"] if level == "national" else self.data.area_label(level, area)

    # -- pieces ---------------------------------------------------------------------------------------------
    def partner_matrix(self, rows: list[tuple[str, str]], title: str) -> dict | None:
        cov = self._partner_tables()["coverage"]
        spec = self.settings.partners
        if spec is None or not cov:
            return None
        sectors = list(spec.sectors)
        out_rows: list[dict] = []
        for level, area in rows:
            cells = []
            for s in sectors:
                c = cov.get((level, area, s))
                if c is None:
                    cells.append(
                        {"need": "–", "partners": "", "cls": "hn", "gap": "unknown", "uncertain": False}
                    )
                    continue
                need = c[5]
                cells.append(
                    {
                        "need": self.text.pct(need) if need is not None else self.text.suppressed,
                        "partners": str(c[3]),
                        "cls": heat_class(need, "need") if need is not None else "hs",
                        "gap": c[8],
                        "uncertain": bool(c[9]),
                        "orgs": c[4] or "",
                    }
                )
            out_rows.append({"label": self._label(level, area), "cells": cells, "total": not out_rows})
        return {
            "title": title,
            "headers": [{"code": s, "name": self.cluster_label(s)} for s in sectors],
            "rows": out_rows,
            "high_need": self.text.pct(spec.high_need),
        }

    def gaps(self, keys: list[tuple[str, str]], parent_of: dict[str, str] | None = None) -> list[dict]:
        """Gap and thin cells among `keys` areas, gaps first, then by need (largest first)."""
        cov = self._partner_tables()["coverage"]
        found = [c for (lv, a, _), c in cov.items() if (lv, a) in set(keys) and c[8] in ("gap", "thin")]
        found.sort(key=lambda c: (c[8] != "gap", -(c[5] or 0)))
        out = []
        for c in found[:TOP_GAPS]:
            label = self._label(c[0], c[1])
            if parent_of and c[1] in parent_of:
                label += f" ({self.data.area_label(self.level0 or '', parent_of[c[1]])})"
            out.append(
                {
                    "area": label,
                    "sector": f"{c[2]} – {self.cluster_label(c[2])}",
                    "need": self.text.pct(c[5]),
                    "ci": self.text.pct_ci(c[6], c[7]),
                    "partners": c[4] or self.pw["none"],
                    "gap": self.pw[c[8]],
                    "cls": c[8],
                    "uncertain": self.pw["uncertain"] if c[9] else "",
                }
            )
        return out

    def pin_table(self, rows: list[tuple[str, str]], title: str) -> dict | None:
        pin = self._partner_tables()["pin"]
        if not pin:
            return None
        sectors = self.pin_sectors()
        unit = next(iter(pin.values()))[3]
        out_rows: list[dict] = []
        for level, area in rows:
            cells = []
            population = ""
            for s, _ in sectors:
                p = pin.get((level, area, s))
                if p is None:
                    cells.append({"text": "–", "ci": ""})
                    continue
                population = self.text.count(round(p[4]))
                ci = (
                    f"{self.text.count(round(p[6]))}–{self.text.count(round(p[7]))}"
                    if p[6] is not None
                    else ""
                )
                cells.append({"text": self.text.count(round(p[5])), "ci": ci})
            if any(c["text"] != "–" for c in cells):
                out_rows.append(
                    {
                        "label": self._label(level, area),
                        "population": population,
                        "cells": cells,
                        "total": not out_rows,
                    }
                )
        return {
            "title": title,
            "headers": [label for _, label in sectors],
            "rows": out_rows,
            "unit": self.pw[unit],
        }

    def _lower(self, level: str | None) -> str:
        return self.data.level_label(level).lower() if level else ""
