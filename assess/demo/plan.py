"""The demo's analysis plan (issue 16): what leadership asks of the demo assessment, written as analysts write
it (analysistools' list of analyses), and the config lines that point to it.

Needs by the sex of the head of household (and by region x sex), medians (household size, months displaced:
the demo form has no expenditure question), a ratio (children under 5 per household member, a ratio of
totals) and school attendance by sex over the members of the household roster (a repeat group).
"""

from __future__ import annotations

from pathlib import Path

PLAN_PATH = Path("data/forms/analysis_plan.csv")

PLAN_CONFIG = """
# [analysis] The list of analyses (IMPACT analysistools' columns). Without it: the needs questions by region.
# `assess export results --out results.xlsx` writes its results table.
[analysis]
plan = "data/forms/analysis_plan.csv"
"""

_HEADER = (
    "analysis_type,analysis_var,group_var,level,analysis_var_numerator,analysis_var_denominator,"
    "numerator_NA_to_0,filter_denominator_0"
)
_ROWS = (
    "prop_select_multiple,priority_needs,,0.95,,,,",
    "prop_select_multiple,priority_needs,head_gender,0.95,,,,",
    "prop_select_one,water_source,head_gender,0.95,,,,",
    'prop_select_one,shelter_condition,"admin1, head_gender",0.95,,,,',
    "prop_select_one,displaced,head_gender,0.95,,,,",
    "median,hh_size,,0.95,,,,",
    "median,hh_size,head_gender,0.95,,,,",
    "median,displacement_months,admin1,0.95,,,,",
    "mean,hh_size,head_gender,0.95,,,,",
    "ratio,,,0.95,children_u5,hh_size,TRUE,TRUE",
    "ratio,,head_gender,0.95,children_u5,hh_size,TRUE,TRUE",
    "prop_select_one,ind_school,,0.95,,,,",
    "prop_select_one,ind_school,ind_sex,0.95,,,,",
)


def write_plan(dest: Path) -> Path:
    """Write the demo's plan into `dest` (the assessment folder); returns its path."""
    path = Path(dest) / PLAN_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join((_HEADER, *_ROWS)) + "\n", encoding="utf-8", newline="\n")
    return path
