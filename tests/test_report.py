"""Reports: numbers from `estimates` in the HTML (StrictUndefined), suppression, languages, PDFs, safety."""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from _store import build_store

import assess.report.render as report_render
import assess.report.sections as report_sections
from assess.core.xlsform import Choice
from assess.core.xlsform import language_code as lang_code
from assess.report.build import build_reports, region_file_names
from assess.report.fetch import make_fetcher
from assess.report.templates import templates_dir
from assess.report.wording import Text
from assess.store.connection import connect

PAYLOAD = '<img src="file:///etc/passwd"><script>alert(1)</script>'


@pytest.fixture(scope="session")
def loaded(demo_template, tmp_path_factory):
    """The demo, loaded and estimated once per session (no Prefect)."""
    root = tmp_path_factory.mktemp("report") / "demo"
    shutil.copytree(demo_template, root)
    settings, form, run = build_store(root)
    return settings, form, run


def _html(settings, form, run, tmp_path, **kw) -> dict[str, str]:
    """Render the HTML only, into a scratch reports dir; {file stem: html}."""
    settings = dataclasses.replace(settings, processed=tmp_path / "processed")
    src = _store_path(run)
    con = duckdb.connect(str(src), read_only=True)
    try:
        paths = build_reports(con, settings, form, run, html_only=True, **kw)
    finally:
        con.close()
    return {p.stem: p.read_text(encoding="utf-8") for p in paths}


def _store_path(run) -> Path:
    return run.store_path


def _with_store(run, store: Path):
    """The run summary, tagged with the store file a test renders from."""
    tagged = copy.copy(run)
    tagged.store_path = store
    return tagged


@pytest.fixture(scope="session")
def demo(loaded):
    settings, form, run = loaded
    return settings, form, _with_store(run, settings.store_path)


def _estimate(store: Path, **where) -> tuple:
    con = duckdb.connect(str(store), read_only=True)
    try:
        cond = " AND ".join(f"{k} = ?" for k in where)
        return con.execute(f"SELECT estimate, ci_low, ci_high, n FROM estimates WHERE {cond}",
                           list(where.values())).fetchone()
    finally:
        con.close()


def test_national_html_shows_the_estimates(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=False)
    html = pages["national"]
    t = Text("en", settings.min_cell)
    est, lo, hi, n = _estimate(settings.store_path, level="national", indicator="priority_needs", option="food")
    assert t.pct(est) in html and t.pct_ci(lo, hi) in html
    # every option of every needs question is shown nationally, with its CI
    con = duckdb.connect(str(settings.store_path), read_only=True)
    rows = con.execute("SELECT indicator, option, estimate, ci_low, ci_high FROM estimates "
                       "WHERE level = 'national' AND option <> '' AND list_contains(?, indicator)",
                       [list(settings.needs)]).fetchall()
    mean = con.execute("SELECT estimate, ci_low, ci_high FROM estimates WHERE level = 'national' "
                       "AND indicator = 'hh_size'").fetchone()
    con.close()
    for indicator, option, e, lo, hi in rows:
        label = form.choice_label(form.questions[indicator].list_name, option, "English (en)")
        assert re.search(re.escape(label) + r"</th><td class=\"bar-strip\">.*?<b>" + re.escape(t.pct(e)) +
                         r"</b> <span class=\"ci ltr\" dir=\"ltr\">\(" + re.escape(t.pct_ci(lo, hi)), html), label
    assert f"{mean[0]:.1f}" in html and t.num_ci(mean[1], mean[2]) in html
    # region label from the form, methodology and reproducibility facts
    assert "Karsa North" in html
    assert f"n = {t.count(n)} households" in html
    assert "Cells with fewer than 5 households are not shown" in html
    assert run.run_id in html
    con = duckdb.connect(str(settings.store_path), read_only=True)
    for name, sha in con.execute("SELECT name, sha256 FROM files").fetchall():
        assert name in html and sha in html
    con.close()
    assert "2–13 November 2026" in html  # data collection dates from the submissions


def test_region_html_compares_with_national(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=["R01"])
    assert set(pages) == {"national", "Karsa-North"}
    html = pages["Karsa-North"]
    t = Text("en", settings.min_cell)
    est, lo, hi, _ = _estimate(settings.store_path, level="admin1", area="R01", indicator="priority_needs",
                               option="food")
    nat = _estimate(settings.store_path, level="national", indicator="priority_needs", option="food")
    assert t.pct(est) in html and t.pct_ci(lo, hi) in html and t.pct(nat[0]) in html
    assert "Breakdown by district" in html and "Harmon" in html  # admin2 inside R01
    assert "Dunvale" not in html  # another region


def test_suppressed_cells_show_n_below_min_cell(demo, tmp_path):
    settings, form, run = demo
    store = tmp_path / "copy.duckdb"
    shutil.copyfile(settings.store_path, store)
    con = duckdb.connect(str(store))
    con.execute("UPDATE estimates SET suppressed = true, n = 3 WHERE level = 'admin2' AND area = 'D0101'")
    con.close()
    pages = _html(settings, form, _with_store(run, store), tmp_path, regions=["R01"])
    html = pages["Karsa-North"]
    rows = re.findall(r'<th scope="row" class="area-col">Harmon</th>(.*?)</tr>', html)
    assert rows, "Harmon row missing"
    for row in rows:
        assert "n&lt;5" in row
        assert not re.search(r"\d+%|\d\.\d", row), row  # never a number for a suppressed cell
    assert re.search(r'class="bar-label">Harmon</th>.*?<span class="supp">n&lt;5</span>', html, re.S)


def test_language_switch_to_french(demo, tmp_path):
    settings, form, run = demo
    html = _html(settings, form, run, tmp_path, regions=["R01"], language="Français (fr)")
    assert '<html lang="fr" dir="ltr">' in html["national"]
    assert "Karsa-Nord" in html["national"] and "Nourriture" in html["national"]
    assert "Résumé" in html["national"]
    assert "Karsa-Nord" in html  # the region file is named after the French label


def test_arabic_is_right_to_left(demo, tmp_path):
    settings, form, run = demo
    html = _html(settings, form, run, tmp_path, regions=["R01"], language="العربية (ar)")
    assert '<html lang="ar" dir="rtl">' in html["national"]
    assert "شمال كارسا" in html["national"]
    assert "شمال-كارسا" in html


def test_lang_code_and_file_names():
    assert lang_code("Français (fr)") == "fr" and lang_code("English") == "en" and lang_code("العربية (ar)") == "ar"
    names = region_file_names(["R1", "R2", "R3", "R4"],
                                     {"R1": "North / East", "R2": "Same", "R3": "Same", "R4": "../.."})
    assert names == {"R1": "North-East", "R2": "R2", "R3": "R3", "R4": "R4"}


def test_pdfs_render_with_metadata_and_text(demo, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    settings, form, run = demo
    settings = dataclasses.replace(settings, processed=tmp_path / "processed")
    con = connect(run.store_path, read_only=True)
    try:
        paths = build_reports(con, settings, form, run, regions=["R01"], workers=1)
    finally:
        con.close()
    assert [p.name for p in paths] == ["national.pdf", "Karsa-North.pdf"]
    assert not list(paths[0].parent.glob("*.tmp")) and not list(paths[0].parent.glob(".charts-*"))
    national = pypdf.PdfReader(paths[0])
    assert len(national.pages) >= 5
    assert national.metadata.title.startswith("Community Needs Assessment 2026")
    assert national.metadata.author == "Demo Red Cross Society"
    root = national.trailer["/Root"]
    assert str(root.get("/Lang")) == "en"
    assert "/StructTreeRoot" in root  # tagged PDF
    fonts = [f.get_object() for p in national.pages for f in p["/Resources"]["/Font"].values()]
    descendants = [d.get_object() for f in fonts for d in f.get("/DescendantFonts", [])]
    assert descendants and all("/FontFile2" in d["/FontDescriptor"] or "/FontFile3" in d["/FontDescriptor"]
                               for d in descendants)  # fonts embedded
    text = " ".join(p.extract_text() for p in national.pages)
    assert "Executive summary" in text and "Karsa North" in text and "page 2 of" in text
    region = pypdf.PdfReader(paths[1])
    assert 1 <= len(region.pages) <= 5
    assert "Karsa North" in region.metadata.title
    assert "Harmon" in " ".join(p.extract_text() for p in region.pages)


def test_fetcher_serves_only_allowed_files(tmp_path):
    allowed = tmp_path / "charts"
    allowed.mkdir()
    (allowed / "a.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    fetcher = make_fetcher([str(allowed)], [])
    assert fetcher.fetch((allowed / "a.svg").as_uri()).read().startswith(b"<svg")
    for url in ("file:///etc/passwd", "http://example.org/x.png", "https://example.org/x.png",
                "data:image/svg+xml,<svg/>", (allowed / ".." / "charts" / ".." / "x").as_uri(),
                "file://evil.example/etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_labels_with_markup_are_text_only_and_never_fetched(demo, tmp_path, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    settings, form, run = demo
    lang = form.resolve_language(settings.language)
    choices = dict(form.choices)
    choices["admin1"] = [Choice(c.name, {lang: PAYLOAD}) if c.name == "R01" else c for c in form.choices["admin1"]]
    choices["needs"] = [Choice(c.name, {lang: "Food " + PAYLOAD}) if c.name == "food" else c
                        for c in form.choices["needs"]]
    questions = dict(form.questions)
    questions["water_source"] = dataclasses.replace(questions["water_source"], labels={lang: PAYLOAD})
    evil = dataclasses.replace(form, choices=choices, questions=questions)

    pages = _html(settings, evil, run, tmp_path / "h", regions=["R01"])
    for html in pages.values():
        assert "<script" not in html and 'src="file:///etc/passwd"' not in html
        assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;&lt;script&gt;" in html
    assert all(re.fullmatch(r"[\w\-]+", stem) for stem in pages), list(pages)  # file names stay file-safe

    requested: list[str] = []
    real = make_fetcher

    def recording(roots, files):
        fetcher = real(roots, files)
        original = fetcher.fetch

        def fetch(url, headers=None):
            requested.append(url)
            return original(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(report_render, "make_fetcher", recording)
    out = dataclasses.replace(settings, processed=tmp_path / "p")
    con = connect(run.store_path, read_only=True)
    try:
        paths = build_reports(con, out, evil, run, regions=["R01"], workers=1)
    finally:
        con.close()
    assert requested, "the fetcher was not used"
    assert not [u for u in requested if "passwd" in u]
    chart_prefix = (out.reports_dir / out.round).resolve().as_uri() + "/.charts-"
    assert all(u.startswith((templates_dir().as_uri(), chart_prefix)) for u in requested), requested
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(paths[0]).pages)
    assert "file:///etc/passwd" in text  # shown as text, not loaded


def test_trend_severity_and_ranking_sections_when_present(demo, tmp_path):
    settings, form, run = demo
    store = tmp_path / "trends.duckdb"
    shutil.copyfile(settings.store_path, store)
    con = duckdb.connect(str(store))
    con.execute("CREATE OR REPLACE TABLE trends (round VARCHAR, previous_round VARCHAR, level VARCHAR, area VARCHAR, "
                "indicator VARCHAR, option VARCHAR, estimate DOUBLE, previous_estimate DOUBLE, change DOUBLE, "
                "se_change DOUBLE, significant BOOLEAN, ci_overlap BOOLEAN)")
    con.execute("INSERT INTO trends VALUES (?, '2026-R0', 'national', 'all', 'priority_needs', 'food', 0.34, 0.22, "
                "0.12, 0.02, true, false), (?, '2026-R0', 'national', 'all', 'hh_size', '', 5.9, 6.1, -0.2, 0.1, "
                "false, true)", [settings.round, settings.round])
    con.close()
    html = _html(settings, form, _with_store(run, store), tmp_path, regions=False)["national"]
    assert "Change since the previous round" in html and "Round 2026-R0" in html
    assert "+12 pts" in html and "−0.2" in html
    assert "Compared with round 2026-R0, 1 of 2 national figures changed" in html
    con = duckdb.connect(str(settings.store_path), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    if "ranking" in tables:
        assert "Top needs by region" in html
    if settings.indicators.severity:
        assert "Households in need (severity 3+) by sector and region" in html and "3+ (in need)" in html


def test_sections_are_skipped_without_optional_tables(demo, tmp_path):
    settings, form, run = demo
    store = tmp_path / "bare.duckdb"
    shutil.copyfile(settings.store_path, store)
    con = duckdb.connect(str(store))
    for table in ("trends", "ranking"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DELETE FROM estimates WHERE NOT list_contains(?, indicator)", [list(settings.needs)])
    con.close()
    html = _html(settings, form, _with_store(run, store), tmp_path, regions=["R01"])
    assert "Change since the previous round" not in html["national"]
    assert "Top needs by region" not in html["national"]
    assert "Households in need" not in html["national"] and "Households in need" not in html["Karsa-North"]


def test_data_quality_annex_counts_problems_by_reason(demo, tmp_path):
    settings, form, run = demo
    store = tmp_path / "dq.duckdb"
    shutil.copyfile(settings.store_path, store)
    con = duckdb.connect(str(store))
    sid = con.execute("SELECT submission_id FROM submissions WHERE admin1 = 'R01' LIMIT 1").fetchone()[0]
    con.execute("INSERT INTO quarantine (round, submission_id, file, sha256, \"row\", \"column\", value, expectation, "
                "reason, kind, action) VALUES "
                "(?, 'q1', 'f.csv', 'x', 3, 'hh_size', '<script>', 'e', 'household size out of range', 'constraint', "
                "'quarantine'), (?, 'q2', 'f.csv', 'x', 4, 'hh_size', '0', 'e', 'household size out of range', "
                "'constraint', 'quarantine'), (?, ?, 'f.csv', 'x', 5, 'hh_size', '31', 'e', 'unusually large household', "
                "'custom', 'warn')", [settings.round, settings.round, settings.round, sid])
    con.close()
    pages = _html(settings, form, _with_store(run, store), tmp_path, regions=["R01"])
    national = pages["national"]
    assert re.search(r"<td>quarantined</td><td>constraint</td><td>household size out of range</td>"
                     r"<td class=\"num\">2</td>", national)
    assert "flagged, kept" in national and "unusually large household" in national
    assert "&lt;script&gt;" not in national and "<script" not in national  # answers are never shown
    assert "unusually large household" in pages["Karsa-North"]  # the warning is placed in its region


def test_long_choice_lists_split_into_tables_that_fit_the_page(demo, tmp_path, monkeypatch):
    settings, form, run = demo
    monkeypatch.setattr(report_sections, "MAX_HEAT_COLUMNS", 4)
    html = _html(settings, form, run, tmp_path / "h", regions=[])["national"]
    # priority_needs has 9 options: 4 + 4 + 1 columns, every option still shown once per heat table part
    assert "(5–8 / 9)" in html and "(9–9 / 9)" in html and "/ 10)" not in html


def test_areas_sharing_a_label_show_their_code_and_files_use_the_code(demo, tmp_path):
    settings, form, run = demo
    lang = form.resolve_language(settings.language)
    choices = dict(form.choices)
    choices["admin1"] = [Choice(c.name, {lang: "To be updated"}) if c.name in ("R01", "R02") else c
                         for c in form.choices["admin1"]]
    placeholder = dataclasses.replace(form, choices=choices)
    pages = _html(settings, placeholder, run, tmp_path / "h", regions=["R01", "R02"])
    assert {"R01", "R02"} <= set(pages)
    assert "To be updated (R01)" in pages["national"] and "To be updated (R02)" in pages["national"]


def test_render_all_reports_each_pdf_as_it_finishes(tmp_path):
    """The pool route: page counts come back in job order; the caller hears of each PDF once, when it is written."""
    def job(name: str, pages: int) -> report_render.RenderJob:
        body = '<p style="break-after: page">x</p>' * (pages - 1) + "<p>end</p>"
        return report_render.RenderJob(html=f"<html><body>{body}</body></html>", out=tmp_path / f"{name}.pdf",
                                       roots=[str(templates_dir())])

    jobs = [job("a", 1), job("b", 3), job("c", 2)]
    done: list[str] = []

    def on_done(j):
        assert j.out.is_file()  # already written when reported
        done.append(j.out.name)

    assert report_render.render_all(jobs, workers=2, on_done=on_done) == [1, 3, 2]
    assert sorted(done) == ["a.pdf", "b.pdf", "c.pdf"]
    done.clear()
    assert report_render.render_all(jobs[:2], workers=2, on_done=on_done) == [1, 3]  # inline: few jobs
    assert done == ["a.pdf", "b.pdf"]


def test_build_reports_reports_progress(loaded, tmp_path):
    settings, form, run = loaded
    seen: list[tuple] = []

    class Recorder:
        def start(self, stage, total=None):
            seen.append(("start", stage, total))

        def advance(self, stage, step=1, item=None):
            seen.append(("advance", stage, item))

        def finish(self, stage, note=None):
            seen.append(("finish", stage))

    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        paths = build_reports(con, dataclasses.replace(settings, processed=tmp_path / "processed"), form, run,
                              html_only=True, progress=Recorder())
    finally:
        con.close()
    assert seen[0] == ("start", "report", None) and seen[1] == ("start", "report", len(paths))
    assert [s[2] for s in seen if s[0] == "advance"] == [p.name for p in paths]
    assert seen[-1] == ("finish", "report")
