"""A realistic, deterministic demo assessment, ready for `assess run`.

`write_demo(dest)` writes into `dest`:

* `data/forms/needs_assessment.xlsx` - the XLSForm (survey / choices / settings, three label languages);
* `data/forms/sampling_frame.csv`    - households per district, unequal so that weights differ by region;
* `data/partners/3w.csv`, `data/forms/adm1.geojson`, `adm2.geojson` - a 3W list and invented boundaries
  (assess/demo/partners.py);
* `data/raw/kobo_export_2026-11-10.csv`  - KoboToolbox CSV (`;`, UTF-8 with BOM, CRLF, `/` group paths);
* `data/raw/kobo_export_2026-11-12.xlsx` - KoboToolbox XLSX (same headers, numbers stored as numbers);
* `data/raw/odk_central_2026-11-14.csv`  - ODK Central CSV (`,`, UTF-8, LF, `-` group paths);
* `data/raw/kobo_export_2026-11-16_roster.xlsx` - a later, cumulative KoboToolbox XLSX of both Kobo files'
  households with their household roster (repeat group `roster`) on a second sheet;
* `data/raw/odk_central_2026-11-16.csv.zip` - a later ODK Central csv.zip of the ODK file's households,
  `cna_2026.csv` plus `cna_2026-roster.csv` (KEY / PARENT_KEY);
* `assessment.toml`                   - the configuration, commented for a data officer.

Everything is drawn from one `random.Random(seed)` (the rosters, last, from a second stream seeded from it), so the same seed gives byte-identical CSV files and
identical cell contents in the XLSX files. The answers follow the form: admin2 always lies inside its
admin1, relevance is respected (no household block without consent), constraints hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import string
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from . import partners, quality
from .plan import PLAN_CONFIG, write_plan  # the analysis plan (issue 16)

FORM_PATH = Path("data/forms/needs_assessment.xlsx")
FRAME_PATH = Path("data/forms/sampling_frame.csv")
KOBO_CSV_PATH = Path("data/raw/kobo_export_2026-11-10.csv")
KOBO_XLSX_PATH = Path("data/raw/kobo_export_2026-11-12.xlsx")
ODK_CSV_PATH = Path("data/raw/odk_central_2026-11-14.csv")
KOBO_ROSTER_PATH = Path("data/raw/kobo_export_2026-11-16_roster.xlsx")
ODK_ZIP_PATH = Path("data/raw/odk_central_2026-11-16.csv.zip")

CONFIG_PATH = Path("assessment.toml")

FORM_TITLE = "Community Needs Assessment 2026"
FORM_ID = "cna_2026"
FORM_VERSION = "2026110101"
LANGUAGES = ("English (en)", "Français (fr)", "العربية (ar)")
DEFAULT_LANGUAGE = "English (en)"
TZ = dt.timezone(dt.timedelta(hours=1))  # local time of the (fictional) country, UTC+01:00

SURVEY_COLUMNS = (
    "type",
    "name",
    *(f"label::{lang}" for lang in LANGUAGES),
    "hint::English (en)",
    "required",
    "constraint",
    "constraint_message::English (en)",
    "relevant",
    "choice_filter",
    "appearance",
    "calculation",
    "repeat_count",
)
_OPTIONAL = (
    "hint",
    "required",
    "constraint",
    "constraint_message",
    "relevant",
    "choice_filter",
    "appearance",
    "calculation",
    "repeat_count",
)

CONSENTED = "${consent} = 'yes'"
FCS_GROUPS = (
    # name, English, French, Arabic, FCS weight
    (
        "fcs_cereals",
        "Cereals, grains, roots and tubers",
        "Céréales, grains, racines et tubercules",
        "الحبوب والجذور والدرنات",
        2.0,
    ),
    (
        "fcs_pulses",
        "Pulses, beans and nuts",
        "Légumineuses, haricots et noix",
        "البقوليات والفول والمكسرات",
        3.0,
    ),
    ("fcs_dairy", "Milk and dairy products", "Lait et produits laitiers", "الحليب ومنتجات الألبان", 4.0),
    ("fcs_meat", "Meat, fish and eggs", "Viande, poisson et œufs", "اللحوم والأسماك والبيض", 4.0),
    ("fcs_veg", "Vegetables and leaves", "Légumes et feuilles", "الخضروات والأوراق", 1.0),
    ("fcs_fruit", "Fruits", "Fruits", "الفواكه", 1.0),
    ("fcs_oil", "Oil, fat and butter", "Huile, graisses et beurre", "الزيت والدهون والزبدة", 0.5),
    ("fcs_sugar", "Sugar and sweets", "Sucre et sucreries", "السكر والحلويات", 0.5),
)


def _q(type_: str, name: str, en: str = "", fr: str = "", ar: str = "", **extra: str) -> dict[str, str]:
    unknown = set(extra) - set(_OPTIONAL)
    if unknown:
        raise ValueError(f"unknown survey column(s): {sorted(unknown)}")
    return {"type": type_, "name": name, "en": en, "fr": fr, "ar": ar, **extra}


def _survey_rows() -> list[dict[str, str]]:
    fcs_score = " + ".join(
        f"{w:g} * ${{{name}}}" if w != 1 else f"${{{name}}}" for name, _, _, _, w in FCS_GROUPS
    )
    rows = [
        _q("start", "start"),
        _q("end", "end"),
        _q("today", "today"),
        _q("deviceid", "deviceid"),
        _q("begin_group", "location", "Location", "Localisation", "الموقع"),
        _q(
            "select_one admin1",
            "admin1",
            "Region",
            "Région",
            "المنطقة",
            hint="Region where the interview takes place.",
            required="yes",
        ),
        _q(
            "select_one admin2",
            "admin2",
            "District",
            "District",
            "المديرية",
            hint="Only the districts of the selected region are listed.",
            required="yes",
            choice_filter="admin1=${admin1}",
        ),
        _q(
            "text",
            "cluster_id",
            "Village / enumeration area code",
            "Code du village / de la zone de dénombrement",
            "رمز القرية / منطقة العد",
            hint="Code from the cluster list, e.g. EA-03-017.",
            required="yes",
            constraint="regex(., '^EA-[0-9]{2}-[0-9]{3}$')",
            constraint_message="Use the format EA-NN-NNN from the cluster list.",
        ),
        _q("end_group", "location"),
        _q("begin_group", "respondent", "Respondent", "Répondant", "المستجيب"),
        _q(
            "text",
            "resp_name",
            "Respondent's name",
            "Nom du répondant",
            "اسم المستجيب",
            hint="First name and family name.",
        ),
        _q(
            "text",
            "resp_phone",
            "Phone number",
            "Numéro de téléphone",
            "رقم الهاتف",
            hint="Leave empty if the household has no phone.",
            constraint=r"regex(., '^\+?[0-9 ]{7,15}$')",
            constraint_message="Enter 7 to 15 digits, optionally starting with +.",
            appearance="numbers",
        ),
        _q(
            "select_one yes_no",
            "consent",
            "Do you agree to take part in this interview?",
            "Acceptez-vous de participer à cet entretien ?",
            "هل توافق على المشاركة في هذه المقابلة؟",
            hint="Read the consent statement to the respondent first.",
            required="yes",
        ),
        _q(
            "geopoint",
            "gps",
            "GPS location of the household",
            "Position GPS du ménage",
            "الموقع الجغرافي للأسرة",
            hint="Stand outside the dwelling and wait for accuracy below 15 m.",
        ),
        _q("end_group", "respondent"),
        _q("begin_group", "household", "Household", "Ménage", "الأسرة", relevant=CONSENTED),
        _q(
            "integer",
            "hh_size",
            "How many people live in this household, including you?",
            "Combien de personnes vivent dans ce ménage, vous compris ?",
            "كم عدد الأشخاص الذين يعيشون في هذه الأسرة، بمن فيهم أنت؟",
            hint="People who usually sleep and eat here.",
            required="yes",
            constraint=". >= 1 and . <= 30",
            constraint_message="Household size must be between 1 and 30.",
        ),
        _q(
            "integer",
            "children_u5",
            "How many of them are children under 5 years?",
            "Combien d'entre eux sont des enfants de moins de 5 ans ?",
            "كم منهم أطفال دون سن الخامسة؟",
            required="yes",
            constraint=". >= 0 and . <= ${hh_size}",
            constraint_message="Cannot be more than the household size.",
        ),
        _q(
            "select_one gender",
            "head_gender",
            "Gender of the head of household",
            "Sexe du chef de ménage",
            "جنس رب الأسرة",
            required="yes",
        ),
        _q(
            "select_one yes_no",
            "displaced",
            "Has this household been displaced from its usual home?",
            "Ce ménage a-t-il été déplacé de son domicile habituel ?",
            "هل نزحت هذه الأسرة من مكان سكنها المعتاد؟",
            required="yes",
        ),
        _q(
            "integer",
            "displacement_months",
            "For how many months has the household been displaced?",
            "Depuis combien de mois le ménage est-il déplacé ?",
            "منذ كم شهرًا والأسرة نازحة؟",
            hint="0 if less than one month.",
            required="yes",
            relevant="${displaced} = 'yes'",
            constraint=". >= 0 and . <= 240",
            constraint_message="Enter a number of months between 0 and 240.",
        ),
        *_roster_rows(),
        _q("end_group", "household"),
        _q(
            "begin_group",
            "needs",
            "Priority needs",
            "Besoins prioritaires",
            "الاحتياجات ذات الأولوية",
            relevant=CONSENTED,
        ),
        _q(
            "select_multiple needs",
            "priority_needs",
            "What are the household's most important needs right now? (up to 3)",
            "Quels sont actuellement les besoins les plus importants du ménage ? (3 maximum)",
            "ما هي أهم احتياجات الأسرة حاليًا؟ (3 كحد أقصى)",
            hint="Do not read the options aloud.",
            required="yes",
            constraint="count-selected(.) <= 3",
            constraint_message="Select at most 3 needs.",
        ),
        _q(
            "text",
            "priority_needs_other",
            "Other need, please specify",
            "Autre besoin, veuillez préciser",
            "احتياج آخر، يرجى التحديد",
            required="yes",
            relevant="selected(${priority_needs}, 'other')",
        ),
        _q(
            "select_one water_source",
            "water_source",
            "What is the main source of drinking water for the household?",
            "Quelle est la principale source d'eau de boisson du ménage ?",
            "ما هو المصدر الرئيسي لمياه الشرب للأسرة؟",
            required="yes",
        ),
        _q(
            "select_one yes_no_dk",
            "water_sufficient",
            "In the last 30 days, did the household have enough water for drinking, cooking and washing?",
            "Au cours des 30 derniers jours, le ménage a-t-il eu assez d'eau pour boire, cuisiner et se laver ?",
            "خلال الثلاثين يومًا الماضية، هل توفرت للأسرة مياه كافية للشرب والطهي والغسيل؟",
        ),
        _q(
            "select_one income",
            "income_source",
            "What is the household's main source of income?",
            "Quelle est la principale source de revenus du ménage ?",
            "ما هو المصدر الرئيسي لدخل الأسرة؟",
        ),
        _q("end_group", "needs"),
        _q(
            "begin_group",
            "food",
            "Food consumption (last 7 days)",
            "Consommation alimentaire (7 derniers jours)",
            "الاستهلاك الغذائي (آخر 7 أيام)",
            relevant=CONSENTED,
        ),
    ]
    for name, en, fr, ar, _ in FCS_GROUPS:
        rows.append(
            _q(
                "integer",
                name,
                en,
                fr,
                ar,
                hint="Number of days in the last 7 days the household ate this (0-7).",
                required="yes",
                constraint=". >= 0 and . <= 7",
                constraint_message="Enter a number of days from 0 to 7.",
            )
        )
    rows += [
        _q("calculate", "fcs_score", calculation=fcs_score),
        _q("end_group", "food"),
        _q(
            "select_one yes_no",
            "health_access",
            "In the last 3 months, could household members get health care when they needed it?",
            "Au cours des 3 derniers mois, les membres du ménage ont-ils pu accéder aux soins de santé "
            "lorsqu'ils en avaient besoin ?",
            "خلال الأشهر الثلاثة الماضية، هل تمكن أفراد الأسرة من الحصول على الرعاية الصحية عند الحاجة؟",
            required="yes",
            relevant=CONSENTED,
        ),
        _q(
            "select_one shelter",
            "shelter_condition",
            "What is the condition of the household's shelter?",
            "Quel est l'état de l'abri du ménage ?",
            "ما هي حالة مأوى الأسرة؟",
            hint="Observe the dwelling if possible.",
            required="yes",
            relevant=CONSENTED,
        ),
        _q(
            "text",
            "comments",
            "Enumerator comments",
            "Commentaires de l'enquêteur",
            "ملاحظات الباحث الميداني",
            appearance="multiline",
        ),
    ]
    return rows


# Washington Group short set (WG-SS): six domains, the same four answers; "a lot of difficulty" or "cannot do
# at all" in any domain is the standard disability cut-off.
WG_DOMAINS = (
    # name, English, French, Arabic, relative frequency of difficulty
    (
        "wgq_vision",
        "Difficulty seeing, even if wearing glasses?",
        "Difficulté à voir, même avec des lunettes ?",
        "صعوبة في الرؤية، حتى مع ارتداء النظارات؟",
        1.3,
    ),
    (
        "wgq_hearing",
        "Difficulty hearing, even if using a hearing aid?",
        "Difficulté à entendre, même avec un appareil auditif ?",
        "صعوبة في السمع، حتى مع استخدام سماعة؟",
        1.0,
    ),
    (
        "wgq_mobility",
        "Difficulty walking or climbing steps?",
        "Difficulté à marcher ou à monter des marches ?",
        "صعوبة في المشي أو صعود الدرج؟",
        1.5,
    ),
    (
        "wgq_cognition",
        "Difficulty remembering or concentrating?",
        "Difficulté à se souvenir ou à se concentrer ?",
        "صعوبة في التذكر أو التركيز؟",
        1.0,
    ),
    (
        "wgq_selfcare",
        "Difficulty with self-care, such as washing all over or dressing?",
        "Difficulté à prendre soin de soi, comme se laver ou s'habiller ?",
        "صعوبة في العناية الذاتية، مثل الاغتسال أو ارتداء الملابس؟",
        0.6,
    ),
    (
        "wgq_communication",
        "Difficulty communicating, for example understanding or being understood?",
        "Difficulté à communiquer, par exemple à comprendre ou à se faire comprendre ?",
        "صعوبة في التواصل، مثل الفهم أو أن يفهمه الآخرون؟",
        0.5,
    ),
)
WG_SEVERE = ("a_lot_of_difficulty", "cannot_do")
SCHOOL_AGE = "${ind_age} >= 5 and ${ind_age} <= 17"


def _roster_rows() -> list[dict[str, str]]:
    """The household roster: one instance per member (`repeat_count = ${hh_size}`)."""
    severe = " or ".join(f"selected(${{{d}}}, '{c}')" for d, *_ in WG_DOMAINS for c in WG_SEVERE)
    rows = [
        _q(
            "begin_repeat",
            "roster",
            "Household members",
            "Membres du ménage",
            "أفراد الأسرة",
            repeat_count="${hh_size}",
        ),
        _q(
            "select_one gender", "ind_sex", "Sex of the member", "Sexe du membre", "جنس الفرد", required="yes"
        ),
        _q(
            "integer",
            "ind_age",
            "Age of the member (years)",
            "Âge du membre (années)",
            "عمر الفرد (بالسنوات)",
            hint="Completed years; 0 for a baby under one year.",
            required="yes",
            constraint=". >= 0 and . <= 110",
            constraint_message="Age must be between 0 and 110.",
        ),
        _q(
            "select_one yes_no",
            "ind_school",
            "Does this child attend school (formal education) this school year?",
            "Cet enfant fréquente-t-il l'école (enseignement formel) cette année scolaire ?",
            "هل يلتحق هذا الطفل بالمدرسة (التعليم النظامي) هذا العام الدراسي؟",
            required="yes",
            relevant=SCHOOL_AGE,
        ),
    ]
    for name, en, fr, ar, _ in WG_DOMAINS:
        rows.append(_q("select_one wgq", name, en, fr, ar, required="yes", relevant="${ind_age} >= 5"))
    rows += [
        _q(
            "calculate",
            "ind_disability",
            "Member with a disability (Washington Group)",
            "Membre en situation de handicap (Washington Group)",
            "فرد من ذوي الإعاقة (مجموعة واشنطن)",
            relevant="${ind_age} >= 5",
            calculation=f"if({severe}, 1, 0)",
        ),
        _q("end_repeat", "roster"),
    ]
    return rows


# --------------------------------------------------------------------------------------------- choices
# Regions and districts are fictional. Coordinates are only used to scatter GPS points plausibly.
REGIONS = (
    # code, English, French, Arabic, centre lat, lon, altitude (m)
    ("R01", "Karsa North", "Karsa-Nord", "شمال كارسا", 13.42, 20.85, 420.0),
    ("R02", "Karsa South", "Karsa-Sud", "جنوب كارسا", 12.61, 21.30, 455.0),
    ("R03", "Marin Coast", "Côte de Marin", "ساحل مارين", 11.95, 19.40, 35.0),
    ("R04", "Tesh Plateau", "Plateau de Tesh", "هضبة تيش", 11.20, 22.10, 980.0),
    ("R05", "Ombra Valley", "Vallée d'Ombra", "وادي أومبرا", 10.48, 20.70, 310.0),
    ("R06", "Dunvale", "Dunvale", "دونفيل", 14.30, 22.75, 510.0),
)
DISTRICTS = {
    "R01": (
        ("D0101", "Harmon", "Harmon", "هارمون"),
        ("D0102", "Belisk", "Belisk", "بيليسك"),
        ("D0103", "Tavren", "Tavren", "تافرين"),
    ),
    "R02": (
        ("D0201", "Seldra", "Seldra", "سيلدرا"),
        ("D0202", "Mirek", "Mirek", "ميريك"),
        ("D0203", "Valesh", "Valesh", "فاليش"),
    ),
    "R03": (
        ("D0301", "Port Amsel", "Port-Amsel", "بورت أمسل"),
        ("D0302", "Lysa Bay", "Baie de Lysa", "خليج ليسا"),
        ("D0303", "Corvin", "Corvin", "كورفين"),
    ),
    "R04": (
        ("D0401", "Tesh Central", "Tesh-Centre", "تيش الوسطى"),
        ("D0402", "Irvak", "Irvak", "إرفاك"),
        ("D0403", "Saltmoor", "Saltmoor", "سالتمور"),
    ),
    "R05": (
        ("D0501", "Ombra Town", "Ombra-Ville", "مدينة أومبرا"),
        ("D0502", "Feyn", "Feyn", "فين"),
        ("D0503", "Lorin", "Lorin", "لورين"),
    ),
    "R06": (
        ("D0601", "Dunvale East", "Dunvale-Est", "دونفيل الشرقية"),
        ("D0602", "Qarim", "Qarim", "قريم"),
        ("D0603", "Ashwick", "Ashwick", "آشويك"),
    ),
}
# Households (sampling frame); deliberately unequal so that design weights differ by region.
POPULATION = {"R01": 68_420, "R02": 41_950, "R03": 112_300, "R04": 27_840, "R05": 53_610, "R06": 19_780}

CHOICE_LISTS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "yes_no": (("yes", "Yes", "Oui", "نعم"), ("no", "No", "Non", "لا")),
    "yes_no_dk": (
        ("yes", "Yes", "Oui", "نعم"),
        ("no", "No", "Non", "لا"),
        ("dk", "Don't know", "Ne sait pas", "لا أعرف"),
    ),
    "gender": (("female", "Female", "Femme", "أنثى"), ("male", "Male", "Homme", "ذكر")),
    "wgq": (
        ("no_difficulty", "No difficulty", "Aucune difficulté", "لا توجد صعوبة"),
        ("some_difficulty", "Some difficulty", "Quelques difficultés", "بعض الصعوبة"),
        ("a_lot_of_difficulty", "A lot of difficulty", "Beaucoup de difficultés", "صعوبة كبيرة"),
        ("cannot_do", "Cannot do at all", "Ne peut pas du tout", "لا يستطيع على الإطلاق"),
    ),
    "needs": (
        ("food", "Food", "Nourriture", "الغذاء"),
        ("water", "Water", "Eau", "المياه"),
        ("shelter", "Shelter", "Abri", "المأوى"),
        ("health", "Health care", "Soins de santé", "الرعاية الصحية"),
        ("education", "Education", "Éducation", "التعليم"),
        ("livelihoods", "Livelihoods", "Moyens de subsistance", "سبل العيش"),
        ("protection", "Protection", "Protection", "الحماية"),
        ("cash", "Cash assistance", "Assistance en espèces", "المساعدة النقدية"),
        ("other", "Other", "Autre", "أخرى"),
    ),
    "water_source": (
        (
            "piped",
            "Piped water into dwelling or yard",
            "Eau courante dans le logement ou la cour",
            "مياه الأنابيب إلى المسكن أو الفناء",
        ),
        ("public_tap", "Public tap or standpipe", "Robinet public ou borne-fontaine", "صنبور عام"),
        ("borehole", "Borehole", "Forage", "بئر أنبوبية"),
        ("protected_well", "Protected well or spring", "Puits ou source protégé", "بئر أو نبع محمي"),
        (
            "unprotected_well",
            "Unprotected well or spring",
            "Puits ou source non protégé",
            "بئر أو نبع غير محمي",
        ),
        (
            "surface_water",
            "Surface water (river, pond)",
            "Eau de surface (rivière, mare)",
            "مياه سطحية (نهر، بركة)",
        ),
        ("water_trucking", "Water trucking", "Camion-citerne", "صهاريج المياه"),
        ("other", "Other", "Autre", "أخرى"),
    ),
    "income": (
        ("agriculture", "Crop farming", "Agriculture", "الزراعة"),
        ("livestock", "Livestock", "Élevage", "تربية المواشي"),
        ("casual_labour", "Casual or daily labour", "Travail journalier", "العمل اليومي المؤقت"),
        ("salaried", "Salaried employment", "Emploi salarié", "العمل بأجر ثابت"),
        ("trade", "Petty trade or small business", "Petit commerce", "التجارة الصغيرة"),
        ("remittances", "Remittances", "Transferts de fonds", "التحويلات المالية"),
        ("aid", "Humanitarian assistance", "Assistance humanitaire", "المساعدات الإنسانية"),
        ("none", "No income", "Aucun revenu", "لا يوجد دخل"),
    ),
    "shelter": (
        ("good", "Good condition", "Bon état", "بحالة جيدة"),
        ("minor_damage", "Minor damage", "Dommages mineurs", "أضرار طفيفة"),
        ("major_damage", "Major damage", "Dommages importants", "أضرار جسيمة"),
        ("destroyed", "Destroyed", "Détruit", "مدمر"),
        ("none", "No shelter", "Sans abri", "بلا مأوى"),
    ),
}
NEEDS = tuple(c[0] for c in CHOICE_LISTS["needs"])
# The choices sheet's `need` column: answers that signal need. The reports shade only these in the heat tables
# and estimate the share of households giving any of them (with its own CI) for each [needs] question.
# Priority needs are left unmarked: every answer is a need there, so their shares are shaded neutrally.
NEED_ANSWERS = {
    "water_source": ("unprotected_well", "surface_water"),
    "shelter": ("major_damage", "destroyed", "none"),
    "income": ("none",),
}


def _choice_rows() -> list[tuple[str, str, str, str, str, str, str]]:
    rows = [("admin1", code, en, fr, ar, "", "") for code, en, fr, ar, *_ in REGIONS]
    for region, districts in DISTRICTS.items():
        rows += [("admin2", code, en, fr, ar, region, "") for code, en, fr, ar in districts]
    for list_name, choices in CHOICE_LISTS.items():
        need = NEED_ANSWERS.get(list_name, ())
        rows += [(list_name, *choice, "", "1" if choice[0] in need else "") for choice in choices]
    return rows


# ------------------------------------------------------------------------------------ region profiles
@dataclass(frozen=True)
class Profile:
    needs: dict[str, float]
    water: dict[str, float]
    income: dict[str, float]
    shelter: dict[str, float]
    displaced: float  # probability the household is displaced
    female_head: float  # probability of a female head of household
    food_security: float  # 0 (very poor diet) .. 1 (good diet)
    health_access: float  # probability of access to health care


def _w(**weights: float) -> dict[str, float]:
    return weights


PROFILES = {
    # dry north: food and water first, boreholes and wells, agro-pastoral
    "R01": Profile(
        _w(
            food=6,
            water=5,
            livelihoods=3,
            health=2,
            cash=2,
            education=1,
            shelter=1,
            protection=0.5,
            other=0.3,
        ),
        _w(
            borehole=5,
            unprotected_well=4,
            protected_well=2,
            public_tap=1,
            surface_water=1,
            water_trucking=1,
            other=0.2,
        ),
        _w(
            agriculture=5, livestock=4, casual_labour=2, trade=1, aid=1, remittances=1, salaried=0.3, none=0.5
        ),
        _w(good=5, minor_damage=3, major_damage=1, destroyed=0.3, none=0.1),
        0.12,
        0.30,
        0.35,
        0.55,
    ),
    # conflict-affected: displacement, shelter and protection
    "R02": Profile(
        _w(shelter=6, protection=5, food=5, health=3, cash=2, water=2, education=1, livelihoods=1, other=0.4),
        _w(water_trucking=4, public_tap=3, unprotected_well=3, borehole=2, surface_water=1, other=0.3),
        _w(
            aid=5, casual_labour=4, none=2, agriculture=1, trade=1, remittances=1, livestock=0.5, salaried=0.2
        ),
        _w(good=1, minor_damage=2, major_damage=4, destroyed=2, none=1),
        0.58,
        0.45,
        0.25,
        0.35,
    ),
    # coastal and urban: piped water, cash and livelihoods
    "R03": Profile(
        _w(
            cash=5,
            livelihoods=5,
            health=4,
            education=3,
            food=2,
            shelter=1,
            water=1,
            protection=0.5,
            other=0.5,
        ),
        _w(piped=6, public_tap=4, protected_well=1, borehole=1, other=0.2),
        _w(
            salaried=4,
            trade=5,
            casual_labour=4,
            remittances=2,
            agriculture=0.5,
            livestock=0.2,
            aid=0.5,
            none=0.5,
        ),
        _w(good=7, minor_damage=2, major_damage=0.5, destroyed=0.1, none=0.1),
        0.07,
        0.28,
        0.75,
        0.85,
    ),
    # remote highlands: health and education services are far away
    "R04": Profile(
        _w(
            health=6,
            education=5,
            water=3,
            food=3,
            livelihoods=2,
            cash=1,
            shelter=1,
            protection=0.3,
            other=0.3,
        ),
        _w(unprotected_well=4, surface_water=3, protected_well=3, borehole=2, other=0.2),
        _w(
            agriculture=7,
            livestock=3,
            casual_labour=1,
            trade=1,
            remittances=1,
            aid=0.3,
            salaried=0.3,
            none=0.3,
        ),
        _w(good=5, minor_damage=3, major_damage=1, destroyed=0.2, none=0.1),
        0.05,
        0.25,
        0.55,
        0.40,
    ),
    # flood-affected valley: shelter, water and health
    "R05": Profile(
        _w(
            shelter=6,
            water=5,
            health=4,
            food=3,
            cash=2,
            livelihoods=2,
            education=1,
            protection=0.5,
            other=0.4,
        ),
        _w(surface_water=5, unprotected_well=3, public_tap=2, borehole=2, water_trucking=1, other=0.3),
        _w(agriculture=5, casual_labour=3, trade=2, aid=2, livestock=1, remittances=1, none=1, salaried=0.3),
        _w(good=2, minor_damage=3, major_damage=3, destroyed=1.5, none=0.5),
        0.30,
        0.35,
        0.45,
        0.50,
    ),
    # pastoral east: water trucking, livestock, food
    "R06": Profile(
        _w(water=6, food=5, livelihoods=4, health=2, cash=2, education=1, shelter=1, protection=1, other=0.3),
        _w(water_trucking=5, borehole=4, unprotected_well=2, surface_water=1, other=0.3),
        _w(
            livestock=7,
            trade=2,
            casual_labour=2,
            aid=1,
            remittances=1,
            agriculture=0.5,
            none=0.5,
            salaried=0.2,
        ),
        _w(good=4, minor_damage=3, major_damage=1, destroyed=0.3, none=0.3),
        0.20,
        0.33,
        0.30,
        0.30,
    ),
}
# Probability that a household eats each food group on a given day, for an average diet.
FCS_DAILY = {
    "fcs_cereals": 0.95,
    "fcs_pulses": 0.45,
    "fcs_dairy": 0.30,
    "fcs_meat": 0.25,
    "fcs_veg": 0.55,
    "fcs_fruit": 0.15,
    "fcs_oil": 0.75,
    "fcs_sugar": 0.65,
}
BAD_WATER = {"unprotected_well", "surface_water"}

FIRST_NAMES_F = (
    "Amina",
    "Fatima",
    "Hawa",
    "Mariam",
    "Aicha",
    "Zeinab",
    "Khadija",
    "Halima",
    "Nadia",
    "Salma",
    "Rokia",
    "Achta",
    "Mounira",
    "Esther",
    "Grace",
    "Ruth",
    "Clarisse",
    "Josiane",
    "Leila",
    "Safia",
)
FIRST_NAMES_M = (
    "Ahmed",
    "Moussa",
    "Ibrahim",
    "Abdallah",
    "Yacoub",
    "Issa",
    "Oumar",
    "Hassan",
    "Adam",
    "Idriss",
    "Mahamat",
    "Saleh",
    "Youssouf",
    "Daniel",
    "Emmanuel",
    "Pierre",
    "Jean",
    "Samuel",
    "Khalil",
    "Bachir",
)
FAMILY_NAMES = (
    "Abakar",
    "Adoum",
    "Brahim",
    "Djibrine",
    "Haroun",
    "Mahamat",
    "Nour",
    "Ousmane",
    "Saleh",
    "Zakaria",
    "Ngarta",
    "Doumbia",
    "Kebir",
    "Allamine",
    "Tahir",
    "Mbaye",
    "Ramadan",
    "Bichara",
    "Garba",
    "Koulamallah",
)
OTHER_NEEDS = (
    "Fuel for cooking",
    "Clothing",
    "Blankets and mats",
    "Civil documentation",
    "Transport to the clinic",
    "Solar lamps",
    "Kitchen utensils",
    "Seeds and tools",
    "Mosquito nets",
    "School fees",
)
COMMENTS = (
    "Household hosts relatives from another district; shelter overcrowded.",
    'Respondent said "the well dried up in October".',
    "Interview interrupted, completed with the spouse.",
    "Roof leaks; family needs tarpaulin before the cold season.",
    "Elderly head of household, no regular income.",
    "Child with disability in the household, referred to health partner.",
    "Water point 2 km away, queues in the morning.",
    "Ménage très vulnérable, pas de revenus depuis la crue.",
    "Respondent asked about the next food distribution.",
    "الأسرة بحاجة ماسة إلى المأوى",
    "Some answers given by a neighbour, respondent hard of hearing.",
    "Latrine shared by 4 households",
)
NO_CONSENT_COMMENTS = (
    "Respondent declined; asked to come back later.",
    "Respondent busy, declined interview.",
    "Declined: head of household not present.",
    "",
)

# Export windows: (first day, last day) of data collection in November 2026.
EXPORTS = (
    ("kobo_csv", 2, 8, 0.45),
    ("kobo_xlsx", 9, 11, 0.30),
    ("odk_csv", 2, 13, 0.25),
)


# --------------------------------------------------------------------------------------------- the form
@dataclass(frozen=True)
class Field:
    name: str
    type: str
    groups: tuple[str, ...]
    list_name: str | None = None
    repeat: str | None = None  # the repeat group the field is asked in (None: once per household)


def _fields(rows: list[dict[str, str]], repeat: str | None = None) -> list[Field]:
    """Answer fields in form order with their group path, as exports lay them out: the household's fields
    (`repeat` None), or the fields of one repeat group."""
    stack: list[str] = []
    repeats: list[str] = []
    out: list[Field] = []
    for row in rows:
        kind, _, list_name = row["type"].partition(" ")
        if kind in ("begin_group", "begin_repeat"):
            stack.append(row["name"])
            if kind == "begin_repeat":
                repeats.append(row["name"])
        elif kind in ("end_group", "end_repeat"):
            if kind == "end_repeat":
                repeats.pop()
            stack.pop()
        elif (repeats[-1] if repeats else None) == repeat:
            out.append(Field(row["name"], kind, tuple(stack), list_name or None, repeat))
    if stack:
        raise AssertionError(f"unclosed group(s) in demo form: {stack}")
    return out


def _write_form(path: Path) -> None:
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(list(SURVEY_COLUMNS))
    for row in _survey_rows():
        survey.append(
            [
                row["type"],
                row["name"],
                row["en"],
                row["fr"],
                row["ar"],
                *(row.get(key, "") or None for key in _OPTIONAL),
            ]
        )
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", *(f"label::{lang}" for lang in LANGUAGES), "admin1", "need"])
    for choice in _choice_rows():
        choices.append([1 if i == 6 and cell else cell or None for i, cell in enumerate(choice)])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([FORM_TITLE, FORM_ID, FORM_VERSION, DEFAULT_LANGUAGE])
    for ws, widths in (
        (survey, (18, 22, 40, 40, 40, 30)),
        (choices, (14, 18, 30, 30, 30, 8, 6)),
        (settings, (32, 12, 12, 16)),
    ):
        for col, width in zip("ABCDEFG", widths, strict=False):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A2"
    _fix_properties(wb)
    wb.save(path)


def _fix_properties(wb: Workbook) -> None:
    stamp = dt.datetime(2026, 11, 1, 8, 0, 0)
    wb.properties.creator = "assess demo"
    wb.properties.created = stamp
    wb.properties.modified = stamp


# ------------------------------------------------------------------------------------- the households
def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _pick_several(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    pool = dict(weights)
    picked = []
    for _ in range(min(k, len(pool))):
        choice = _pick(rng, pool)
        picked.append(choice)
        del pool[choice]
    return picked


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _iso_local(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"+288 9{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(0, 9999):04d}"
    return f"09{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


@dataclass
class Enumerator:
    username: str
    device: str
    submitter_id: int
    display: str


def _build_world(rng: random.Random) -> dict[str, Any]:
    """Clusters with coordinates, enumerators with devices: fixed by the seed, shared by all exports."""
    clusters: dict[str, list[tuple[str, float, float, float]]] = {}
    district_weights: dict[str, dict[str, float]] = {}
    for code, _, _, _, lat, lon, alt in REGIONS:
        district_weights[code] = {}
        for i, (dcode, *_names) in enumerate(DISTRICTS[code], start=1):
            district_weights[code][dcode] = rng.uniform(0.6, 1.4)
            dlat, dlon = lat + rng.uniform(-0.35, 0.35), lon + rng.uniform(-0.35, 0.35)
            numbers = sorted(rng.sample(range(1, 60), rng.randint(5, 8)))
            clusters[dcode] = [
                (
                    f"EA-{i:02d}-{n:03d}",
                    dlat + rng.uniform(-0.12, 0.12),
                    dlon + rng.uniform(-0.12, 0.12),
                    max(2.0, alt + rng.uniform(-60, 60)),
                )
                for n in numbers
            ]
    kobo: dict[str, list[Enumerator]] = {}
    odk: dict[str, list[Enumerator]] = {}
    submitter = 40 + rng.randint(0, 20)
    for code, *_ in REGIONS:
        kobo[code] = []
        for letter in "abc":
            web = rng.random() < 0.3
            device = f"ee.kobotoolbox.org:{_token(rng, 16)}" if web else f"collect:{_token(rng, 16)}"
            kobo[code].append(Enumerator(f"cna_{code.lower()}_{letter}", device, 0, ""))
        odk[code] = []
        for letter in "AB":
            submitter += rng.randint(1, 3)
            odk[code].append(Enumerator("", f"collect:{_token(rng, 16)}", submitter, f"Team {code}-{letter}"))
    return {
        "clusters": clusters,
        "district_weights": district_weights,
        "kobo": kobo,
        "odk": odk,
        "kobo_version": "v" + _token(rng, 22),
    }


def _household(rng: random.Random, world: dict[str, Any], region: str, export: int) -> dict[str, Any]:
    profile = PROFILES[region]
    _, first_day, last_day, _ = EXPORTS[export]
    district = _pick(rng, world["district_weights"][region])
    cluster_id, clat, clon, calt = rng.choice(world["clusters"][district])
    team = world["odk" if EXPORTS[export][0] == "odk_csv" else "kobo"][region]
    enum = rng.choice(team)

    consent = "yes" if rng.random() >= 0.02 else "no"
    day = rng.randint(first_day, last_day)
    start = dt.datetime(2026, 11, day, 7, 30, tzinfo=TZ) + dt.timedelta(seconds=rng.randint(0, 9 * 3600))
    start += dt.timedelta(microseconds=rng.randint(0, 999) * 1000)
    minutes = rng.uniform(14, 48) if consent == "yes" else rng.uniform(2, 6)
    end = start + dt.timedelta(seconds=round(minutes * 60), microseconds=rng.randint(0, 999) * 1000)
    if enum.device.startswith("ee."):
        delay = rng.randint(1, 90)  # Enketo online: submitted at once
    else:
        delay = rng.choice(
            (rng.randint(30, 900), rng.randint(900, 8 * 3600))
        )  # Collect: sent when in network
    submitted = (end + dt.timedelta(seconds=delay)).astimezone(dt.UTC)

    female = rng.random() < 0.55
    name = f"{rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)} {rng.choice(FAMILY_NAMES)}"
    gps = (
        round(clat + rng.gauss(0, 0.004), 6),
        round(clon + rng.gauss(0, 0.004), 6),
        round(calt + rng.uniform(-8, 8), 1),
        round(rng.uniform(3.0, 14.9), 1),
    )

    rec: dict[str, Any] = {
        "start": _iso_local(start),
        "end": _iso_local(end),
        "today": start.date().isoformat(),
        "deviceid": enum.device,
        "admin1": region,
        "admin2": district,
        "cluster_id": cluster_id,
        "resp_name": name,
        "resp_phone": _phone(rng) if rng.random() < 0.8 else None,
        "consent": consent,
        "gps": gps,
        "_uuid": _uuid(rng),
        "_submitted": submitted,
        "_enum": enum,
        "_export": export,
    }
    if consent == "no":
        rec["comments"] = rng.choice(NO_CONSENT_COMMENTS) or None
        return rec

    displaced = rng.random() < profile.displaced
    hh_size = rng.choices(range(1, 16), weights=(3, 5, 10, 14, 16, 15, 12, 9, 6, 4, 2, 1.5, 1, 0.8, 0.5))[0]
    children = min(_binomial(rng, hh_size, 0.17), 4, hh_size)
    needs_w = dict(profile.needs)
    if displaced:
        needs_w["shelter"] = needs_w["shelter"] * 2 + 1
        needs_w["protection"] = needs_w["protection"] * 2 + 0.5
    k = rng.choices((1, 2, 3), weights=(2, 3.5, 4.5))[0]
    picked = set(_pick_several(rng, needs_w, k))
    needs = [n for n in NEEDS if n in picked]
    water = _pick(rng, profile.water)
    p_enough = 0.35 if water in BAD_WATER else 0.45 if water == "water_trucking" else 0.75
    sufficient: str | None = "dk" if rng.random() < 0.03 else "yes" if rng.random() < p_enough else "no"
    if rng.random() < 0.04:
        sufficient = None  # optional question, skipped
    income = _pick(rng, profile.income)
    if displaced and rng.random() < 0.4:
        income = rng.choice(("aid", "casual_labour", "none"))
    diet = min(0.98, max(0.05, rng.gauss(profile.food_security - (0.12 if displaced else 0.0), 0.15)))
    fcs = {}
    for name_, base in FCS_DAILY.items():
        p = min(0.99, base * (0.35 + 1.3 * diet)) if name_ != "fcs_cereals" else min(0.99, 0.75 + 0.25 * diet)
        fcs[name_] = _binomial(rng, 7, p)
    score = sum(w * fcs[n] for n, *_, w in FCS_GROUPS)
    shelter_w = dict(profile.shelter)
    if displaced:
        shelter_w["major_damage"] += 1.5
        shelter_w["none"] += 0.8
    female_head = rng.random() < profile.female_head + (0.1 if displaced else 0.0)
    rec.update(
        {
            "hh_size": hh_size,
            "children_u5": children,
            "head_gender": "female" if female_head else "male",
            "displaced": "yes" if displaced else "no",
            "displacement_months": min(240, int(rng.expovariate(1 / 14))) if displaced else None,
            "priority_needs": needs,
            "priority_needs_other": rng.choice(OTHER_NEEDS) if "other" in needs else None,
            "water_source": water,
            "water_sufficient": sufficient,
            "income_source": income,
            **fcs,
            "fcs_score": str(int(score)) if float(score).is_integer() else str(score),
            "health_access": "yes" if rng.random() < profile.health_access else "no",
            "shelter_condition": _pick(rng, shelter_w),
            "comments": rng.choice(COMMENTS) if rng.random() < 0.22 else None,
        }
    )
    return rec


def _households(rng: random.Random, world: dict[str, Any], households: int) -> list[list[dict[str, Any]]]:
    regions = [code for code, *_ in REGIONS]
    region_of = [regions[i % len(regions)] for i in range(households)]
    rng.shuffle(region_of)
    n1 = round(households * EXPORTS[0][3])
    n2 = round(households * EXPORTS[1][3])
    sizes = (n1, n2, households - n1 - n2)
    out: list[list[dict[str, Any]]] = []
    i = 0
    for export, size in enumerate(sizes):
        recs = [_household(rng, world, region_of[j], export) for j in range(i, i + size)]
        recs.sort(key=lambda r: (r["_submitted"], r["_uuid"]))
        out.append(recs)
        i += size
    return out


# ----------------------------------------------------------------------------------------- the roster
# Per region: share of children 5-17 attending school, how much less often girls attend, and how much more
# often than average members have a difficulty (Washington Group).
SCHOOL = {"R01": 0.66, "R02": 0.52, "R03": 0.90, "R04": 0.50, "R05": 0.62, "R06": 0.42}
GIRLS_GAP = {"R01": 0.15, "R02": 0.10, "R03": 0.0, "R04": 0.15, "R05": 0.08, "R06": 0.25}
DIFFICULTY = {"R01": 1.0, "R02": 1.7, "R03": 0.8, "R04": 1.2, "R05": 1.2, "R06": 1.0}


def _member(rng: random.Random, region: str, sex: str, age: int, displaced: bool) -> dict[str, Any]:
    m: dict[str, Any] = {"ind_sex": sex, "ind_age": age, "ind_school": None, "ind_disability": None}
    for name, *_ in WG_DOMAINS:
        m[name] = None
    if 5 <= age <= 17:
        p = SCHOOL[region] * (1 - (GIRLS_GAP[region] if sex == "female" else 0.0)) - (
            0.15 if displaced else 0
        )
        p *= 0.8 if age >= 15 else 1.0
        m["ind_school"] = "yes" if rng.random() < p else "no"
    if age >= 5:
        base = 0.003 if age < 18 else 0.005 if age < 45 else 0.012 if age < 60 else 0.04
        base *= DIFFICULTY[region] * (1.3 if displaced else 1.0)
        for name, *_, weight in WG_DOMAINS:
            p = base * weight
            x = rng.random()
            m[name] = (
                "cannot_do"
                if x < p * 0.25
                else "a_lot_of_difficulty"
                if x < p
                else "some_difficulty"
                if x < p * 4
                else "no_difficulty"
            )
        m["ind_disability"] = str(int(any(m[n] in WG_SEVERE for n, *_ in WG_DOMAINS)))
    return m


def _roster(rng: random.Random, rec: dict[str, Any]) -> list[dict[str, Any]]:
    """`hh_size` members: the head first (of the head's gender), a spouse in most households, exactly
    `children_u5` children under 5, the others of any age."""
    size, region = rec["hh_size"], rec["admin1"]
    under5 = min(rec["children_u5"], size - 1)  # the head is an adult
    displaced = rec["displaced"] == "yes"
    head_sex = rec["head_gender"]
    members = [_member(rng, region, head_sex, max(18, min(85, round(rng.gauss(41, 13)))), displaced)]
    others = size - 1 - under5
    if others > 0 and rng.random() < 0.75:
        spouse_age = max(16, min(85, members[0]["ind_age"] + round(rng.gauss(-4, 5))))
        members.append(
            _member(rng, region, "male" if head_sex == "female" else "female", spouse_age, displaced)
        )
        others -= 1
    for _ in range(others):
        band = rng.choices(((5, 17), (18, 59), (60, 90)), weights=(0.58, 0.34, 0.08))[0]
        sex = "female" if rng.random() < 0.51 else "male"
        members.append(_member(rng, region, sex, rng.randint(*band), displaced))
    for _ in range(under5):
        members.append(
            _member(rng, region, "female" if rng.random() < 0.49 else "male", rng.randint(0, 4), displaced)
        )
    return members


def _add_rosters(seed: int, exports: list[list[dict[str, Any]]]) -> None:
    """Draw every consenting household's roster from its own random stream (seeded from the main seed), so
    that the household answers stay those drawn before the roster existed."""
    rng = random.Random(f"{seed}-roster")
    for recs in exports:
        for r in recs:
            if r["consent"] == "yes":
                r["_members"] = _roster(rng, r)


# --------------------------------------------------------------------------------------------- exports
Column = tuple[str, Any]  # (header, function(record) -> str | int | float | None)


def _value(field: Field):
    return lambda r: r.get(field.name)


def _option(field: Field, choice: str):
    def get(r: dict[str, Any]) -> int | None:
        chosen = r.get(field.name)
        return None if chosen is None else int(choice in chosen)

    return get


def _gps_part(field: Field, i: int):
    def get(r: dict[str, Any]) -> float | None:
        point = r.get(field.name)
        return None if point is None else point[i]

    return get


def _answer_columns(fields: list[Field], sep: str, kobo: bool) -> list[Column]:
    cols: list[Column] = []
    for f in fields:
        path = sep.join((*f.groups, f.name))
        if f.type == "geopoint":
            if kobo:
                cols.append(
                    (
                        path,
                        lambda r, f=f: None if r.get(f.name) is None else " ".join(str(x) for x in r[f.name]),
                    )
                )
                for i, part in enumerate(("latitude", "longitude", "altitude", "precision")):
                    cols.append((f"_{path}_{part}", _gps_part(f, i)))
            else:
                for i, part in enumerate(("Latitude", "Longitude", "Altitude", "Accuracy")):
                    cols.append((f"{path}-{part}", _gps_part(f, i)))
        elif f.type == "select_multiple":
            cols.append((path, lambda r, f=f: None if r.get(f.name) is None else " ".join(r[f.name])))
            for choice, *_ in CHOICE_LISTS[f.list_name or ""]:
                cols.append((f"{path}/{choice}", _option(f, choice)))
        else:
            cols.append((path, _value(f)))
    return cols


def _kobo_columns(fields: list[Field], world: dict[str, Any]) -> list[Column]:
    return _answer_columns(fields, "/", kobo=True) + [
        ("_id", lambda r: r["_id"]),
        ("_uuid", lambda r: r["_uuid"]),
        ("_submission_time", lambda r: r["_submitted"].strftime("%Y-%m-%dT%H:%M:%S")),
        ("_validation_status", lambda r: r["_validation"]),
        ("_notes", lambda r: None),
        ("_status", lambda r: "submitted_via_web"),
        ("_submitted_by", lambda r: r["_enum"].username),
        ("__version__", lambda r: world["kobo_version"]),
        ("_tags", lambda r: None),
        ("_index", lambda r: r["_index"]),
    ]


def _odk_columns(fields: list[Field]) -> list[Column]:
    return (
        [
            (
                "SubmissionDate",
                lambda r: (
                    r["_submitted"].strftime("%Y-%m-%dT%H:%M:%S.")
                    + f"{r['_submitted'].microsecond // 1000:03d}Z"
                ),
            )
        ]
        + _answer_columns(fields, "-", kobo=False)
        + [
            ("meta-instanceID", lambda r: f"uuid:{r['_uuid']}"),
            ("KEY", lambda r: f"uuid:{r['_uuid']}"),
            ("SubmitterID", lambda r: r["_enum"].submitter_id),
            ("SubmitterName", lambda r: r["_enum"].display),
            ("AttachmentsPresent", lambda r: 0),
            ("AttachmentsExpected", lambda r: 0),
            ("Status", lambda r: None),
            ("ReviewState", lambda r: r.get("_review")),
            ("DeviceID", lambda r: r["deviceid"]),
            ("Edits", lambda r: r.get("_edits", 0)),
            ("FormVersion", lambda r: FORM_VERSION),
        ]
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _write_csv(path: Path, columns: list[Column], records: list[dict[str, Any]], *, kobo: bool) -> None:
    encoding, delimiter, eol = ("utf-8-sig", ";", "\r\n") if kobo else ("utf-8", ",", "\n")
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(
            fh, delimiter=delimiter, lineterminator=eol, quoting=csv.QUOTE_ALL if kobo else csv.QUOTE_MINIMAL
        )
        writer.writerow([h for h, _ in columns])
        for r in records:
            writer.writerow([_text(get(r)) for _, get in columns])


def _write_kobo_xlsx(path: Path, columns: list[Column], records: list[dict[str, Any]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(FORM_TITLE[:31])
    ws.append([h for h, _ in columns])
    for r in records:
        ws.append([get(r) for _, get in columns])
    _fix_properties(wb)
    wb.save(path)


KOBO_META = (
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
)


def _member_columns(fields: list[Field], sep: str) -> list[Column]:
    """A repeat's answer columns: Kobo names them by their full group path, ODK Central by their path inside
    the repeat (here the bare name)."""
    cols: list[Column] = []
    for f in fields:
        path = sep.join((*f.groups, f.name)) if sep == "/" else f.name
        if f.type == "select_multiple":  # not in the demo's roster; kept for completeness
            cols.append((path, lambda m, f=f: None if m.get(f.name) is None else " ".join(m[f.name])))
        else:
            cols.append((path, _value(f)))
    return cols


def _write_kobo_roster_xlsx(
    path: Path, columns: list[Column], roster: list[Field], records: list[dict[str, Any]]
) -> None:
    """KoboToolbox's XLSX export with repeat groups: the households on the first sheet, one row per member
    on the sheet `roster`, linked through `_parent_index` to the household's `_index` (both numbered from 1
    in this export), with `_submission_*` copies of the household's metadata."""
    wb = Workbook(write_only=True)
    sheet = FORM_TITLE[:31]
    ws = wb.create_sheet(sheet)
    ws.append([h for h, _ in columns])
    rs = wb.create_sheet("roster")
    member_cols = _member_columns(roster, "/")
    meta = dict(columns)
    rs.append(
        [h for h, _ in member_cols]
        + ["_parent_table_name", "_parent_index"]
        + [f"_submission_{m}" for m in KOBO_META]
    )
    for i, r in enumerate(records, start=1):
        row = {**r, "_index": i}
        ws.append([get(row) for _, get in columns])
        copies = [meta[m](row) for m in KOBO_META]
        for m in r.get("_members", ()):
            rs.append([get(m) for _, get in member_cols] + [sheet, i, *copies])
    _fix_properties(wb)
    wb.save(path)


def _write_central_zip(
    path: Path, columns: list[Column], roster: list[Field], records: list[dict[str, Any]]
) -> None:
    """ODK Central's csv.zip: `<formId>.csv` (the households, as the CSV export) and `<formId>-roster.csv`
    (one row per member, `PARENT_KEY` = the household's KEY, `KEY` = `<KEY>/household/roster[n]`)."""
    import io
    import zipfile

    def text(header: list[str], rows: list[list[Any]]) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_text(v) for v in row] for row in rows)
        return buf.getvalue().encode("utf-8")

    member_cols = _member_columns(roster, "-")
    main, members = [], []
    for r in sorted(records, key=lambda r: r["_submitted"], reverse=True):  # Central lists the newest first
        main.append([get(r) for _, get in columns])
        key = f"uuid:{r['_uuid']}"
        group = "/".join(roster[0].groups) if roster else "roster"
        for n, m in enumerate(r.get("_members", ()), start=1):
            members.append([get(m) for _, get in member_cols] + [key, f"{key}/{group}[{n}]"])
    stamp = (2026, 11, 16, 18, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            (f"{FORM_ID}.csv", text([h for h, _ in columns], main)),
            (f"{FORM_ID}-roster.csv", text([h for h, _ in member_cols] + ["PARENT_KEY", "KEY"], members)),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)


# ------------------------------------------------------------------------------------------------ toml
CONFIG_TEXT = """\
# Demo assessment written by `assess demo`. Paths are relative to this file.

# [survey] The XLSForm used to collect the data, the label language for reports and the round name.
[survey]
xlsform = "data/forms/needs_assessment.xlsx"
language = "English (en)"
round = "2026-R1"

# [paths] Drop new Kobo / ODK exports into the inbox; results, the database and reports go to processed.
[paths]
inbox = "data/raw"
processed = "data/processed"

# [regions] Geographic levels (question names), largest first; estimates are given for each level.
[regions]
levels = ["admin1", "admin2"]

# [needs] Questions to estimate. Answers equal to a missing code are treated as "no answer". Questions of the
# household roster (a repeat group: ind_sex, ind_school, ind_disability) are estimated over the members;
# children_5_17 and any_disability are household numbers made from the roster ([[indicators.members]] below).
[needs]
questions = ["priority_needs", "water_source", "shelter_condition", "hh_size",
             "ind_sex", "ind_school", "ind_disability", "children_5_17", "any_disability"]
missing_codes = [999, 9999]

# [design] Sampling design: the frame gives the population of each district (summed per stratum: region), from which
# household weights are computed; households in the same cluster (village) are not independent.
[design]
frame = "data/forms/sampling_frame.csv"
strata = "admin1"
population = "population"
population_unit = "households"            # what the frame counts; people in need are given in this unit
cluster = "cluster_id"

# [privacy] Personal answers that never leave the database, and the smallest group size published.
[privacy]
private = ["resp_name", "resp_phone", "gps", "comments", "priority_needs_other"]
min_cell = 5

# [report] Name printed on the PDF reports. Which answers signal need comes from the form's choices sheet
# (column `need`, 1 for such an answer); [report.need_answers] overrides it per question, e.g.
#   [report.need_answers]
#   water_source = ["unprotected_well", "surface_water", "water_trucking"]
[report]
organisation = "Demo Red Cross Society"

# [validation] Submissions failing checks are quarantined (kept aside, not counted) or only warned about;
# interviews must fall within the data collection window.
[validation]
on_fail = "quarantine"
window = ["2026-11-01", "2026-11-30"]

# [indicators] Composite indicators. fcs: WFP Food Consumption Score from the 8 food groups (days eaten in the
# last 7 days), standard weights; poor <= 21, borderline <= 35. severity: per-sector severity 1-5 from rules
# written like XLSForm conditions; the worst sector is the household's overall severity; 3+ means "in need".
[indicators.fcs]
groups = ["fcs_cereals", "fcs_pulses", "fcs_veg", "fcs_fruit", "fcs_meat", "fcs_dairy", "fcs_sugar", "fcs_oil"]
poor = 21
borderline = 35

[[indicators.severity]]
sector = "wash"
rules = [
  { level = 4, when = "${water_source} = 'surface_water'" },
  { level = 3, when = "${water_source} = 'unprotected_well' or ${water_sufficient} = 'no'" },
  { level = 2, when = "${water_source} = 'water_trucking'" },
]

[[indicators.severity]]
sector = "shelter"
rules = [
  { level = 5, when = "${shelter_condition} = 'none'" },
  { level = 4, when = "${shelter_condition} = 'destroyed'" },
  { level = 3, when = "${shelter_condition} = 'major_damage'" },
  { level = 2, when = "${shelter_condition} = 'minor_damage'" },
]

[[indicators.severity]]
sector = "food"
rules = [
  { level = 4, when = "${fcs_score} <= 21" },
  { level = 3, when = "${fcs_score} <= 35" },
]

# [[indicators.members]] Household numbers made from the roster's members: count = how many members match,
# any = 1 if at least one does. Disability: Washington Group cut-off (a lot of difficulty or cannot do at all
# in any of the six domains).
[[indicators.members]]
name = "children_5_17"
repeat = "roster"
count = "${ind_age} >= 5 and ${ind_age} <= 17"
label = "Children aged 5-17"

[[indicators.members]]
name = "any_disability"
repeat = "roster"
any = "${ind_disability} = '1'"
label = "Households with a member with a disability"
"""


# ------------------------------------------------------------------------------------------------- API
def demo_records(households: int = 2000, seed: int = 20261125) -> tuple[list[Field], dict, list[list[dict]]]:
    """The demo's households (one list per export file: Kobo CSV, Kobo XLSX, ODK CSV), each consenting
    household with its members under `_members`; with the household fields and the world they were drawn in."""
    rng = random.Random(seed)
    fields = _fields(_survey_rows())
    world = _build_world(rng)
    exports = _households(rng, world, households)

    # Kobo bookkeeping: one project, so _id grows across both Kobo exports; _index restarts per file.
    next_id = 498_000_000 + rng.randint(0, 900_000)
    for e, recs in enumerate(exports[:2]):
        for i, r in enumerate(recs, start=1):
            next_id += rng.randint(1, 37)
            r["_id"], r["_index"] = next_id, i
            approved = rng.random() < (0.7 if e == 0 else 0.2)
            r["_validation"] = "validation_status_approved" if approved else None
    for r in exports[2]:
        x = rng.random()
        r["_review"] = "approved" if x < 0.3 else "hasIssues" if x < 0.33 else None
        r["_edits"] = 1 if rng.random() < 0.04 else 0
    _add_rosters(seed, exports)  # last, from its own stream: the households above stay as they were
    return fields, world, exports


def write_demo(dest: Path, *, households: int = 2000, seed: int = 20261125) -> list[Path]:
    """Write a complete demo assessment into `dest` and return the files written.

    Refuses (FileExistsError) when `dest/assessment.toml` already exists, so a real assessment is never
    overwritten. The same `seed` and `households` always give the same data.
    """
    dest = Path(dest)
    if households < 1:
        raise ValueError(f"households must be at least 1, got {households}")
    config = dest / CONFIG_PATH
    if config.exists():
        raise FileExistsError(
            f"{config} already exists: refusing to overwrite an existing assessment. "
            "Choose an empty directory for the demo, or move the existing assessment.toml away first."
        )
    for sub in ("data/forms", "data/raw", "data/processed"):
        (dest / sub).mkdir(parents=True, exist_ok=True)

    fields, world, exports = demo_records(households, seed)
    cleaning = quality.add_suspicious(exports, seed)  # issue 17: suspicious households + their filled log

    written = []
    _write_form(dest / FORM_PATH)
    written.append(dest / FORM_PATH)
    partners.write_frame(dest / FRAME_PATH, POPULATION, DISTRICTS)  # one row per district
    written.append(dest / FRAME_PATH)
    written += partners.write_partner_material(dest, REGIONS, DISTRICTS)  # 3W list, boundaries

    kobo_cols = _kobo_columns(fields, world)
    _write_csv(dest / KOBO_CSV_PATH, kobo_cols, exports[0], kobo=True)
    written.append(dest / KOBO_CSV_PATH)
    _write_kobo_xlsx(dest / KOBO_XLSX_PATH, kobo_cols, exports[1])
    written.append(dest / KOBO_XLSX_PATH)
    _write_csv(dest / ODK_CSV_PATH, _odk_columns(fields), exports[2], kobo=False)
    written.append(dest / ODK_CSV_PATH)
    # the roster: later, cumulative re-exports of the same households with their members (they replace the
    # households above with identical answers, so the household numbers do not change)
    roster = _fields(_survey_rows(), "roster")
    _write_kobo_roster_xlsx(dest / KOBO_ROSTER_PATH, kobo_cols, roster, exports[0] + exports[1])
    written.append(dest / KOBO_ROSTER_PATH)
    _write_central_zip(dest / ODK_ZIP_PATH, _odk_columns(fields), roster, exports[2])
    written.append(dest / ODK_ZIP_PATH)

    written.append(write_plan(dest))
    written += quality.write_filled_log(dest, cleaning)
    config.write_text(
        CONFIG_TEXT + PLAN_CONFIG + partners.CONFIG_TEXT + quality.CONFIG, encoding="utf-8", newline="\n"
    )
    written.append(config)
    return written
