"""Config: one clear error for unknown or missing keys; paths relative to the config file."""

from __future__ import annotations

import pytest

from assess.core.settings import ConfigError, load_settings


def write(tmp_path, text):
    path = tmp_path / "assessment.toml"
    path.write_text(text)
    return path


def test_minimal_config_and_defaults(tmp_path):
    s = load_settings(write(tmp_path, '[survey]\nxlsform = "forms/f.xlsx"\n'))
    assert s.xlsform == tmp_path / "forms/f.xlsx"
    assert s.round == "1" and s.inbox == tmp_path / "data/raw" and s.min_cell == 5
    assert s.store_path == tmp_path / "data/processed/assessment.duckdb"


@pytest.mark.parametrize(
    "text,match",
    [
        ('[survey]\nxlsform = "f.xlsx"\ncolour = "red"\n', "unknown key 'colour' in \\[survey\\]"),
        ('[survey]\nxlsform = "f.xlsx"\n[regionz]\nlevels = []\n', "unknown section \\[regionz\\]"),
        ('[survey]\nlanguage = "en"\n', "missing required key 'xlsform'"),
        ('[paths]\ninbox = "x"\n', "missing required section \\[survey\\]"),
        ("[survey]\nxlsform = 3\n", "must be a str"),
        (
            '[survey]\nxlsform = "f.xlsx"\n[design]\nframe = "a.csv"\nweight = "w"\nstrata = "s"\n',
            "both 'frame' and 'weight'",
        ),
        ('[survey]\nxlsform = "f.xlsx"\n[validation]\non_fail = "drop"\n', "on_fail"),
        ('[survey]\nxlsform = "f.xlsx"\n[validation.policy]\nbogus = "warn"\n', "unknown rule kind"),
        ('[survey\nxlsform = "f.xlsx"\n', "not valid TOML"),
    ],
)
def test_config_errors_name_the_problem(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "none.toml")


# ------------------------------------------------------------------------------------------------------------
# [indicators], [report], [validation] window: checked whole when the file is loaded, not when data arrives
# ------------------------------------------------------------------------------------------------------------

BASE = '[survey]\nxlsform = "f.xlsx"\n'
GROUPS = 'groups = ["c", "p", "v", "f", "m", "d", "s", "o"]\n'
WASH = '[[indicators.severity]]\nsector = "wash"\n'


def test_indicators_are_parsed_into_typed_specs(tmp_path):
    from assess.core.settings import FCS_WEIGHTS, FcsSpec, SeverityRule, SeveritySpec

    s = load_settings(
        write(
            tmp_path,
            BASE
            + "[indicators.fcs]\n"
            + GROUPS
            + "poor = 28\nborderline = 42\n"
            + WASH
            + 'label = "Water"\nrules = [{ level = 4, when = "${w} = \'x\'" }]\n'
            + '[[indicators.severity]]\nsector = "food"\ndefault = 2\n'
            + 'rules = [{ level = 3, when = "${fcs_score} <= 35" }]\n',
        )
    )
    assert s.indicators.fcs == FcsSpec(
        groups=("c", "p", "v", "f", "m", "d", "s", "o"), weights=FCS_WEIGHTS, poor=28.0, borderline=42.0
    )
    assert s.indicators.severity == (
        SeveritySpec(sector="wash", rules=(SeverityRule(level=4, when="${w} = 'x'"),), label="Water"),
        SeveritySpec(sector="food", rules=(SeverityRule(level=3, when="${fcs_score} <= 35"),), default=2),
    )
    hash(s.indicators)  # frozen all the way down
    assert not hasattr(s, "raw")


def test_no_indicators_by_default(tmp_path):
    s = load_settings(write(tmp_path, BASE))
    assert s.indicators.fcs is None and s.indicators.severity == ()


RULE = "{ level = 3, when = \"${w} = 'x'\" }"
NEEDS = '[needs]\nquestions = ["water_source", "hh_size"]\n'


@pytest.mark.parametrize(
    "text,match",
    [
        (
            '[indicators.fcs]\ngroups = ["a", "b"]\n',
            r"assessment\.toml: \[indicators\.fcs\] groups must list the 8 food groups .*got 2",
        ),
        (
            "[indicators.fcs]\n" + GROUPS + "weights = [1, 2]\n",
            r"\[indicators\.fcs\] weights must be 8 numbers",
        ),
        (
            "[indicators.fcs]\n" + GROUPS + "poor = 40\nborderline = 35\n",
            r"\[indicators\.fcs\] poor \(40\) must be below borderline \(35\)",
        ),
        ("[indicators.fcs]\n" + GROUPS + "treshold = 3\n", r"unknown key 'treshold' in \[indicators\.fcs\]"),
        (
            "[indicators.fcs]\n" + GROUPS + "label = 3\n",
            r"\[indicators\.fcs\]: label must be a non-empty text",
        ),
        ("[indicators.fcs]\npoor = 21\n", r"\[indicators\.fcs\] groups must list the 8 food groups"),
        (
            WASH + f"rules = [{RULE}]\n[[indicators.severity]]\nrules = [{RULE}]\n",
            r"\[\[indicators\.severity\]\] entry 2 needs a 'sector'",
        ),
        (
            WASH + f"rules = [{RULE}, {{ level = 7, when = \"${{w}} = 'y'\" }}]\n",
            r"\[\[indicators\.severity\]\] entry 1 \(sector 'wash'\), rule 2: level must be a whole number from 1 to 5, "
            r"got 7",
        ),
        (WASH + "rules = [{ level = 3 }]\n", r"entry 1 \(sector 'wash'\), rule 1 needs a condition"),
        (
            WASH + 'rules = [{ level = 3, when = "${w} = \'x" }]\n',
            r"entry 1 \(sector 'wash'\), rule 1: the condition \"\$\{w\} = 'x\" cannot be read \(cannot read",
        ),
        (WASH + "rules = []\n", r"entry 1 \(sector 'wash'\) needs a list of 'rules'"),
        (
            WASH + f"default = 0\nrules = [{RULE}]\n",
            r"entry 1 \(sector 'wash'\): default must be a whole number from 1",
        ),
        (
            WASH + f'label = ""\nrules = [{RULE}]\n',
            r"entry 1 \(sector 'wash'\): label must be a non-empty text",
        ),
        (
            WASH + f"rule = [{RULE}]\n",
            r"unknown key 'rule' in \[\[indicators\.severity\]\] entry 1 \(sector 'wash'\)",
        ),
        (
            WASH + f"rules = [{RULE}]\n" + WASH + f"rules = [{RULE}]\n",
            r"entry 2: sector 'wash' is already entry 1",
        ),
        (
            '[[indicators.severity]]\nsector = "overall"\n' + f"rules = [{RULE}]\n",
            r"entry 1: sector 'overall' is ",
        ),
        ('[indicators]\nseverity = ["wash"]\n', r"\[\[indicators\.severity\]\] entry 1 must be a table"),
        (
            '[validation]\nwindow = ["2026-11-01", "30/11/2026"]\n',
            r"\[validation\] window: '30/11/2026' is not a date",
        ),
        (
            '[validation]\nwindow = ["2026-11-30", "2026-11-01"]\n',
            r"\[validation\] window ends .* before it starts",
        ),
        ('[report]\nlogo = "logo.png"\n', r"\[report\] logo: .*logo\.png not found"),
        (
            NEEDS + '[report.need_answers]\nwater = ["river"]\n',
            r"\[report\.need_answers\] water: 'water' is not one of the \[needs\] questions \(water_source, hh_size\)",
        ),
        (
            NEEDS + '[report.need_answers]\nwater_source = "river"\n',
            r"\[report\.need_answers\] water_source must be a list of choice codes",
        ),
        (
            NEEDS + '[report.need_answers]\nwater_source = ["river", ""]\n',
            r"\[report\.need_answers\] water_source must be a list of choice codes",
        ),
        (
            NEEDS + '[report.need_answers]\nwater_source = ["river", "river"]\n',
            r"\[report\.need_answers\] water_source lists 'river' twice",
        ),
        ('[report]\nneed_answers = ["river"]\n', r"\[report\] need_answers must be a dict"),
    ],
)
def test_config_sections_are_checked_at_load(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(write(tmp_path, BASE + text))


def test_report_logo_and_window_are_kept(tmp_path):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    s = load_settings(
        write(
            tmp_path,
            BASE + '[report]\nlogo = "logo.png"\n[validation]\nwindow = ["2026-11-01", "2026-11-30T23:59"]\n',
        )
    )
    assert s.logo == tmp_path / "logo.png" and s.window == ("2026-11-01", "2026-11-30T23:59")


def test_need_answers_are_read_per_question(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            BASE + NEEDS + '[report.need_answers]\nwater_source = [" river ", "pond"]\nhh_size = []\n',
        )
    )
    assert s.need_answers == {"water_source": ("river", "pond"), "hh_size": ()}
    assert load_settings(write(tmp_path, BASE)).need_answers == {}


# [report.need_answers] against the form (at start-up, before any data is read), and the form's `need` column
def _demo_settings(demo_template, tmp_path, extra: str):
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(demo_template, root, ignore=shutil.ignore_patterns("raw", "processed"))
    config = root / "assessment.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("[report]\n", extra + "[report]\n", 1), encoding="utf-8"
    )
    return load_settings(config)


@pytest.mark.parametrize(
    "extra,match",
    [
        (
            '[report.need_answers]\nwater_source = ["surface_water", "river"]\n',
            r"\[report\.need_answers\] water_source: 'river' is not a choice of the list 'water_source' .*"
            r"choices: piped, public_tap",
        ),
        (
            '[report.need_answers]\nhh_size = ["1"]\n',
            r"\[report\.need_answers\] hh_size: 'hh_size' is a question of type integer",
        ),
    ],
)
def test_need_answers_are_checked_against_the_form(demo_template, tmp_path, extra, match):
    from assess.core.xlsform import read_form
    from assess.estimate.run import check_config_against_form

    settings = _demo_settings(demo_template, tmp_path, extra)
    with pytest.raises(ConfigError, match=match):
        check_config_against_form(settings, read_form(settings))


def test_config_need_answers_win_over_the_form(demo_template, tmp_path):
    from assess.core.xlsform import need_answers, read_form
    from assess.estimate.run import check_config_against_form

    settings = _demo_settings(
        demo_template,
        tmp_path,
        '[report.need_answers]\nwater_source = ["water_trucking"]\npriority_needs = []\n',
    )
    form = read_form(settings)
    check_config_against_form(settings, form)
    # the form marks unprotected_well and surface_water; the config names water trucking instead
    assert form.marked_need("water_source") == ("unprotected_well", "surface_water")
    assert need_answers(settings, form) == {
        "water_source": ("water_trucking",),
        "shelter_condition": ("major_damage", "destroyed", "none"),
    }
