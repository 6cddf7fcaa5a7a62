"""What every part of a report is built from (`Context`): the round's data, settings and wording, plus small
formatted pieces. Everything a template prints is prepared as text here (the templates only place it and
Jinja escapes it); a suppressed cell prints as "n<5", never as a number.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeGuard

from ..core.settings import Settings
from ..core.sqlutil import atomic_write_text
from ..core.summary import RunSummary
from ..core.xlsform import XLSForm
from .queries import Estimate, StoreData
from .wording import Text

TOP_N = 3

# ColorBrewer-style sequential blues: lightness falls steadily, so bins stay distinct in grey-scale print
# and for all common forms of colour blindness. Blues shade the answers that signal need (so a dark cell is
# a hotspot); greys shade questions where no answer is marked as signalling need (a dark cell is only a
# large share); other answers of a marked question are left white. The classes live in templates/report.css.
HEAT_COLOURS = ("#eff3ff", "#c6dbef", "#9ecae1", "#4a8fc4", "#1f5f99", "#0b3b6f")
HEAT_EDGES = (0.10, 0.25, 0.40, 0.55, 0.70)
SHADE_PREFIX = {"need": "h", "neutral": "g"}


def heat_class(value: float, shading: str = "need") -> str:
    """CSS class of a heat cell: 'h0'..'h5' (need, blues), 'g0'..'g5' (neutral, greys), 'hp' (not shaded)."""
    if shading not in SHADE_PREFIX:
        return "hp"
    return SHADE_PREFIX[shading] + str(sum(value >= e for e in HEAT_EDGES))


def code_version() -> str:
    """Package version, plus the git commit of the checkout when the code runs from one."""
    try:
        version = metadata.version("assess")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"assess {version}" + (f" (git {commit})" if commit else "")


def now_text() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


class Context:
    """The round's data, settings and wording, and the formatted cells, items and headers every section uses."""

    def __init__(
        self,
        data: StoreData,
        settings: Settings,
        form: XLSForm,
        text: Text,
        run: RunSummary | None,
        chart_dir: Path,
        logo: str | None,
    ):
        self.data = data
        self.settings = settings
        self.form = form
        self.text = text
        self.run = run
        self.chart_dir = chart_dir
        self.logo = logo
        self.code = text.code
        self.level0 = settings.region_levels[0] if settings.region_levels else None
        self.level1 = settings.region_levels[1] if len(settings.region_levels) > 1 else None
        self.version = code_version()
        self.generated = now_text()
        self._written: dict[str, str] = {}

    # -- small pieces -----------------------------------------------------------------------------------
    def estimate(self, level: str, area: str, indicator: str, option: str = "") -> Estimate | None:
        return self.data.index.get((level, area, indicator, option))

    def value(self, e: Estimate | None, kind: str, shading: str = "need") -> dict:
        """One formatted cell: text, ci, n, suppressed, css class (`shading`: see `StoreData.need_shading`)."""
        text = self.text
        if e is None or e.estimate is None and not e.suppressed:
            return {"text": "–", "ci": "", "n": "", "suppressed": False, "cls": "hn", "raw": None}
        if e.suppressed:
            return {"text": text.suppressed, "ci": "", "n": "", "suppressed": True, "cls": "hs", "raw": None}
        if kind == "prop":
            return {
                "text": text.pct(e.estimate),
                "ci": text.pct_ci(e.ci_low, e.ci_high),
                "n": text.count(e.n),
                "suppressed": False,
                "cls": heat_class(e.estimate or 0.0, shading),
                "raw": e.estimate,
            }
        return {
            "text": text.num(e.estimate),
            "ci": text.num_ci(e.ci_low, e.ci_high),
            "n": text.count(e.n),
            "suppressed": False,
            "cls": "",
            "raw": e.estimate,
        }

    def item(self, label: str, e: Estimate, kind: str) -> str:
        v = self.value(e, kind)
        if v["ci"]:
            return self.text.fill("item_ci", label=label, value=v["text"], ci=v["ci"])
        return self.text.fill("item_value", label=label, value=v["text"])

    @staticmethod
    def shown(e: Estimate | None) -> TypeGuard[Estimate]:
        """A value that may be printed: estimated, not suppressed."""
        return e is not None and not e.suppressed and e.estimate is not None

    def ranked_options(self, level: str, area: str, indicator: str) -> list[tuple[str, Estimate]]:
        """(option, estimate) pairs, largest share first; suppressed cells and answers nobody gave (0%) are
        never ranked."""
        rows = [(o, self.estimate(level, area, indicator, o)) for o in self.data.options(indicator)]
        good = [(o, e) for o, e in rows if e is not None and self.shown(e) and e.estimate]
        return sorted(good, key=lambda p: -(p[1].estimate or 0.0))

    def need_answers_text(self, question: str) -> str:
        """'“Unprotected well or spring” or “Surface water (river, pond)”'."""
        return self.text.join_or(
            [self.text.quoted(x) for x in self.data.need_answer_labels(question, self.code)]
        )

    def write_svg(self, svg: str) -> str:
        """Write an SVG once per content (legend icons and axes repeat) and return its file URL."""
        name = hashlib.sha1(svg.encode("utf-8")).hexdigest()[:16] + ".svg"
        if name not in self._written:
            path = self.chart_dir / name
            atomic_write_text(path, svg)  # parallel region renders may write the same chart
            self._written[name] = path.as_uri()
        return self._written[name]

    def legend(self, tables: list[dict] | None = None) -> list[dict]:
        """Legend rows for the shadings the `tables` use (all when None): blues for answers that signal need,
        white for the other answers, greys for questions with nothing marked; then the suppressed cell."""

        def shading(cls: str) -> str:
            return "" if cls in ("hs", "hn") else "hp" if cls == "hp" else cls[:1]

        used = (
            {shading(c["cls"]) for t in tables for r in t["rows"] for c in r["cells"]}
            if tables is not None
            else {"h", "g", "hp"}
        )
        edges = (0.0, *HEAT_EDGES, 1.0)
        ranges = [
            f"{self.text.pct_number(edges[i])}–{self.text.pct(edges[i + 1])}"
            for i in range(len(HEAT_COLOURS))
        ]
        rows = []
        for prefix, key in (("h", "legend_need"), ("g", "legend_neutral")):
            if prefix in used:
                rows.append(
                    {
                        "title": self.text[key],
                        "items": [{"cls": f"{prefix}{i}", "text": r} for i, r in enumerate(ranges)],
                    }
                )
        extra = [{"cls": "hp", "text": self.text["legend_plain"]}] if "hp" in used else []
        extra.append({"cls": "hs", "text": self.text.suppressed})
        rows.append({"title": "", "items": extra})
        return rows

    def doc(self, kind: str, title: str, region: str, description: str) -> dict:
        return {
            "lang": self.code,
            "dir": "rtl" if self.text.rtl else "ltr",
            "title": title,
            "kind": kind,
            "author": self.settings.organisation,
            "description": description,
            "keywords": ", ".join(x for x in ("needs assessment", self.settings.round, region) if x),
            "generator": self.version,
            "created": self.generated,
            "header_title": self.title,
            "header_region": region,
        }

    @property
    def title(self) -> str:
        return self.settings.title or self.form.title

    def dates_text(self, first: Any, last: Any) -> str:
        if first is None:
            return ""
        if first == last:
            return self.text.day(first)
        start, end = self.text.period(first, last)
        sep = "–" if " " not in start else " – "
        return f"{start}{sep}{end}"

    def repro(self) -> dict:
        """Run, code version and the files whose rows are in the numbers (never a rejected file)."""
        return {
            "run_id": (self.run.run_id if self.run else "") or "–",
            "generated": self.generated,
            "version": self.version,
            "inputs": [{"name": f["name"], "sha256": f["sha256"]} for f in self.data.input_files()],
        }

    # -- data quality, in plain words for leadership -------------------------------------------------------
    def question_of_column(self, column: str | None) -> str | None:
        """The form question an export column holds ('household-hh_size', 'needs/priority_needs/food')."""
        if not column:
            return None
        questions = self.form.questions
        if column in questions:
            return column
        parts = [p for seg in column.split("/") for p in seg.split("-") if p]
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in questions:
                return parts[i]
        return None

    def plain_problems(self, rows: list[dict]) -> list[dict]:
        """Problems grouped by what went wrong (from the kind of check) and the question, with the number of
        interviews kept aside and flagged; never the coordinator's instructions or an answer."""
        # the assessment's own words for its [[validation.expect]] checks
        custom = [
            str(spec.kwargs["reason"]) for spec in self.settings.expectations if spec.kwargs.get("reason")
        ]
        groups: dict[tuple[str, str], dict[str, set]] = {}
        for r in rows:
            kind = str(r["kind"])
            key = f"why_{kind}"
            why = self.text[key] if key in self.text.strings else self.text["why_custom"]
            if kind not in (
                "required",
                "choice",
                "constraint",
                "unique",
                "window",
                "region",
                "consistency",
                "structure",
            ):
                own = next((p for p in custom if str(r["reason"]).endswith(p)), None)
                why = own[:1].upper() + own[1:] if own else self.text["why_custom"]
            question = self.question_of_column(r.get("column"))
            label = self.data.indicator_label(question, self.code) if question else ""
            bucket = groups.setdefault((why, label), {"quarantine": set(), "warn": set()})
            bucket["quarantine" if r["action"] == "quarantine" else "warn"].update(r["records"] or [])
        out = [
            {
                "why": why,
                "question": label,
                "kept_aside": self.text.count(len(b["quarantine"])) if b["quarantine"] else "",
                "flagged": self.text.count(len(b["warn"])) if b["warn"] else "",
                "order": (-len(b["quarantine"]), -len(b["warn"]), why, label),
            }
            for (why, label), b in groups.items()
        ]
        return sorted(out, key=lambda p: p["order"])
