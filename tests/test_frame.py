"""The sampling frame: read once, one way, for the weights and for the report's methodology table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from _store import build_store

from assess.core.settings import ConfigError, Settings
from assess.estimate.run import build_units
from assess.report.queries import StoreData
from tests.corpus import _csv_text, demo_rows

ZONES = ["NA"] * 10 + ["B"] * 30


def _zoned_demo(root: Path, frame_text: str) -> None:
    """The demo with one ODK export whose households carry a `zone` stratum (an extra column), and a frame."""
    header, rows = demo_rows(root, n=len(ZONES))
    raw = root / "data" / "raw"
    for p in raw.iterdir():
        p.unlink()
    rows = [[*r, z] for r, z in zip(rows, ZONES, strict=True)]
    (raw / "export.csv").write_text(_csv_text([*header, "zone"], rows), encoding="utf-8")
    config = root / "assessment.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('strata = "admin1"', 'strata = "zone"'), encoding="utf-8"
    )
    (root / "data" / "forms" / "sampling_frame.csv").write_text(frame_text, encoding="utf-8")


def test_stratum_coded_na_is_weighted_and_in_the_methodology_table(demo_dir):
    _zoned_demo(demo_dir, "zone,population\nNA,1000\nB,3000\n")
    settings, form, _ = build_store(demo_dir)
    con = duckdb.connect(str(settings.store_path))
    try:
        build_units(con, settings)
        n = dict(con.execute("SELECT _stratum, count(*) FROM est_units GROUP BY 1").fetchall())
        weights = dict(
            con.execute("SELECT _stratum, any_value(_weight) FROM est_units GROUP BY 1").fetchall()
        )
        assert weights["NA"] == pytest.approx((1000 / 4000) / (n["NA"] / sum(n.values())))
        strata = {
            r["stratum"]: r["population"]
            for r in StoreData(con, settings, form, form.language.column).strata()
        }
    finally:
        con.close()
    assert strata == {"NA": 1000.0, "B": 3000.0}


def _settings(tmp_path: Path, frame_text: str) -> Settings:
    frame = tmp_path / "frame.csv"
    frame.write_text(frame_text, encoding="utf-8")
    return Settings(
        config_path=tmp_path / "assessment.toml",
        root=tmp_path,
        xlsform=tmp_path / "f.xlsx",
        frame=frame,
        strata="zone",
        population="population",
    )


def test_frame_reads_codes_as_text(tmp_path):
    from assess.estimate.frame import read_frame

    frame = read_frame(_settings(tmp_path, "zone,population\nNA,1000\n01, 2500 \nnull,3\n,\n"))
    assert frame == {"NA": 1000.0, "01": 2500.0, "null": 3.0}


@pytest.mark.parametrize(
    "text,match",
    [
        ("region,population\nA,1\n", r"frame\.csv: .*no column 'zone'.*\[design\] strata"),
        ("zone,pop\nA,1\n", r"frame\.csv: .*no column 'population'.*\[design\] population"),
        ("zone,population\nA,1\nB,12k\n", r"frame\.csv: row 3, column 'population': '12k' is not a number"),
        ("zone,population\nA,1\nB,\n", r"frame\.csv: row 3, column 'population' is empty"),
        (
            "zone,population\nA,1\nA,2\n",
            r"frame\.csv: row 3, column 'zone': stratum 'A' is already listed on row 2",
        ),
    ],
)
def test_frame_errors_name_the_file_row_and_column(tmp_path, text, match):
    from assess.estimate.frame import read_frame

    with pytest.raises(ConfigError, match=match):
        read_frame(_settings(tmp_path, text))


def test_missing_frame_file_is_a_config_error(tmp_path):
    from assess.estimate.frame import read_frame

    settings = _settings(tmp_path, "")
    settings.frame.unlink()
    with pytest.raises(ConfigError, match=r"frame\.csv: sampling frame not found"):
        read_frame(settings)
