"""The wording of the needs-and-partners pages and maps, in the report's language (English where a language has
no entry yet). Kept apart from i18n.py so that the partner pages are one room."""

from __future__ import annotations

from typing import Any

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Needs and partners",
        "gap": "Gap: no partner",
        "thin": "One partner",
        "covered": "Two or more partners",
        "low_need": "Need below threshold",
        "unknown": "No estimate",
        "uncertain": "CI crosses the threshold",
        "none": "none",
        "intersectoral": "Intersectoral",
        "no_boundaries": "No admin boundaries are configured ([report.boundaries]), so there are no maps.",
        "source": "Source: {title}, round {round}; {n} households.",
        "no_value": "suppressed (n<5) or no data",
        "grey": "Grey: {what}",
        "share": "Share",
        "coverage": "Coverage",
        "map_need": "Households in need (severity 3+), by {level}",
        "map_sector": "{sector}: in need (severity 3+)",
        "map_gaps": "{sector}: gaps",
        "no_boundary_for": "{level}: no boundary for {areas} (not drawn).",
        "unmatched": "{level}: {k} boundary feature(s) match no area of the form ({names}); drawn grey.",
        "file_rejected": "The 3W list {file} could not be used: {reason}. Its receipt says what to fix.",
        "file_used": "3W list {file}: {used} of {rows} rows used.",
        "file_kept": " {k} row(s) were kept aside (see its receipt).",
        "matrix_title": "Need and partners by {level}",
        "pin_title": "People in need by {level}",
        "gaps_title": "Gaps, by {level}: high need, few or no partners",
        "matrix_note": "Each cell: the sector's need (the highest of its mapped estimates, share of households; "
        "shading darker with more need) and, small, the number of organisations active there on the last day of "
        "data collection. A red frame marks a gap (need of {high} or more and no active partner), an orange frame "
        "a single partner. ?: the need's 95% CI crosses {high}.",
        "no_gaps": "No area has a sector with high need and one or no active partner.",
        "area": "Area",
        "sector": "Sector",
        "need": "Need",
        "ci": "95% CI",
        "partners": "Active partners",
        "class": "Class",
        "population": "Population",
        "households": "households",
        "individuals": "individuals",
        "pin_note": "People in need = the area's population ({unit}, from the sampling frame) x the share of "
        "households in severity 3+, with its 95% CI. Intersectoral: overall severity 3+ (the worst sector of each "
        "household). Sector figures overlap and are never added up; an area without a population in the frame "
        "has none.",
        "s_gaps": "{k} {where} x sector combinations have a need of {high} or more and no active partner; the "
        "largest is {sector} in {area}: {value} ({ci}).",
        "s_no_gaps": "No {where} has a sector with high need and no active partner.",
        "s_thin": "{k} more have a single active partner.",
        "s_uncertain": "In {k} {where} x sector combinations the 95% CI of the need crosses {high}, so their "
        "class is uncertain.",
        "s_pin": "People in need (intersectoral, severity 3+): {pin} {unit} ({low}–{high}) of {population}.",
        "s_pin_sectors": "By sector: {items} {unit}; these overlap and are never added up.",
        "m_pin_title": "People in need",
        "m_pin": "People in need (PiN) in an area and sector = the area's population in the sampling frame "
        "({unit}) x the weighted share of households in severity phase 3 or more in that sector; its 95% "
        "interval is the population x the share's 95% CI. Intersectoral PiN uses the overall severity (the "
        "worst sector of each household). PiN is never summed across sectors, since one household can be in "
        "need in several. Areas without a population in the frame, and shares not shown (fewer than {min} "
        "households), have no PiN.",
        "m_cov_title": "Coverage and gaps",
        "m_cov": "Active partners: distinct organisations of the 3W list whose status is active or ongoing and "
        "whose start and end dates cover the last day of data collection; a row without a district counts for "
        "every district of its region. A sector's need is the highest of the estimates mapped to it; a gap is a "
        "need of {high} or more with no active partner.",
    },
    "fr": {
        "title": "Besoins et partenaires",
        "gap": "Lacune : aucun partenaire",
        "thin": "Un partenaire",
        "covered": "Deux partenaires ou plus",
        "low_need": "Besoin sous le seuil",
        "unknown": "Pas d'estimation",
        "uncertain": "l'IC franchit le seuil",
        "none": "aucun",
        "intersectoral": "Intersectoriel",
        "no_boundaries": "Aucune limite administrative n'est configurée ([report.boundaries]) : pas de cartes.",
        "source": "Source : {title}, cycle {round} ; {n} ménages.",
        "no_value": "masqué (n<5) ou sans données",
        "grey": "Gris : {what}",
        "share": "Part",
        "coverage": "Couverture",
        "map_need": "Ménages dans le besoin (sévérité 3+), par {level}",
        "map_sector": "{sector} : dans le besoin (sévérité 3+)",
        "map_gaps": "{sector} : lacunes",
        "no_boundary_for": "{level} : pas de limite pour {areas} (non dessiné).",
        "unmatched": "{level} : {k} entité(s) ne correspondent à aucune zone du formulaire ({names}) ; en gris.",
        "file_rejected": "La liste 3W {file} n'a pas pu être utilisée : {reason}. Son reçu indique quoi corriger.",
        "file_used": "Liste 3W {file} : {used} lignes utilisées sur {rows}.",
        "file_kept": " {k} ligne(s) mise(s) de côté (voir son reçu).",
        "matrix_title": "Besoins et partenaires par {level}",
        "pin_title": "Personnes dans le besoin par {level}",
        "gaps_title": "Lacunes, par {level} : besoin élevé, peu ou pas de partenaires",
        "matrix_note": "Chaque cellule : le besoin du secteur (la plus élevée de ses estimations, part des "
        "ménages ; plus foncé quand le besoin est plus grand) et, en petit, le nombre d'organisations actives le "
        "dernier jour de la collecte. Cadre rouge : lacune (besoin de {high} ou plus sans partenaire actif) ; "
        "cadre orange : un seul partenaire. ? : l'IC à 95 % du besoin franchit {high}.",
        "no_gaps": "Aucune zone n'a de secteur à besoin élevé avec un partenaire actif ou moins.",
        "area": "Zone",
        "sector": "Secteur",
        "need": "Besoin",
        "ci": "IC 95 %",
        "partners": "Partenaires actifs",
        "class": "Classe",
        "population": "Population",
        "households": "ménages",
        "individuals": "personnes",
        "pin_note": "Personnes dans le besoin = population de la zone ({unit}, base de sondage) x part des "
        "ménages en sévérité 3+, avec son IC à 95 %. Intersectoriel : sévérité globale 3+ (le pire secteur de "
        "chaque ménage). Les chiffres sectoriels se recoupent et ne s'additionnent jamais ; une zone sans "
        "population dans la base n'en a pas.",
        "s_gaps": "{k} combinaisons {where} x secteur ont un besoin de {high} ou plus sans partenaire actif ; la "
        "plus forte : {sector} à {area} : {value} ({ci}).",
        "s_no_gaps": "Aucune zone ({where}) n'a de secteur à besoin élevé sans partenaire actif.",
        "s_thin": "{k} autres n'ont qu'un partenaire actif.",
        "s_uncertain": "Pour {k} combinaisons {where} x secteur, l'IC à 95 % du besoin franchit {high} : leur "
        "classe est incertaine.",
        "s_pin": "Personnes dans le besoin (intersectoriel, sévérité 3+) : {pin} {unit} ({low}–{high}) sur "
        "{population}.",
        "s_pin_sectors": "Par secteur : {items} {unit} ; ces chiffres se recoupent et ne s'additionnent jamais.",
        "m_pin_title": "Personnes dans le besoin",
        "m_pin": "Personnes dans le besoin (PiN) d'une zone et d'un secteur = population de la zone dans la base "
        "de sondage ({unit}) x part pondérée des ménages en phase de sévérité 3 ou plus dans ce secteur ; son "
        "intervalle à 95 % est la population x l'IC à 95 % de la part. Le PiN intersectoriel utilise la "
        "sévérité globale (le pire secteur de chaque ménage). Le PiN ne s'additionne jamais entre secteurs, un "
        "ménage pouvant être dans le besoin dans plusieurs. Les zones sans population dans la base, et les parts "
        "masquées (moins de {min} ménages), n'ont pas de PiN.",
        "m_cov_title": "Couverture et lacunes",
        "m_cov": "Partenaires actifs : organisations distinctes de la liste 3W au statut actif ou en cours dont "
        "les dates de début et de fin couvrent le dernier jour de la collecte ; une ligne sans district compte "
        "pour tous les districts de sa région. Le besoin d'un secteur est la plus élevée des estimations qui lui "
        "sont associées ; une lacune est un besoin de {high} ou plus sans partenaire actif.",
    },
}


class PartnerWords:
    """`w["key"]` and `w.fill("key", ...)` in the report's language, English where a key is missing."""

    def __init__(self, code: str):
        self.strings = {**WORDS["en"], **WORDS.get(code, {})}

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def fill(self, key: str, **kw: Any) -> str:
        return self.strings[key].format(**kw)
