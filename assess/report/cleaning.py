"""The national report's data-quality annex, cleaning part (issue 17): values changed and surveys removed by
the applied cleaning logs, by check, and the enumerator table (assess/clean/enumerators.py), riskiest first."""

from __future__ import annotations

import duckdb

from ..clean.checks import RULES, run_checks
from ..clean.enumerators import HEADERS, cells, enumerator_rows
from ..clean.layer import install
from ..core.settings import Settings
from ..core.sqlutil import table_exists
from ..core.xlsform import XLSForm

WORDS = {
    "en": {
        "title": "Cleaning logs and enumerators",
        "by_check": "Changes in effect from the cleaning logs, by check",
        "check": "Check",
        "changed": "Values changed",
        "removed": "Surveys removed",
        "none": "No cleaning log has been applied: the numbers are the validated raw data.",
        "enumerators": "Enumerators, riskiest first (shares of their submissions)",
        "manual": "(no check: added by hand)",
    },
    "fr": {
        "title": "Journaux de nettoyage et enquêteurs",
        "by_check": "Modifications en vigueur des journaux de nettoyage, par contrôle",
        "check": "Contrôle",
        "changed": "Valeurs modifiées",
        "removed": "Enquêtes retirées",
        "none": "Aucun journal de nettoyage appliqué : les chiffres sont les données brutes validées.",
        "enumerators": "Enquêteurs, les plus à risque d'abord (parts de leurs enquêtes)",
        "manual": "(sans contrôle : ajouté à la main)",
    },
}
ENUMERATOR_LIMIT = 40  # the riskiest; the per-run HTML page has them all


def cleaning_annex(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, code: str
) -> dict | None:
    """None for a store without the cleaning tables (an old store opened read-only)."""
    if not table_exists(con, "cleaning_effective"):
        return None
    words = WORDS.get(code, WORDS["en"])
    install(con)  # the report reads what the estimates read
    by_check = con.execute(
        "SELECT check_id, count(*) FILTER (WHERE change_type <> 'remove_survey'), "
        "count(*) FILTER (WHERE change_type = 'remove_survey') FROM cleaning_effective WHERE round = ? "
        "GROUP BY check_id ORDER BY check_id NULLS LAST",
        [settings.round],
    ).fetchall()
    known = {r.check_id for r in RULES}
    run_checks(con, settings, form)
    rows = enumerator_rows(con, settings, form)
    return {
        "w": words,
        "by_check": [
            {"check": c if c in known else (c or words["manual"]), "changed": n, "removed": m}
            for c, n, m in by_check
        ],
        "headers": HEADERS,
        "enumerators": [cells(r) for r in rows[:ENUMERATOR_LIMIT]],
        "more": max(0, len(rows) - ENUMERATOR_LIMIT),
    }
