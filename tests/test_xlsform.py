"""XLSForm reader: types, groups, choices, languages, leniency for forms Kobo accepted."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from assess.core.xlsform import FormError, match_language, normalise_type, read_xlsform
from tests._shared import shared_dir


def write_form(path, survey, choices, settings=None):
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    for row in survey:
        ws.append(row)
    wc = wb.create_sheet("choices")
    for row in choices:
        wc.append(row)
    if settings:
        wset = wb.create_sheet("settings")
        for row in settings:
            wset.append(row)
    wb.save(path)
    return path


def test_types_groups_choices_and_languages(tmp_path):
    path = write_form(
        tmp_path / "f.xlsx",
        [
            [
                "type",
                "name",
                "label::English (en)",
                "label::Français (fr)",
                "required",
                "relevant",
                "constraint",
            ],
            ["begin group", "hh", "Household", "Ménage", "", "", ""],
            ["select one yes_no", "ok", "OK?", "OK ?", "yes", "", ""],
            ["select_multiple needs", "needs", "Needs", "Besoins", "TRUE", "${ok} = 'yes'", ""],
            ["int", "size", "Size", "Taille", "", "", ". >= 1 and . <= 30"],
            ["begin_repeat", "members", "", "", "", "", ""],
            ["integer", "age", "Age", "Âge", "", "", ""],
            ["end_repeat", "", "", "", "", "", ""],
            ["end group", "", "", "", "", "", ""],
            ["gps", "where", "Where", "Où", "", "", ""],
            ["mystery_widget", "odd", "", "", "", "", ""],
        ],
        [
            ["list_name", "name", "label::English (en)", "label::Français (fr)"],
            ["yes_no", "yes", "Yes", "Oui"],
            ["yes_no", "no", "No", "Non"],
            ["needs", "food", "Food", "Nourriture"],
            ["needs", "NA", "Not applicable", "Sans objet"],
            ["needs", "food", "Food again", "Encore"],
            ["needs", 1, "One", "Un"],
        ],
        [["form_title", "default_language"], ["Needs 2026", "Français (fr)"]],
    )
    form = read_xlsform(path)
    assert form.title == "Needs 2026"
    assert form.languages == ["English (en)", "Français (fr)"]
    assert form.resolve_language(None) == "Français (fr)"
    assert form.resolve_language("english") == "English (en)"
    assert form.resolve_language("EN") == "English (en)"
    ok, needs, size, age, where = (form.questions[n] for n in ("ok", "needs", "size", "age", "where"))
    assert (ok.type, ok.list_name, ok.required, ok.group_path) == ("select_one", "yes_no", True, ("hh",))
    assert needs.type == "select_multiple" and needs.relevant == "${ok} = 'yes'" and needs.required
    assert size.type == "integer" and size.constraint == ". >= 1 and . <= 30"
    assert age.in_repeat and not size.in_repeat
    assert where.type == "geopoint" and where.private
    assert form.questions["odd"].type == "text"
    # 'NA' is a choice, a numeric cell is text, the duplicate is dropped with a warning
    assert form.choice_names("needs") == ["food", "NA", "1"]
    assert any("twice" in w for w in form.warnings)
    assert any("unknown question type" in w for w in form.warnings)
    assert form.label("needs", "Français (fr)") == "Besoins"
    assert form.choice_label("needs", "NA", "English (en)") == "Not applicable"
    with pytest.raises(FormError, match="not in the form"):
        form.resolve_language("Swahili")


def test_title_from_file_name_without_settings_and_plain_label(tmp_path):
    path = write_form(
        tmp_path / "my_needs_form.xlsx",
        [["type", "name", "label"], ["text", "x", "X"]],
        [["list_name", "name", "label"]],
    )
    form = read_xlsform(path)
    assert form.title == "my needs form"
    assert form.languages == [""]
    assert form.resolve_language(None) == ""
    assert form.label("x", "") == "X"


def test_missing_or_broken_form_is_a_form_error(tmp_path):
    with pytest.raises(FormError, match="not found"):
        read_xlsform(tmp_path / "nope.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    with pytest.raises(FormError):
        read_xlsform(bad)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("select one yes_no", ("select_one", "yes_no")),
        ("select_one yes_no or_other", ("select_one", "yes_no")),
        ("select all that apply needs", ("select_multiple", "needs")),
        ("begin group", ("begin_group", None)),
        ("decimal", ("decimal", None)),
    ],
)
def test_type_aliases(raw, expected):
    assert normalise_type(raw)[:2] == expected


def test_language_matching():
    langs = ["English (en)", "العربية (ar)"]
    assert match_language("ar", langs) == "العربية (ar)"
    assert match_language("english (EN)", langs) == "English (en)"
    assert match_language("French", langs) is None


def test_real_xls_form_with_choice_named_NA():
    form = read_xlsform(shared_dir("realdata", "epfl_households", "questionnaires") / "Abidjan_2022.xls")
    assert "NA" in form.choice_names("HHITEMS")
    assert form.questions["HHITEMS"].type == "select_multiple"


def test_real_msna_form():
    form = read_xlsform(shared_dir("realdata", "msna_template") / "kobo_tool.xlsx")
    assert form.resolve_language("English") == "english"
    assert form.questions["admin1"].type == "select_one"
