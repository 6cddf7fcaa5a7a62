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


@pytest.mark.parametrize("text,match", [
    ('[survey]\nxlsform = "f.xlsx"\ncolour = "red"\n', "unknown key 'colour' in \\[survey\\]"),
    ('[survey]\nxlsform = "f.xlsx"\n[regionz]\nlevels = []\n', "unknown section \\[regionz\\]"),
    ('[survey]\nlanguage = "en"\n', "missing required key 'xlsform'"),
    ('[paths]\ninbox = "x"\n', "missing required section \\[survey\\]"),
    ('[survey]\nxlsform = 3\n', "must be a str"),
    ('[survey]\nxlsform = "f.xlsx"\n[design]\nframe = "a.csv"\nweight = "w"\nstrata = "s"\n', "both 'frame' and 'weight'"),
    ('[survey]\nxlsform = "f.xlsx"\n[validation]\non_fail = "drop"\n', "on_fail"),
    ('[survey]\nxlsform = "f.xlsx"\n[validation.policy]\nbogus = "warn"\n', "unknown rule kind"),
    ('[survey\nxlsform = "f.xlsx"\n', "not valid TOML"),
])
def test_config_errors_name_the_problem(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "none.toml")
