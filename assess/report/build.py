"""PDF reports: one national report and one per first-level region, from the store (read-only).

Store -> `StoreData` -> template contexts (`Builder`) -> Jinja2 HTML (autoescape, StrictUndefined) -> `render`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..clean.layer import install as install_cleaning_layer
from ..core.names import label_file_name
from ..core.progress import Progress, reporter
from ..core.settings import Settings
from ..core.sqlutil import atomic_write_text
from ..core.summary import RunSummary
from ..core.xlsform import XLSForm
from .national import NationalReport
from .partner_pages import PartnerPages, add_partner_pages
from .queries import StoreData
from .region import RegionReport
from .render import RenderJob, RenderPool
from .templates import environment, templates_dir
from .wording import Text

if TYPE_CHECKING:
    import duckdb


class Builder(NationalReport, RegionReport, PartnerPages):
    """Both reports' contexts from one set of queries, one chart folder and one generation time."""


def region_file_names(areas: list[str], labels: dict[str, str]) -> dict[str, str]:
    """area code -> file stem: the label made file-safe; the code where labels collide or are empty."""
    stems = {a: label_file_name(labels[a]) for a in areas}
    counts: dict[str, int] = {}
    for s in stems.values():
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    out: dict[str, str] = {}
    used: set[str] = {"national"}
    for a in areas:
        stem = stems[a]
        if not stem or counts[stem.casefold()] > 1 or stem.casefold() in used:
            stem = label_file_name(a) or "region"
        base, i = stem, 2
        while stem.casefold() in used:
            stem = f"{base}-{i}"
            i += 1
        used.add(stem.casefold())
        out[a] = stem
    return out


def build_reports(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    run: RunSummary | None,
    *,
    language: str | None = None,
    workers: int | None = None,
    regions: bool | list[str] = True,
    html_only: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write `reports/<round>/national.pdf` and one PDF per first-level region; return their paths.

    `language` overrides the configured label language (e.g. "Français (fr)"); `regions` is True (all), False
    (national only) or a list of area codes; `html_only` writes the HTML next to where the PDFs would go
    instead of rendering them (fast; for tests and template work; the chart files are then kept).
    `progress` hears stage "report": started while the pages are composed, then n/N as each file is written.
    Rendering uses a spawned process pool: a script calling this must guard its entry point with
    `if __name__ == "__main__":`, as multiprocessing requires.
    """
    steps = reporter(progress)
    steps.start("report")
    chosen = form.choose_language(language) if language else form.language
    lang = chosen.column
    text = Text(chosen.code, settings.min_cell)
    out_dir = settings.reports_dir / settings.round
    out_dir.mkdir(parents=True, exist_ok=True)
    chart_dir = Path(tempfile.mkdtemp(prefix=".charts-", dir=out_dir))
    logo = settings.logo.resolve().as_uri() if settings.logo and settings.logo.is_file() else None
    try:
        install_cleaning_layer(con)  # issue 17: the reports read the cleaned households, as the estimates do
        data = StoreData(con, settings, form, lang)
        builder = Builder(data, settings, form, text, run, chart_dir, logo)
        env = environment()
        areas: list[str] = []
        names: dict[str, str] = {}
        if regions and builder.level0:
            areas = data.areas(builder.level0)
            names = region_file_names(areas, {a: data.plain_area_label(builder.level0, a) for a in areas})
            if not isinstance(regions, bool):
                areas = [a for a in areas if a in set(regions)]
        steps.start("report", 1 + len(areas))

        def pages() -> Iterator[tuple[Path, str]]:
            """Each page as it is composed (the PDFs of the first render while the next are composed)."""
            yield (
                out_dir / "national",
                env.get_template("national.html.j2").render(
                    **add_partner_pages(builder.national(), builder.partners_national())
                ),
            )
            region_tpl = env.get_template("region.html.j2") if areas else None
            for a in areas:
                assert region_tpl is not None
                yield (
                    out_dir / names[a],
                    region_tpl.render(**add_partner_pages(builder.region(a), builder.partners_region(a))),
                )

        if html_only:
            written = []
            for stem, html in pages():
                path = stem.with_suffix(".html")
                atomic_write_text(path, html)
                written.append(path)
                steps.advance("report", item=path.name)
            steps.finish("report")
            return written
        allowed_files = [settings.logo.resolve().as_posix()] if logo and settings.logo else []
        roots = [str(templates_dir()), str(chart_dir)]
        outs: list[Path] = []
        done = lambda job: steps.advance("report", item=job.out.name)  # noqa: E731
        with RenderPool(1 + len(areas), workers, on_done=done) as pool:
            for stem, html in pages():
                out = stem.with_name(stem.name + ".pdf")
                pool.submit(RenderJob(html=html, out=out, roots=roots, files=allowed_files))
                outs.append(out)
            pool.finish()
        steps.finish("report")
        return outs
    finally:
        if not html_only:
            shutil.rmtree(chart_dir, ignore_errors=True)
