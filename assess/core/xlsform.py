"""XLSForm reader: the schema for everything downstream.

Reads `.xlsx` and `.xls` forms (python-calamine) with every cell as text, so that a choice named `NA`
stays a choice. Lenient where KoboToolbox is lenient: duplicate choice names, unknown question types and
missing settings sheets give warnings, not errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from .settings import Settings


class FormError(Exception):
    """The XLSForm cannot be used (missing, unreadable, no survey sheet)."""


SELECT_TYPES = ("select_one", "select_multiple")
NUMERIC_TYPES = ("integer", "decimal")
# Types that carry no answer column in a household export.
STRUCTURE_TYPES = ("begin_group", "end_group", "begin_repeat", "end_repeat", "note")
# Types whose values identify a person or a device: always treated as private.
PERSONAL_TYPES = (
    "geopoint",
    "geotrace",
    "geoshape",
    "phonenumber",
    "deviceid",
    "simserial",
    "subscriberid",
    "username",
    "email",
    "start-geopoint",
    "image",
    "audio",
    "video",
    "file",
    "audit",
    "background-audio",
)
KNOWN_TYPES = set(SELECT_TYPES + NUMERIC_TYPES + STRUCTURE_TYPES + PERSONAL_TYPES) | {
    "text",
    "date",
    "time",
    "datetime",
    "calculate",
    "hidden",
    "acknowledge",
    "range",
    "barcode",
    "rank",
    "start",
    "end",
    "today",
    "xml-external",
    "csv-external",
    "trigger",
}
_TYPE_ALIASES = {
    "begin group": "begin_group",
    "end group": "end_group",
    "begin repeat": "begin_repeat",
    "end repeat": "end_repeat",
    "begin_lgroup": "begin_group",
    "end_lgroup": "end_group",
    "int": "integer",
    "float": "decimal",
    "gps": "geopoint",
    "location": "geopoint",
    "select one": "select_one",
    "select1": "select_one",
    "select_one_from_file": "select_one",
    "select one from file": "select_one",
    "select_one_external": "select_one",
    "select all that apply": "select_multiple",
    "select multiple": "select_multiple",
    "select_multiple_from_file": "select_multiple",
    "select multiple from file": "select_multiple",
    "string": "text",
    "phone number": "phonenumber",
    "imei": "deviceid",
    "photo": "image",
    "q picture": "image",
    "add note prompt": "note",
    "begin_rank": "rank",
}
TRUE_WORDS = {"yes", "true", "true()", "1", "y"}


@dataclass(frozen=True)
class Choice:
    name: str
    labels: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)
    need: bool = False  # the choices sheet's optional `need` column: 1 for an answer that signals need


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    list_name: str | None
    labels: dict[str, str]
    required: bool = False
    constraint: str = ""
    constraint_message: str = ""
    relevant: str = ""
    choice_filter: str = ""
    group_path: tuple[str, ...] = ()
    group_relevant: tuple[str, ...] = ()  # `relevant` of the enclosing groups, outermost first
    in_repeat: bool = False
    repeat: str | None = None  # the innermost repeat group holding the question (None: household level)
    private: bool = False
    row: int = 0

    @property
    def is_select(self) -> bool:
        return self.type in SELECT_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Language:
    """The label language of an assessment, resolved once: the form's label column and its ISO code."""

    column: str  # the form's label column key, e.g. "Français (fr)"; "" for a plain `label` column
    code: str  # "fr": report wording, number formats, the receipts' `lang`

    @property
    def rtl(self) -> bool:
        return self.code in RTL_CODES


RTL_CODES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})
LANGUAGE_NAMES = {
    "english": "en",
    "français": "fr",
    "francais": "fr",
    "french": "fr",
    "arabic": "ar",
    "العربية": "ar",
    "عربي": "ar",
    "español": "es",
    "spanish": "es",
    "português": "pt",
}


def language_code(column: str) -> str:
    """'Français (fr)' -> 'fr'; 'English' -> 'en'; 'Français' -> 'fr'; '' -> 'en'."""
    m = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\)\s*$", column or "")
    if m:
        return m.group(1).lower()
    name = (column or "").strip().lower()
    if re.fullmatch(r"[a-z]{2,3}", name):
        return name
    return LANGUAGE_NAMES.get(name, "en")


@dataclass(frozen=True)
class Repeat:
    """A repeat group (household roster, per-member modules): one row per instance, stored as `r_<name>`."""

    name: str
    parent: str | None  # the enclosing repeat (nested repeats), None when it hangs off the household
    group_path: tuple[str, ...]  # groups (and repeats) enclosing it, outermost first; its own name excluded
    repeat_count: str = ""  # the form's `repeat_count` (e.g. `${hh_size}`), "" when free
    relevant: str = ""
    row: int = 0

    @property
    def table(self) -> str:
        """Its store table: prefixed so that it cannot clash with the store's own tables."""
        return "r_" + self.name


@dataclass
class XLSForm:
    path: Path
    title: str
    form_id: str
    version: str
    languages: list[str]
    default_language: str | None
    questions: dict[str, Question]
    choices: dict[str, list[Choice]]
    warnings: list[str] = field(default_factory=list)
    repeats: dict[str, Repeat] = field(default_factory=dict)  # in form order; parents before children
    language: Language = field(default_factory=lambda: Language("", "en"))  # set by read_xlsform

    def choose_language(self, requested: str | None) -> Language:
        """The label language for `requested` (matched leniently; default: the form's); FormError if absent."""
        column = self.resolve_language(requested)
        return Language(column, language_code(column))

    def resolve_language(self, requested: str | None) -> str:
        """The label language to show: the configured one (matched leniently), the form default, else the first."""
        if not self.languages:
            return ""
        if requested:
            found = match_language(requested, self.languages)
            if found is None:
                raise FormError(
                    f"{self.path.name}: language '{requested}' is not in the form. "
                    f"Label languages in the form: {', '.join(repr(lang or 'label') for lang in self.languages)}."
                )
            return found
        if self.default_language:
            found = match_language(self.default_language, self.languages)
            if found is not None:
                return found
        return self.languages[0]

    def label(self, question: str, language: str) -> str:
        q = self.questions.get(question)
        if q is None:
            return question
        return _pick(q.labels, language) or question

    def choice_label(self, list_name: str | None, name: str, language: str) -> str:
        for c in self.choices.get(list_name or "", []):
            if c.name == name:
                return _pick(c.labels, language) or name
        return name

    def choice_names(self, question: str) -> list[str]:
        q = self.questions[question]
        return [c.name for c in self.choices.get(q.list_name or "", [])]

    def marked_need(self, question: str) -> tuple[str, ...]:
        """The answers of a select question marked `need` = 1 on the choices sheet (form order)."""
        q = self.questions.get(question)
        if q is None or not q.is_select:
            return ()
        return tuple(c.name for c in self.choices.get(q.list_name or "", []) if c.need)

    @property
    def answer_questions(self) -> list[Question]:
        """Household-level questions that have a column in a flat export (no groups, notes, repeats)."""
        return [q for q in self.questions.values() if q.type not in STRUCTURE_TYPES and not q.in_repeat]


def _pick(labels: dict[str, str], language: str) -> str:
    return labels.get(language) or labels.get("") or next((v for v in labels.values() if v), "")


def _norm_lang(text: str) -> tuple[str, str]:
    text = text.strip().lower()
    m = re.match(r"^(.*?)\s*\(([^)]*)\)\s*$", text)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return text, ""


def match_language(requested: str, languages: list[str]) -> str | None:
    """Match 'english', 'English (en)', 'en' or 'English' against the form's label languages."""
    req_name, req_code = _norm_lang(requested)
    for lang in languages:
        name, code = _norm_lang(lang)
        if (req_name, req_code) == (name, code):
            return lang
    for lang in languages:
        name, code = _norm_lang(lang)
        if req_name and (req_name == name or req_name == code or (req_code and req_code == code)):
            return lang
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _sheet_rows(wb: CalamineWorkbook, name: str) -> list[dict[str, str]] | None:
    match = next((s for s in wb.sheet_names if s.strip().lower() == name), None)
    if match is None:
        return None
    rows = wb.get_sheet_by_name(match).to_python(skip_empty_area=False)
    if not rows:
        return []
    header = [_cell_text(h) for h in rows[0]]
    out: list[dict[str, str]] = []
    for raw in rows[1:]:
        cells = [_cell_text(v) for v in raw]
        if not any(cells):
            out.append({})  # keep row numbering aligned with the sheet
            continue
        out.append({h: cells[i] if i < len(cells) else "" for i, h in enumerate(header) if h})
    return out


def _labels(row: dict[str, str], prefix: str = "label") -> dict[str, str]:
    """`label::English (en)` / `label:English` / `label` -> {language: text}; '' is the plain label."""
    out: dict[str, str] = {}
    for key, value in row.items():
        k = key.strip()
        low = k.lower()
        if low == prefix:
            out[""] = value
        elif low.startswith(prefix + "::"):
            out[k[len(prefix) + 2 :].strip()] = value
        elif low.startswith(prefix + ":"):
            out[k[len(prefix) + 1 :].strip()] = value
    return out


def normalise_type(raw: str) -> tuple[str, str | None, list[str]]:
    """Return (base type, choice list name, notes) for an XLSForm `type` cell."""
    text = " ".join(raw.strip().split())
    low = text.lower()
    notes: list[str] = []
    for alias in sorted(_TYPE_ALIASES, key=len, reverse=True):
        if low == alias or low.startswith(alias + " "):
            rest = text[len(alias) :].strip()
            text = _TYPE_ALIASES[alias] + (" " + rest if rest else "")
            low = text.lower()
            break
    parts = text.split(" ")
    base = parts[0].lower()
    list_name = None
    if base in SELECT_TYPES or base == "rank":
        if len(parts) < 2:
            notes.append(f"'{raw}' has no choice list name")
        else:
            list_name = parts[1]
            if len(parts) > 2 and parts[2].lower() == "or_other":
                notes.append("or_other")
    return base, list_name, notes


def read_xlsform(path: str | Path, language: str | None = None) -> XLSForm:
    """Parse an XLSForm (.xlsx or .xls) into questions, choices and settings; resolve the label `language`
    (the config's `[survey] language`; default the form's) once, here: FormError when the form lacks it."""
    path = Path(path)
    if not path.exists():
        raise FormError(f"{path}: XLSForm not found. Check [survey] xlsform in the config.")
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several error types for unreadable files
        raise FormError(f"{path}: cannot read the XLSForm ({exc}). Save it as .xlsx or .xls.") from exc
    survey = _sheet_rows(wb, "survey")
    if survey is None:
        raise FormError(f"{path}: no 'survey' sheet. An XLSForm needs 'survey' and 'choices' sheets.")
    choices_rows = _sheet_rows(wb, "choices") or []
    settings_rows = _sheet_rows(wb, "settings") or []
    warnings: list[str] = []

    languages: list[str] = []
    for row in survey + choices_rows:
        for lang in _labels(row):
            if lang not in languages:
                languages.append(lang)
    # a plain `label` beside translated ones is usually the default language; list it last
    if "" in languages and len(languages) > 1:
        languages.remove("")
        languages.append("")

    choices: dict[str, list[Choice]] = {}
    reserved = {"list_name", "list name", "name", "value", "need"}
    for i, row in enumerate(choices_rows, start=2):
        choice_list = row.get("list_name", row.get("list name", "")).strip()
        name = row.get("name", row.get("value", "")).strip()
        if not choice_list or not name:
            continue
        bucket = choices.setdefault(choice_list, [])
        if any(c.name == name for c in bucket):
            warnings.append(
                f"choices row {i}: list '{choice_list}' has the choice name '{name}' twice; the first is used."
            )
            continue
        extra = {
            k: v
            for k, v in row.items()
            if k.lower() not in reserved and not k.lower().startswith(("label", "media", "image", "audio"))
        }
        need = next((v for k, v in row.items() if k.strip().lower() == "need"), "").strip().lower()
        bucket.append(Choice(name=name, labels=_labels(row), extra=extra, need=need in TRUE_WORDS))

    questions: dict[str, Question] = {}
    repeats: dict[str, Repeat] = {}
    groups: list[tuple[str, bool]] = []
    group_relevance: list[str] = []  # parallel to `groups`
    for i, row in enumerate(survey, start=2):
        raw_type = row.get("type", "").strip()
        name = row.get("name", "").strip()
        if not raw_type:
            continue
        base, list_name, notes = normalise_type(raw_type)
        if base == "begin_repeat" and name:
            enclosing = [g for g, rep in groups if rep]
            repeats.setdefault(
                name,
                Repeat(
                    name=name,
                    parent=enclosing[-1] if enclosing else None,
                    group_path=tuple(g for g, _ in groups if g),
                    repeat_count=row.get("repeat_count", "").strip(),
                    relevant=row.get("relevant", row.get("relevance", "")).strip(),
                    row=i,
                ),
            )
        if base in ("begin_group", "begin_repeat"):
            groups.append((name, base == "begin_repeat"))
            group_relevance.append(row.get("relevant", row.get("relevance", "")).strip())
            continue
        if base in ("end_group", "end_repeat"):
            if groups:
                groups.pop()
                group_relevance.pop()
            else:
                warnings.append(f"survey row {i}: '{raw_type}' without a matching begin; ignored.")
            continue
        if not name:
            if base != "note":
                warnings.append(f"survey row {i}: a '{raw_type}' question has no name; skipped.")
            continue
        if base not in KNOWN_TYPES:
            warnings.append(f"survey row {i}: unknown question type '{raw_type}' for '{name}'; read as text.")
            base = "text"
        if (
            base in SELECT_TYPES
            and list_name
            and list_name not in choices
            and not raw_type.lower().endswith(("_from_file", "from file", "_external"))
        ):
            warnings.append(
                f"survey row {i}: '{name}' uses choice list '{list_name}', which the choices sheet lacks."
            )
        if name in questions:
            warnings.append(f"survey row {i}: question name '{name}' appears twice; the first is used.")
            continue
        required_raw = row.get("required", "").strip().lower()
        private_raw = row.get("private", row.get("personal_data", "")).strip().lower()
        cmsg = _labels(row, "constraint_message") or _labels(row, "constraint message")
        questions[name] = Question(
            name=name,
            type=base,
            list_name=list_name,
            labels=_labels(row),
            required=required_raw in TRUE_WORDS,
            constraint=row.get("constraint", "").strip(),
            constraint_message=_pick(cmsg, languages[0] if languages else ""),
            relevant=row.get("relevant", row.get("relevance", "")).strip(),
            choice_filter=row.get("choice_filter", "").strip(),
            group_path=tuple(g for g, _ in groups if g),
            group_relevant=tuple(r for r in group_relevance if r),
            in_repeat=any(rep for _, rep in groups),
            repeat=next((g for g, rep in reversed(groups) if rep), None),
            private=private_raw in TRUE_WORDS or base in PERSONAL_TYPES,
            row=i,
        )
    if groups:
        warnings.append(f"survey: {len(groups)} group(s) not closed with end_group/end_repeat.")

    settings = next((r for r in settings_rows if r), {})
    title = settings.get("form_title") or settings.get("title") or path.stem.replace("_", " ")
    default_language = settings.get("default_language") or None
    form = XLSForm(
        path=path,
        title=title,
        form_id=settings.get("form_id") or settings.get("id_string") or path.stem,
        version=settings.get("version", ""),
        languages=languages,
        default_language=default_language,
        questions=questions,
        choices=choices,
        warnings=warnings,
        repeats=repeats,
    )
    form.language = form.choose_language(language)
    return form


NEED_SUFFIX = ":need"


def need_indicator(question: str) -> str:
    """The derived indicator of a question's answers that signal need: `<question>:need` (one share, option '')."""
    return question + NEED_SUFFIX


def need_answers(settings: Settings, form: XLSForm) -> dict[str, tuple[str, ...]]:
    """[needs] select questions -> the codes of their answers that signal need.

    `[report.need_answers]` wins where it names a question (an empty list: none of its answers); otherwise
    the answers marked `need` = 1 on the form's choices sheet. Questions with no such answer are left out.
    """
    out: dict[str, tuple[str, ...]] = {}
    for name in settings.needs:
        question = form.questions.get(name)
        if question is None or not question.is_select:
            continue
        codes = settings.need_answers[name] if name in settings.need_answers else form.marked_need(name)
        if codes:
            out[name] = tuple(codes)
    return out


def read_form(settings: Settings) -> XLSForm:
    """The assessment's XLSForm, with the configured label language resolved."""
    return read_xlsform(settings.xlsform, language=settings.language)
