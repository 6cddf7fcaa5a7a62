"""PDF reports (interim first report: national needs table by region)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .settings import Settings
from .xlsform import XLSForm

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined)


def build_reports(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, run: dict) -> list[Path]:
    from weasyprint import HTML

    lang = form.resolve_language(settings.language)
    rows = con.execute(
        "SELECT level, area, indicator, option, estimate, ci_low, ci_high, n, suppressed FROM estimates "
        "WHERE round = ? ORDER BY indicator, option, level, area", [settings.round]).fetchall()
    tables = []
    for name in settings.needs:
        qrows = [r for r in rows if r[2] == name]
        tables.append({"label": form.label(name, lang), "rows": [
            {"level": r[0], "area": r[1], "option": form.choice_label(form.questions[name].list_name, r[3], lang)
             if r[3] else "mean", "estimate": r[4], "ci_low": r[5], "ci_high": r[6], "n": r[7],
             "suppressed": r[8], "percent": form.questions[name].type != "integer"} for r in qrows]})
    html = _env().get_template("national.html.j2").render(
        title=settings.title or form.title, round=settings.round, organisation=settings.organisation,
        tables=tables, min_cell=settings.min_cell)
    out = settings.reports_dir / settings.round / "national.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(tmp)
    os.replace(tmp, out)
    return [out]
