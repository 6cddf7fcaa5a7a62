"""The MSNA template data (../shared) with a hand-made cleaning log gives the same estimates as the same edits
made directly in the data (issue 17): the layer is the data an officer would have edited by hand."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd

from assess.clean.run import clean_round
from assess.core.privacy import hash_key
from assess.estimate.run import run_estimates
from assess.store.connection import connect
from tests._shared import shared_dir
from tests._store import build_store

ESTIMATES = "SELECT level, area, indicator, option, round(estimate, 12), round(ci_low, 12), n FROM estimates ORDER BY ALL"
CONFIG = """[survey]
xlsform = "{form}"
id_column = "uuid"
[regions]
levels = ["admin1"]
[needs]
questions = ["wash_drinkingwatersource", "prot_children_away_reason", "income_v1_salaried_work", "hh_size"]
[validation]
on_fail = "warn"
"""


def assessment(root: Path, folder: Path, data: pd.DataFrame) -> Path:
    (root / "data" / "raw").mkdir(parents=True)
    (root / "assessment.toml").write_text(CONFIG.format(form=folder / "kobo_tool.xlsx"))
    data.to_csv(root / "data" / "raw" / "MSNA_template_data.csv", index=False)
    return root


def test_a_hand_made_log_equals_the_same_edits_made_in_the_data(tmp_path):
    folder = shared_dir("realdata", "msna_template")
    data = pd.read_csv(folder / "MSNA_template_data.csv", dtype=str, keep_default_na=False)
    u = data["uuid"].tolist()
    options = [c.split("/", 1)[1] for c in data.columns if c.startswith("prot_children_away_reason/")]
    water = sorted(set(data["wash_drinkingwatersource"]) - {""})
    log = [
        ["X_uuid", "questions", "change_type", "new_value", "old_value", "issue"],
        [u[0], "wash_drinkingwatersource", "change_response", water[0], "", "checked by phone"],
        [u[1], "wash_drinkingwatersource", "change_response", water[1], "", ""],
        [u[2], "hh_size", "change_response", "4", "", "typo"],
        [u[3], "income_v1_salaried_work", "blank_response", "", "", "not credible"],
        [u[4], "", "remove_survey", "", "", "fake interview"],
        [u[5], f"prot_children_away_reason/{options[0]}", "change_response", "1", "", ""],
        [u[6], f"prot_children_away_reason.{options[1]}", "change_response", "0", "", ""],
        [u[7], "hh_size", "change_response", "6", "", ""],
        [u[7], "hh_size", "no_action", "", "", "the first line was wrong"],  # a later line wins
    ]

    # the same edits, by hand in the data
    edited = data.copy()
    edited.loc[0, "wash_drinkingwatersource"] = water[0]
    edited.loc[1, "wash_drinkingwatersource"] = water[1]
    edited.loc[2, "hh_size"] = "4"
    edited.loc[3, "income_v1_salaried_work"] = ""
    for row, opt, on in ((5, options[0], True), (6, options[1], False)):
        edited.loc[row, f"prot_children_away_reason/{opt}"] = "True" if on else "False"
        chosen = [o for o in options if edited.loc[row, f"prot_children_away_reason/{o}"] in ("True", "1")]
        edited.loc[row, "prot_children_away_reason"] = " ".join(chosen)
    edited = edited.drop(index=4)

    by_hand = tmp_path / "by_hand"
    settings, form, _ = build_store(assessment(by_hand, folder, edited))
    con = connect(settings.store_path)
    expected = con.execute(ESTIMATES).fetchall()
    con.close()

    logged = tmp_path / "logged"
    settings, form, _ = build_store(assessment(logged, folder, data))
    con = connect(settings.store_path)
    try:
        untouched = con.execute(ESTIMATES).fetchall()
        path = logged / "data" / "raw" / "cleaning_log_msna.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(log)
        (receipt,) = clean_round(con, settings, form, "r1", [path], hash_key()).receipts
        assert receipt.invalid == [] and receipt.applied == 9
        run_estimates(con, settings, form)
        cleaned = con.execute(ESTIMATES).fetchall()
    finally:
        con.close()
    assert cleaned != untouched
    assert cleaned == expected
    shutil.rmtree(tmp_path, ignore_errors=True)
