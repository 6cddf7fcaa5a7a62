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
from assess.clean.layer import install
from assess.core.settings import ExpectSpec
from assess.core.xlsform import Choice
from assess.core.xlsform import language_code as lang_code
from assess.estimate.plan import read_plan
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
        return con.execute(
            f"SELECT estimate, ci_low, ci_high, n FROM estimates WHERE {cond}", list(where.values())
        ).fetchone()
    finally:
        con.close()


def test_national_html_shows_the_estimates(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=False)
    html = pages["national"]
    t = Text("en", settings.min_cell)
    est, lo, hi, n = _estimate(
        settings.store_path, level="national", indicator="priority_needs", option="food"
    )
    assert t.pct(est) in html and t.pct_ci(lo, hi) in html
    # every option of every household needs question is shown nationally, with its CI (members: see below)
    con = duckdb.connect(str(settings.store_path), read_only=True)
    rows = con.execute(
        "SELECT indicator, option, estimate, ci_low, ci_high FROM estimates WHERE unit = 'household' "
        "AND level = 'national' AND option <> '' AND list_contains(?, indicator)",
        [list(settings.needs)],
    ).fetchall()
    mean = con.execute(
        "SELECT estimate, ci_low, ci_high FROM estimates WHERE level = 'national' AND indicator = 'hh_size'"
    ).fetchone()
    con.close()
    for indicator, option, e, lo, hi in rows:
        label = form.choice_label(form.questions[indicator].list_name, option, "English (en)")
        assert re.search(
            re.escape(label)
            + r"</th><td class=\"bar-strip\">.*?<b>"
            + re.escape(t.pct(e))
            + r"</b> <span class=\"ci ltr\" dir=\"ltr\">\("
            + re.escape(t.pct_ci(lo, hi)),
            html,
        ), label
    assert f"{mean[0]:.1f}" in html and t.num_ci(mean[1], mean[2]) in html
    # region label from the form, methodology and reproducibility facts
    assert "Karsa North" in html
    assert f"n = {t.count(n)} households" in html
    assert "Cells with fewer than 5 households are not shown" in html
    assert run.run_id in html
    con = duckdb.connect(str(settings.store_path), read_only=True)
    used = "SELECT DISTINCT source_sha256 FROM submissions"  # the roster re-exports replaced the first files
    for name, sha in con.execute(f"SELECT name, sha256 FROM files WHERE sha256 IN ({used})").fetchall():
        assert name in html and sha in html
    con.close()
    assert "2–13 November 2026" in html  # data collection dates from the submissions


def test_region_html_compares_with_national(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=["R01"])
    assert set(pages) == {"national", "Karsa-North"}
    html = pages["Karsa-North"]
    t = Text("en", settings.min_cell)
    est, lo, hi, _ = _estimate(
        settings.store_path, level="admin1", area="R01", indicator="priority_needs", option="food"
    )
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
    assert (
        lang_code("Français (fr)") == "fr"
        and lang_code("English") == "en"
        and lang_code("العربية (ar)") == "ar"
    )
    names = region_file_names(
        ["R1", "R2", "R3", "R4"], {"R1": "North / East", "R2": "Same", "R3": "Same", "R4": "../.."}
    )
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
    assert descendants and all(
        "/FontFile2" in d["/FontDescriptor"] or "/FontFile3" in d["/FontDescriptor"] for d in descendants
    )  # fonts embedded
    text = " ".join(p.extract_text() for p in national.pages)
    assert "Executive summary" in text and "Karsa North" in text and "page 2 of" in text
    region = pypdf.PdfReader(paths[1])
    assert 1 <= len(region.pages) <= 6  # compact; one more page since the needs-and-partners section
    assert "Karsa North" in region.metadata.title
    assert "Harmon" in " ".join(p.extract_text() for p in region.pages)


def test_fetcher_serves_only_allowed_files(tmp_path):
    allowed = tmp_path / "charts"
    allowed.mkdir()
    (allowed / "a.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    fetcher = make_fetcher([str(allowed)], [])
    assert fetcher.fetch((allowed / "a.svg").as_uri()).read().startswith(b"<svg")
    for url in (
        "file:///etc/passwd",
        "http://example.org/x.png",
        "https://example.org/x.png",
        "data:image/svg+xml,<svg/>",
        (allowed / ".." / "charts" / ".." / "x").as_uri(),
        "file://evil.example/etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_labels_with_markup_are_text_only_and_never_fetched(demo, tmp_path, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    settings, form, run = demo
    lang = form.resolve_language(settings.language)
    choices = dict(form.choices)
    choices["admin1"] = [
        Choice(c.name, {lang: PAYLOAD}) if c.name == "R01" else c for c in form.choices["admin1"]
    ]
    choices["needs"] = [
        Choice(c.name, {lang: "Food " + PAYLOAD}) if c.name == "food" else c for c in form.choices["needs"]
    ]
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
    con.execute(
        "CREATE OR REPLACE TABLE trends (round VARCHAR, previous_round VARCHAR, level VARCHAR, area VARCHAR, "
        "indicator VARCHAR, option VARCHAR, estimate DOUBLE, previous_estimate DOUBLE, change DOUBLE, "
        "se_change DOUBLE, significant BOOLEAN, ci_overlap BOOLEAN)"
    )
    con.execute(
        "INSERT INTO trends VALUES (?, '2026-R0', 'national', 'all', 'priority_needs', 'food', 0.34, 0.22, "
        "0.12, 0.02, true, false), (?, '2026-R0', 'national', 'all', 'hh_size', '', 5.9, 6.1, -0.2, 0.1, "
        "false, true), (?, '2026-R0', 'national', 'all', 'water_source:need', '', 0.26, 0.31, -0.05, 0.02, "
        "true, false)",
        [settings.round, settings.round, settings.round],
    )
    con.close()
    html = _html(settings, form, _with_store(run, store), tmp_path, regions=False)["national"]
    assert "Change since the previous round" in html and "Round 2026-R0" in html
    assert "+12 pts" in html and "−0.2" in html
    assert "Compared with round 2026-R0, 2 of 3 national figures changed" in html
    # the share of answers that signal need is a figure of its own, named by its answers
    assert (
        "<td>What is the main source of drinking water for the household?</td><td>“Unprotected well or "
        'spring” or “Surface water (river, pond)”</td><td class="num">31%</td><td class="num">26%</td>'
        '<td class="num">−5 pts</td>'
    ) in html.replace("&#34;", '"')
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
    con.execute(
        'INSERT INTO quarantine (round, submission_id, file, sha256, "row", "column", value, expectation, '
        "reason, kind, action) VALUES "
        "(?, 'q1', 'f.csv', 'x', 3, 'household-hh_size', '<script>', 'e', 'household size out of range; fix "
        "the row and drop the corrected file', 'constraint', 'quarantine'), "
        "(?, 'q2', 'f.csv', 'x', 4, 'household/hh_size', '0', 'e', 'household size out of range', "
        "'constraint', 'quarantine'), (?, ?, 'f.csv', 'x', 5, 'hh_size', '31', 'e', 'hh_size 31: unusually "
        "large household', 'custom', 'warn')",
        [settings.round, settings.round, settings.round, sid],
    )
    con.close()
    own_check = ExpectSpec(
        type="expect_column_values_to_be_between",
        kwargs={"column": "hh_size", "max_value": 20, "reason": "unusually large household"},
    )
    with_check = dataclasses.replace(settings, expectations=(own_check,))
    pages = _html(with_check, form, _with_store(run, store), tmp_path, regions=["R01"])
    national = pages["national"]
    question = "How many people live in this household, including you?"
    # by reason in plain words, with the question; both export spellings of the column are the one question
    assert re.search(
        r"<td>An answer outside what the form allows</td><td>"
        + re.escape(question)
        + r"</td><td class=\"num\">2</td><td class=\"num\"></td>",
        national,
    )
    # the assessment's own words for its own check; flagged (kept), not kept aside
    assert re.search(
        r"<td>Unusually large household</td><td>"
        + re.escape(question)
        + r"</td><td class=\"num\"></td><td class=\"num\">1</td>",
        national,
    )
    assert "drop the corrected file" not in national and "out of range" not in national  # coordinators' text
    assert "&lt;script&gt;" not in national and "<script" not in national  # answers are never shown
    region = pages["Karsa-North"]
    assert re.search(
        r"<td>Unusually large household</td><td>" + re.escape(question) + r"</td><td class=\"num\">1</td>",
        region,
    )  # the warning is placed in its region
    # without the check in the config, the kind of check speaks for it
    plain = _html(settings, form, _with_store(run, store), tmp_path / "plain", regions=False)["national"]
    assert "<td>Failed a check set for this assessment</td>" in plain


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
    choices["admin1"] = [
        Choice(c.name, {lang: "To be updated"}) if c.name in ("R01", "R02") else c
        for c in form.choices["admin1"]
    ]
    placeholder = dataclasses.replace(form, choices=choices)
    pages = _html(settings, placeholder, run, tmp_path / "h", regions=["R01", "R02"])
    assert {"R01", "R02"} <= set(pages)
    assert "To be updated (R01)" in pages["national"] and "To be updated (R02)" in pages["national"]


def test_render_all_reports_each_pdf_as_it_finishes(tmp_path):
    """The pool route: page counts come back in job order; the caller hears of each PDF once, when it is written."""

    def job(name: str, pages: int) -> report_render.RenderJob:
        body = '<p style="break-after: page">x</p>' * (pages - 1) + "<p>end</p>"
        return report_render.RenderJob(
            html=f"<html><body>{body}</body></html>",
            out=tmp_path / f"{name}.pdf",
            roots=[str(templates_dir())],
        )

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
        paths = build_reports(
            con,
            dataclasses.replace(settings, processed=tmp_path / "processed"),
            form,
            run,
            html_only=True,
            progress=Recorder(),
        )
    finally:
        con.close()
    assert seen[0] == ("start", "report", None) and seen[1] == ("start", "report", len(paths))
    assert [s[2] for s in seen if s[0] == "advance"] == [p.name for p in paths]
    assert seen[-1] == ("finish", "report")


# ------------------------------------------------------------------------------------------------------------
# The leadership PDF (issue 13): files in the numbers, the annex in plain words, findings that read as written
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def with_bad_files(demo_template, tmp_path_factory):
    """The demo plus a file with bad rows, an empty file and another form's export, loaded once."""
    from tests.baseline import write_inbox_extras

    root = tmp_path_factory.mktemp("report-bad") / "demo"
    shutil.copytree(demo_template, root)
    write_inbox_extras(root)
    settings, form, run = build_store(root)
    return settings, form, _with_store(run, settings.store_path)


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_reproducibility_lists_only_the_files_in_the_numbers(with_bad_files, tmp_path):
    settings, form, run = with_bad_files
    html = _html(settings, form, run, tmp_path, regions=False)["national"]
    con = duckdb.connect(str(settings.store_path), read_only=True)
    files = {r[0]: r[1:] for r in con.execute("SELECT name, sha256, status FROM files").fetchall()}
    used = {r[0] for r in con.execute("SELECT DISTINCT source_sha256 FROM submissions").fetchall()}
    con.close()
    assert files["zz_empty.csv"][1] == files["zz_other_form.csv"][1] == "rejected"
    repro = _section(html, 'id="s-repro"', "</table>")
    listed = re.findall(r"<tr><td>([^<]+)</td><td class=\"hash\">([0-9a-f]{64})</td></tr>", repro)
    assert sorted(listed) == sorted((n, f[0]) for n, f in files.items() if f[1] == "loaded" and f[0] in used)
    # the first Kobo CSV loaded, but every household of it was replaced by the later roster re-export
    assert files["kobo_export_2026-11-10.csv"][1] == "loaded" and "kobo_export_2026-11-10.csv" not in dict(
        listed
    )
    assert "zz_bad_rows.csv" in dict(listed)  # some of its rows are in the numbers


def test_quality_annex_is_for_leadership_not_coordinators(with_bad_files, tmp_path):
    settings, form, run = with_bad_files
    html = _html(settings, form, run, tmp_path, regions=False)["national"]
    annex = html[html.index('id="s-quality"') :]
    # rejected files: one line, not named, no instructions, no status with counts
    assert "2 other files could not be read and are not in the numbers; see the receipts." in annex
    for text in (
        "zz_empty.csv",
        "zz_other_form.csv",
        "Export the data again",
        "drop it again",
        "point [survey] xlsform",
        "rejected (",
        "quarantined)",
        "does not look like an export",
    ):
        assert text not in html, text
    assert "<td>zz_bad_rows.csv</td>" in annex
    # rows kept aside: by reason in plain words, with the question; never the answer that failed
    for why, question in (
        (
            "An answer that is not one of the form&#39;s choices",
            "What is the main source of drinking water for the household?",
        ),
        ("An answer outside what the form allows", "How many people live in this household, including you?"),
        (
            "No answer where the form requires one",
            "What is the main source of drinking water for the household?",
        ),
    ):
        assert f"<td>{why}</td><td>{question}</td>" in annex, why
    assert "bottled_champagne" not in html and "not a whole number" not in html


def _need(store: Path, level: str, area: str, indicator: str) -> tuple:
    return _estimate(store, level=level, area=area, indicator=indicator, option="")


def test_answers_that_signal_need_are_one_estimate_with_its_own_ci(demo):
    settings, form, _ = demo
    assert [c.name for c in form.choices["water_source"] if c.need] == ["unprotected_well", "surface_water"]
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        est, lo, hi, n = _need(settings.store_path, "national", "all", "water_source:need")
        parts = con.execute(
            "SELECT estimate, n FROM estimates WHERE level = 'national' AND indicator = "
            "'water_source' AND option IN ('unprotected_well', 'surface_water')"
        ).fetchall()
        # one share of households, equal to the sum of the two answers' shares (select_one) ...
        assert est == pytest.approx(sum(p[0] for p in parts)) and n == parts[0][1]
        # ... with its own design-based interval, narrower than adding the answers' intervals
        assert lo < est < hi and hi - lo < 0.1
        # every area and district has it, like any other cell; it is never an answer of the question itself
        assert (
            con.execute("SELECT count(*) FROM estimates WHERE indicator = 'water_source:need'").fetchone()[0]
            == con.execute(
                "SELECT count(*) FROM estimates WHERE indicator = 'water_source' AND option = 'borehole'"
            ).fetchone()[0]
        )
        assert not con.execute(
            "SELECT count(*) FROM estimates WHERE indicator = 'water_source' AND option "
            "NOT IN (SELECT unnest(?))",
            [form.choice_names("water_source")],
        ).fetchone()[0]
        assert not con.execute("SELECT count(*) FROM ranking WHERE indicator LIKE '%:need'").fetchone()[0]
        # shelter: three answers signal need
        est, *_ = _need(settings.store_path, "national", "all", "shelter_condition:need")
        total = con.execute(
            "SELECT sum(estimate) FROM estimates WHERE level = 'national' AND indicator = "
            "'shelter_condition' AND option IN ('major_damage', 'destroyed', 'none')"
        ).fetchone()[0]
        assert est == pytest.approx(total)
        # priority needs: nothing marked, nothing derived
        assert not con.execute(
            "SELECT count(*) FROM estimates WHERE indicator = 'priority_needs:need'"
        ).fetchone()[0]
    finally:
        con.close()


def test_select_multiple_need_share_is_any_need_answer_chosen(demo, tmp_path):
    """A select_multiple question: y = 1 when any need answer is ticked, 0 when answered otherwise."""
    from assess.estimate.run import run_estimates

    settings, form, _ = demo
    store = tmp_path / "multi.duckdb"
    shutil.copyfile(settings.store_path, store)
    marked = dataclasses.replace(settings, need_answers={"priority_needs": ("food", "water")})
    con = connect(store)
    try:
        run_estimates(con, marked, form)
        est, lo, hi, n = con.execute(
            "SELECT estimate, ci_low, ci_high, n FROM estimates WHERE level = 'national' "
            "AND indicator = 'priority_needs:need'"
        ).fetchone()
        food, water = (
            con.execute(
                "SELECT estimate FROM estimates WHERE level = 'national' AND indicator = "
                "'priority_needs' AND option = ?",
                [o],
            ).fetchone()[0]
            for o in ("food", "water")
        )
        answered = con.execute(
            "SELECT n FROM estimates WHERE level = 'national' AND indicator = 'priority_needs' "
            "AND option = 'food'"
        ).fetchone()[0]
    finally:
        con.close()
    assert max(food, water) < est < food + water  # households naming both count once
    assert lo < est < hi and n == answered


def test_summary_is_findings_from_the_numbers(demo, tmp_path):
    settings, form, run = demo
    t = Text("en", settings.min_cell)
    pages = _html(settings, form, run, tmp_path, regions=["R01"])
    html = pages["national"]
    summary = _section(html, 'id="s-summary"', "</section>")
    assert "Most frequent answer" not in html
    assert "in 6 regions." in summary and "areas (Region)" not in html
    # the combined share of the answers that signal need, with its own CI
    est, lo, hi, _ = _need(settings.store_path, "national", "all", "water_source:need")
    assert (
        f"{t.pct(est)} of households (95% CI {t.pct_ci(lo, hi)}) answered “Unprotected well or spring” or "
        "“Surface water (river, pond)” to “What is the main source of drinking water for the household?”."
    ) in summary.replace("&#34;", '"')
    # the areas that stand out: their own value and the national one
    assert "Areas that stand out" in summary
    nat = _need(settings.store_path, "national", "all", "water_source:need")[0]
    top = max(
        (
            (a, _need(settings.store_path, "admin1", a, "water_source:need"))
            for a in ("R01", "R02", "R03", "R04", "R05", "R06")
        ),
        key=lambda p: p[1][0],
    )
    label = form.choice_label("admin1", top[0], "English (en)")
    assert re.search(
        re.escape(f"{t.pct(top[1][0])} in {label}")
        + r"[^<]*"
        + re.escape(f"against {t.pct(nat)} nationally."),
        summary,
    )
    # the summary has a page of its own
    assert re.search(r'<section class="page-start summary-page">\s*<h1 id="s-summary">', html)


def test_region_text_says_both_values_and_names_the_report(demo, tmp_path):
    settings, form, run = demo
    t = Text("en", settings.min_cell)
    html = _html(settings, form, run, tmp_path, regions=["R01"])["Karsa-North"]
    assert '<p class="kicker">Regional report</p>' in html  # not "REGIONAL REPORT · REGION"
    food = _estimate(
        settings.store_path, level="admin1", area="R01", indicator="priority_needs", option="food"
    )
    nat = _estimate(settings.store_path, level="national", indicator="priority_needs", option="food")
    assert food[1] > nat[0]  # the demo's dry north names food clearly more often
    assert f"<li>Food: {t.pct(food[0])} here against {t.pct(nat[0])} nationally.</li>" in html
    assert "higher than nationally" not in html
    est, lo, hi, _ = _need(settings.store_path, "admin1", "R01", "water_source:need")
    assert f"{t.pct(est)} of households here (95% CI {t.pct_ci(lo, hi)}) answered" in html


def test_no_zero_interval_for_an_answer_nobody_gave(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=True)
    assert len(pages) == 7
    for stem, html in pages.items():
        assert "0–0%" not in html, stem
    # Marin Coast: nobody fetches surface water there
    marin = pages["Marin-Coast"]
    assert re.search(
        r'class="bar-label">Surface water \(river, pond\)</th><td class="bar-strip">.*?'
        r"<b>none</b>",
        marin,
    )
    assert "No household here answered “Unprotected well or spring” or “Surface water (river, pond)”" in marin


def _heat_columns(html: str, title: str) -> dict[str, set[str]]:
    """column label -> the CSS classes of its cells, for the heat table titled `title`."""
    table = _section(html, f'<h3 class="table-title">{title}</h3>', "</table>")
    heads = re.findall(r"<th>([^<]*)</th>", table.split("</thead>")[0])
    out: dict[str, set[str]] = {h: set() for h in heads}
    for row in re.findall(r"<tr[^>]*><th scope=\"row\"[^>]*>[^<]*</th>(.*?)</tr>", table):
        for head, cls in zip(heads, re.findall(r'<td class="([^"]+)">', row), strict=True):
            out[head].add(cls)
    return out


def test_heat_tables_shade_in_the_direction_of_need(demo, tmp_path):
    settings, form, run = demo
    html = _html(settings, form, run, tmp_path, regions=False)["national"]
    shelter = _heat_columns(html, "What is the condition of the household&#39;s shelter?")
    assert shelter["Good condition"] == shelter["Minor damage"] == {"hp"}  # good news is not a hotspot
    for need in ("Major damage", "Destroyed", "No shelter"):
        # shaded, or suppressed (`hs`: few households chose it, or its complement; issue 16)
        assert any(re.fullmatch(r"h[0-5]", c) for c in shelter[need]), need
        assert all(re.fullmatch(r"h[0-5s]", c) for c in shelter[need]), need
    assert (
        list(shelter)[:3] == ["Major damage", "Destroyed", "No shelter"] and len(shelter) == 5
    )  # need first
    # nothing marked: neutral greys, and the legend says what grey means
    needs = _heat_columns(html, "What are the household&#39;s most important needs right now? (up to 3)")
    assert all(re.fullmatch(r"g[0-5]", c) for cells in needs.values() for c in cells)
    assert "Questions with no answer marked as signalling need" in html
    assert 'class="swatch g5"' in html and 'class="swatch hp">Other answers' in html
    # food consumption: poor and borderline signal need, acceptable does not
    fcs = _heat_columns(html, "Food consumption group")
    assert fcs["Acceptable"] - {"hs"} == {"hp"} and all(c.startswith("h") and c != "hp" for c in fcs["Poor"])
    # the combined shares have their own table, with the national row
    need = _heat_columns(html, "Households giving answers that signal need")
    assert len(need) == 2 and all(re.fullmatch(r"h[0-5]", c) for cells in need.values() for c in cells)


def test_pages_explain_what_they_show(demo, tmp_path):
    settings, form, run = demo
    html = _html(settings, form, run, tmp_path, regions=False)["national"]
    # severity phases a sector's rules cannot give read "–", with a note (food: phases 1, 3, 4 only)
    dist = _section(html, "Severity phases nationally, by sector", "</div>")
    food = re.search(r'class="area-col">Food security</th>(.*?)</tr>', dist).group(1)
    cells = re.findall(r'<td class="[^"]+">([^<]*)</td>', food)
    assert cells[1] == "–" and cells[4] == "–" and "%" in cells[0]  # phases 2 and 5
    assert "–: the sector&#39;s rules do not define this phase." in dist
    # an average is labelled as one, with its interval
    t = Text("en", settings.min_cell)
    fcs = _estimate(settings.store_path, level="national", indicator="fcs_score", option="")
    assert "Averages by region (95% confidence interval in brackets)" in html
    assert f'<b>{t.num(fcs[0])}</b> <span class="ci">(95% CI {t.num_ci(fcs[1], fcs[2])})</span>' in html
    assert '<h3 class="table-title">Average</h3>' not in html
    # the national chart of an average shows the national figure first, the regions for comparison
    chart = _section(html, "How many people live in this household, including you?</span>", "</figure>")
    mean = _estimate(settings.store_path, level="national", indicator="hh_size", option="")
    first = re.search(
        r'<tr class="total-bar"><th scope="row" class="bar-label">National</th>.*?<b>([^<]+)</b>', chart
    )
    assert first and first.group(1) == t.num(mean[0])
    assert chart.index("National</th>") < chart.index("Karsa North</th>")
    assert "below it each region, for comparison" in chart and "National figure" in chart


def test_new_wording_in_french_and_arabic(demo, tmp_path):
    settings, form, run = demo
    fr = _html(settings, form, run, tmp_path / "fr", regions=["R01"], language="Français (fr)")
    assert "Zones qui se distinguent" in fr["national"] and "dans 6 régions." in fr["national"]
    assert (
        "ont répondu « Puits ou source non protégé » ou « Eau de surface (rivière, mare) »" in fr["national"]
    )
    assert "ici contre" in fr["Karsa-Nord"]
    ar = _html(settings, form, run, tmp_path / "ar", regions=["R01"], language="العربية (ar)")
    assert '<html lang="ar" dir="rtl">' in ar["national"]
    assert "مناطق لافتة" in ar["national"] and "إجابات تدل على احتياج" in ar["national"]
    assert "هنا مقابل" in ar["شمال-كارسا"]


# --------------------------------------------------------------------------------------------- members
def _member_rows(store: Path, level: str, area: str) -> dict[tuple[str, str], tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            "SELECT indicator, option, estimate, ci_low, ci_high, n, n_households FROM estimates "
            "WHERE unit = 'roster' AND level = ? AND area = ?",
            [level, area],
        ).fetchall()
    finally:
        con.close()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_member_pages_show_the_roster_with_member_wording(demo, tmp_path):
    settings, form, run = demo
    pages = _html(settings, form, run, tmp_path, regions=["R02"])
    html, region = pages["national"], pages["Karsa-South"]
    t = Text("en", settings.min_cell)
    section = _section(html, 'id="s-members-roster"', '<section class="page-start">')
    assert "People in the households" in html[: html.index('id="s-summary"')]  # in the contents
    nat = _member_rows(settings.store_path, "national", "all")
    school, disability, female = (
        nat[("ind_school", "yes")],
        nat[("ind_disability", "")],
        nat[("ind_sex", "female")],
    )
    # who was listed: people and households, from the same estimates
    assert f"lists {t.count(female[3])} people in {t.count(female[4])} households" in section
    # the age/sex pyramid: counts of people listed in the roster, by band and sex, clearly not weighted
    con = duckdb.connect(str(settings.store_path), read_only=True)
    install(con)  # the members of the cleaned households (issue 17), as the report reads them
    listed = con.execute(
        "SELECT count(*) FILTER (WHERE ind_sex = 'female' AND ind_age BETWEEN 5 AND 9), "
        "count(*) FILTER (WHERE ind_sex = 'male' AND ind_age >= 60), count(*) FROM r_roster"
    ).fetchone()
    con.close()
    pyramid = _section(section, '<table class="pyramid">', "</table>")
    assert re.search(rf'<td class="num">{t.count(listed[0])}</td><td class="half">.*?5–9', pyramid)
    assert re.search(
        rf"60\+</span></td><td class=\"half\">.*?<td class=\"num\">{t.count(listed[1])}</td>", pyramid
    )
    assert f"({t.count(listed[2])} in all): counts of the sample, not weighted" in section
    # school attendance 5-17 and disability (Washington Group), national and by region, with 95% CIs
    for (value, lo, hi, *_), label in (
        (school, "Does this child attend school (formal education) this school year?: Yes"),
        (disability, "Member with a disability (Washington Group)"),
    ):
        chart = _section(section, f'<span class="q">{label}</span>', "</figure>")
        assert re.search(
            rf"National</th><td class=\"bar-strip\">.*?<b>{re.escape(t.pct(value))}</b> "
            rf"<span class=\"ci ltr\" dir=\"ltr\">\({re.escape(t.pct_ci(lo, hi))}\)",
            chart,
        ), label
    south = _member_rows(settings.store_path, "admin1", "R02")[("ind_school", "yes")]
    assert re.search(
        rf"Karsa South</th><td class=\"bar-strip\">.*?<b>{re.escape(t.pct(south[0]))}</b>",
        _section(section, "attend school", "</figure>"),
    )
    # member wording: people, not households
    assert f"n = {t.count(school[3])} people in {t.count(school[4])} households" in section
    assert f"n = {t.count(disability[3])} people in {t.count(disability[4])} households" in section
    assert "share of members" in section and "n = " + t.count(school[3]) + " households" not in html
    assert "Share of households" not in section
    # household numbers made from the members: shares / averages of households, never "average answer"
    summary = _section(html, 'id="s-summary"', "</section>")
    assert "“Households with a member with a disability”: " in summary and " of households (95% CI" in summary
    assert "“Children aged 5-17”: " in summary and "on average per household" in summary
    assert "average answer to “Households with" not in summary.lower()
    # member questions stay out of the household pages (summary, heat tables, household charts); the plan's
    # results by group come next (school attendance by the member's sex, marked as members: issue 16)
    assert (
        "Sex of the member" not in summary and "Sex of the member" not in html[: html.index('id="s-disagg')]
    )
    # the region report: its own pyramid and its member figures against the national ones
    part = _section(region, 'id="s-members-roster"', "</section>")
    here = _member_rows(settings.store_path, "admin1", "R02")
    assert 'class="pyramid"' in part
    for key in (("ind_school", "yes"), ("ind_disability", ""), ("ind_sex", "female")):
        assert t.pct(here[key][0]) in part and t.pct(nat[key][0]) in part
    assert f"lists {t.count(here[('ind_sex', 'female')][3])} people in" in part


def test_member_wording_in_french_and_arabic(demo, tmp_path):
    settings, form, run = demo
    school = _member_rows(settings.store_path, "national", "all")[("ind_school", "yes")]
    for language, code, words in (
        ("Français (fr)", "fr", ("Les personnes des ménages", "personnes dans", "Personnes recensées")),
        ("العربية (ar)", "ar", ("الأشخاص في الأسر", "شخصًا في", "الأشخاص المسجلون")),
    ):
        html = _html(settings, form, run, tmp_path / code, regions=False, language=language)["national"]
        t = Text(code, settings.min_cell)
        assert all(w in html for w in words), code
        assert t.fill("n_members", n=t.count(school[3]), h=t.count(school[4])) in html


def test_national_report_has_a_table_per_disaggregation_of_the_plan(demo, tmp_path):
    settings, form, run = demo
    html = _html(settings, form, run, tmp_path, regions=False)["national"]
    assert '<a href="#s-disagg">Results by group</a>' in html
    section = html[html.index('id="s-disagg"') :]
    section = section[: section.index("</section>")]
    plan = read_plan(settings.plan)
    titles = re.findall(r'<h3 class="table-title">([^<]+)</h3>', section)
    assert len(titles) == sum(1 for a in plan if a.groups) == 9  # one per analysis with group variables
    assert "(median) by Gender of the head of household" in titles[4]
    assert any("by Region × Gender of the head of household" in t for t in titles)
    assert any(t.endswith("by Sex of the member (members)") for t in titles)  # roster rows, by their sex
    # differences whose intervals do not overlap are marked; small cells are suppressed, not shown
    assert section.count('<span class="mark">◆</span>') >= 2 and "n&lt;5" in section
