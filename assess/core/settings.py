"""One settings object per assessment, read from `assessment.toml`.

Built once at the edge (CLI or flow) and passed down. Every user mistake in the file becomes a
`ConfigError` naming the file, the key and what to do; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import partner_settings as ps
from .problems import POLICY_KINDS
from .xpath import Untranslatable, parse

DEFAULT_ID_COLUMNS = ("_uuid", "meta-instanceID", "meta/instanceID", "KEY", "instanceID", "uuid")


class ConfigError(Exception):
    """A problem with the assessment configuration that the user must fix (exit code 2)."""


@dataclass(frozen=True)
class ExpectSpec:
    type: str
    kwargs: dict[str, Any]
    kind: str = "custom"


# WFP Food Consumption Score: standard weights of the 8 food groups, in the order of `groups`
FCS_WEIGHTS = (2.0, 3.0, 1.0, 1.0, 4.0, 4.0, 0.5, 0.5)


@dataclass(frozen=True)
class FcsSpec:
    """`[indicators.fcs]`: score = sum of weight x days eaten (0-7) over 8 food groups; <= poor: poor,
    <= borderline: borderline, else acceptable."""

    groups: tuple[str, ...]
    weights: tuple[float, ...] = FCS_WEIGHTS
    poor: float = 21.0
    borderline: float = 35.0
    label: str | None = None


@dataclass(frozen=True)
class SeverityRule:
    level: int  # 1..5
    when: str  # XLSForm-style condition


@dataclass(frozen=True)
class SeveritySpec:
    """One `[[indicators.severity]]` entry: a household's severity in `sector` is the highest level whose
    condition holds, `default` when none does."""

    sector: str
    rules: tuple[SeverityRule, ...]
    default: int = 1
    label: str | None = None  # the sector's name in the reports


MEMBER_AGGREGATES = ("count", "any", "all", "share")


@dataclass(frozen=True)
class MemberIndicatorSpec:
    """One `[[indicators.members]]` entry: a household-level number made from the rows of a repeat group
    (e.g. the household roster) where an XLSForm-style condition holds: `count` (how many rows), `any`
    (1 if one does, else 0), `all` (1 if every row does, else 0) or `share` (the fraction of rows)."""

    name: str  # the new household-level column, usable in [needs] questions
    repeat: str  # the repeat group whose rows are counted
    aggregate: str  # one of MEMBER_AGGREGATES
    when: str  # XLSForm-style condition on the repeat's questions (and household questions)
    label: str | None = None  # its name in the reports and exports


@dataclass(frozen=True)
class IndicatorSpecs:
    """`[indicators]`: the composite indicators computed beside the needs questions."""

    fcs: FcsSpec | None = None
    severity: tuple[SeveritySpec, ...] = ()
    members: tuple[MemberIndicatorSpec, ...] = ()

    def member(self, name: str) -> MemberIndicatorSpec | None:
        """The `[[indicators.members]]` entry called `name`, if there is one."""
        return next((m for m in self.members if m.name == name), None)


@dataclass(frozen=True)
class QualitySpec:
    """`[quality]`: the data-quality checks run on each round's submissions (assess/clean/checks.py)."""

    duration_minutes: tuple[float, float] = (25.0, 90.0)  # interviews outside are flagged
    outlier_sd: float = 3.0  # on raw values and on log(x+1), per integer/decimal question
    outlier_by: str = ""  # optionally a [regions] level: outliers within each area
    soft_duplicate_max_diff: int = 7  # answers two "soft duplicate" submissions may differ in
    enumerator: str = ""  # the question naming the enumerator; else the (hashed) device id


@dataclass(frozen=True)
class Settings:
    config_path: Path
    root: Path
    xlsform: Path
    language: str | None = None
    round: str = "1"
    id_column: str | None = None
    title: str | None = None
    inbox: Path = Path("data/raw")
    processed: Path = Path("data/processed")
    region_levels: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    missing_codes: tuple[float, ...] = ()
    frame: Path | None = None
    strata: str | None = None
    population: str = "population"
    cluster: str | None = None
    weight: str | None = None
    private: tuple[str, ...] = ()
    min_cell: int = 5
    on_fail: str = "quarantine"
    policy: dict[str, str] = field(default_factory=dict)  # only the kinds written in [validation.policy]
    window: tuple[str, str] | None = None
    expectations: tuple[ExpectSpec, ...] = ()
    organisation: str = ""
    logo: Path | None = None
    need_answers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # [report.need_answers]
    cron: str | None = None
    timezone: str | None = None
    webhook: str | None = None
    notify_command: str | None = None
    indicators: IndicatorSpecs = IndicatorSpecs()
    partners: ps.PartnerSpec | None = None  # [partners]: the 3W/5W list (assess/partners/)
    population_unit: str | None = None  # [design] population_unit: what the frame's populations count
    boundaries: dict[str, ps.BoundarySpec] = field(default_factory=dict)  # [report.boundaries]
    prefect_api_url: str | None = None  # [prefect] api_url: the Prefect server `assess run` uses
    plan: Path | None = None  # [analysis] plan: a list of analyses (analysistools' LOA), CSV or XLSX
    quality: QualitySpec = QualitySpec()

    def explicit_policy(self, kind: str) -> str | None:
        """The action written for `kind` in `[validation.policy]`; None when it is left to the defaults.

        A written policy is followed as it is: `constraint = "quarantine"` keeps even a constraint that fails
        on most rows (probably a form problem, otherwise kept as a warning) quarantining its rows."""
        return self.policy.get(kind)

    @property
    def store_path(self) -> Path:
        return self.processed / "assessment.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.processed / "archive"

    @property
    def receipts_dir(self) -> Path:
        return self.processed / "receipts"

    @property
    def reports_dir(self) -> Path:
        return self.processed / "reports"

    @property
    def lock_path(self) -> Path:
        return self.processed / ".assessment.lock"

    @property
    def staging_root(self) -> Path:
        """Where this round's files wait between staging and loading (holds raw answers; removed after)."""
        return self.processed / "staging" / self.round

    def staging_dir(self, sha256: str) -> Path:
        return self.staging_root / sha256


# section -> {key: (type, required)}
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "survey": {
        "xlsform": (str, True),
        "language": (str, False),
        "round": ((str, int), False),
        "id_column": (str, False),
        "title": (str, False),
    },
    "paths": {"inbox": (str, False), "processed": (str, False)},
    "regions": {"levels": (list, False)},
    "needs": {"questions": (list, False), "missing_codes": (list, False)},
    "design": {
        "frame": (str, False),
        "strata": (str, False),
        "population": (str, False),
        "cluster": (str, False),
        "weight": (str, False),
        "population_unit": (str, False),
    },
    "privacy": {"private": (list, False), "min_cell": (int, False)},
    "validation": {
        "on_fail": (str, False),
        "window": (list, False),
        "policy": (dict, False),
        "expect": (list, False),
    },
    "report": {
        "organisation": (str, False),
        "logo": (str, False),
        "need_answers": (dict, False),
        "boundaries": (dict, False),
    },
    "partners": {"file": (str, False), "high_need": ((int, float), False), "sectors": (dict, False)},
    "schedule": {"cron": (str, False), "timezone": (str, False)},
    "notify": {"webhook": (str, False), "command": (str, False)},
    "prefect": {"api_url": (str, False)},
    "indicators": {"fcs": (dict, False), "severity": (list, False), "members": (list, False)},
    "analysis": {"plan": (str, False)},
    "quality": {
        "duration_minutes": (list, False),
        "outlier_sd": ((int, float), False),
        "outlier_by": (str, False),
        "soft_duplicate_max_diff": (int, False),
        "enumerator": (str, False),
    },
}
_REQUIRED_SECTIONS = ("survey",)


def _check_keys(data: dict[str, Any], path: Path) -> None:
    for section, body in data.items():
        if section not in _SCHEMA:
            raise ConfigError(
                f"{path}: unknown section [{section}]. Known sections: {', '.join(sorted(_SCHEMA))}. "
                "Check the spelling or remove it."
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of keys, not a value.")
        for key, value in body.items():
            spec = _SCHEMA[section].get(key)
            if spec is None:
                raise ConfigError(
                    f"{path}: unknown key '{key}' in [{section}]. Known keys: "
                    f"{', '.join(sorted(_SCHEMA[section]))}. Check the spelling or remove it."
                )
            if not isinstance(value, spec[0]) or isinstance(value, bool) and spec[0] is int:
                expected = (
                    spec[0].__name__
                    if isinstance(spec[0], type)
                    else " or ".join(t.__name__ for t in spec[0])
                )
                raise ConfigError(
                    f"{path}: [{section}] {key} must be a {expected}, got {type(value).__name__} ({value!r})."
                )
    for section in _REQUIRED_SECTIONS:
        if section not in data:
            raise ConfigError(f"{path}: missing required section [{section}].")
        for key, (_, required) in _SCHEMA[section].items():
            if required and key not in data[section]:
                raise ConfigError(f"{path}: missing required key '{key}' in [{section}].")


def _str_list(data: dict[str, Any], section: str, key: str, path: Path) -> tuple[str, ...]:
    values = data.get(section, {}).get(key, [])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{path}: [{section}] {key} must be a list of non-empty names, got {values!r}.")
    return tuple(v.strip() for v in values)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _level(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def _unknown_keys(table: dict[str, Any], known: tuple[str, ...], where: str, path: Path) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key '{key}' in {where}. Known keys: {', '.join(known)}. "
                "Check the spelling or remove it."
            )


def _label(table: dict[str, Any], where: str, path: Path) -> str | None:
    label = table.get("label")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise ConfigError(
            f"{path}: {where}: label must be a non-empty text (the name shown in the reports), got {label!r}."
        )
    return label.strip() if label is not None else None


def _fcs_spec(fcs: dict[str, Any], path: Path) -> FcsSpec:
    where = "[indicators.fcs]"
    _unknown_keys(fcs, ("groups", "weights", "poor", "borderline", "label"), where, path)
    groups = fcs.get("groups")
    if (
        not isinstance(groups, list)
        or len(groups) != 8
        or not all(isinstance(g, str) and g.strip() for g in groups)
    ):
        got = f"{len(groups)} name(s)" if isinstance(groups, list) else repr(groups)
        raise ConfigError(
            f"{path}: {where} groups must list the 8 food groups (questions with the days eaten, "
            f"0-7), as names in quotes, got {got}."
        )
    names = tuple(g.strip() for g in groups)
    twice = next((g for i, g in enumerate(names) if g in names[:i]), None)
    if twice is not None:
        raise ConfigError(
            f"{path}: {where} groups lists '{twice}' twice; name each of the 8 food groups once."
        )
    weights = fcs.get("weights", list(FCS_WEIGHTS))
    if (
        not isinstance(weights, list)
        or len(weights) != 8
        or not all(_is_number(w) and w >= 0 for w in weights)
    ):
        raise ConfigError(
            f"{path}: {where} weights must be 8 numbers of 0 or more, one per group (default: the "
            f"standard {list(FCS_WEIGHTS)}), got {weights!r}."
        )
    poor, borderline = fcs.get("poor", 21), fcs.get("borderline", 35)
    for key, value in (("poor", poor), ("borderline", borderline)):
        if not _is_number(value) or value < 0:
            raise ConfigError(
                f"{path}: {where} {key} must be a score (a number of 0 or more), got {value!r}."
            )
    if poor >= borderline:
        raise ConfigError(
            f"{path}: {where} poor ({poor:g}) must be below borderline ({borderline:g}); the "
            "standard thresholds are 21 and 35."
        )
    return FcsSpec(
        groups=names,
        weights=tuple(float(w) for w in weights),
        poor=float(poor),
        borderline=float(borderline),
        label=_label(fcs, where, path),
    )


def _severity_specs(entries: list[Any], path: Path) -> tuple[SeveritySpec, ...]:
    specs: list[SeveritySpec] = []
    for i, entry in enumerate(entries, start=1):
        where = f"[[indicators.severity]] entry {i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {where} must be a table with 'sector' and 'rules', got {entry!r}.")
        sector = entry.get("sector")
        if not isinstance(sector, str) or not sector.strip():
            raise ConfigError(f"{path}: {where} needs a 'sector' (a short name such as \"wash\").")
        sector = sector.strip()
        if sector == "overall":
            raise ConfigError(
                f"{path}: {where}: sector 'overall' is the worst sector of each household, computed "
                "for you; give this sector another name."
            )
        previous = next((j for j, sp in enumerate(specs, start=1) if sp.sector == sector), None)
        if previous is not None:
            raise ConfigError(
                f"{path}: {where}: sector '{sector}' is already entry {previous}; merge their rules "
                "into one entry."
            )
        where = f"{where} (sector '{sector}')"
        _unknown_keys(entry, ("sector", "rules", "default", "label"), where, path)
        rules = entry.get("rules")
        if not isinstance(rules, list) or not rules:
            raise ConfigError(
                f"{path}: {where} needs a list of 'rules', e.g. rules = [ {{ level = 4, "
                "when = \"${water_source} = 'surface_water'\" } ]."
            )
        parsed = []
        for j, rule in enumerate(rules, start=1):
            at = f"{where}, rule {j}"
            if not isinstance(rule, dict):
                raise ConfigError(
                    f'{path}: {at} must be a table {{ level = ..., when = "..." }}, got {rule!r}.'
                )
            _unknown_keys(rule, ("level", "when"), at, path)
            if not _level(rule.get("level")):
                raise ConfigError(
                    f"{path}: {at}: level must be a whole number from 1 to 5, got {rule.get('level')!r}."
                )
            when = rule.get("when")
            if not isinstance(when, str) or not when.strip():
                raise ConfigError(
                    f'{path}: {at} needs a condition: when = "...", written like an XLSForm '
                    "relevant (e.g. \"${water_source} = 'river'\")."
                )
            try:
                parse(when)
            except Untranslatable as exc:
                raise ConfigError(
                    f'{path}: {at}: the condition "{when}" cannot be read ({exc}); write it like '
                    "an XLSForm relevant, e.g. \"${water_source} = 'river'\"."
                ) from exc
            parsed.append(SeverityRule(level=rule["level"], when=when.strip()))
        default = entry.get("default", 1)
        if not _level(default):
            raise ConfigError(
                f"{path}: {where}: default must be a whole number from 1 to 5 (the severity when no "
                f"rule holds), got {default!r}."
            )
        specs.append(
            SeveritySpec(
                sector=sector, rules=tuple(parsed), default=default, label=_label(entry, where, path)
            )
        )
    return tuple(specs)


_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_INDICATORS = ("fcs_score", "fcs_category")


def _member_specs(entries: list[Any], path: Path) -> tuple[MemberIndicatorSpec, ...]:
    specs: list[MemberIndicatorSpec] = []
    example = 'e.g. name = "children_5_17", repeat = "roster", count = "${age} >= 5 and ${age} <= 17"'
    for i, entry in enumerate(entries, start=1):
        where = f"[[indicators.members]] entry {i}"
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{path}: {where} must be a table with 'name', 'repeat' and one of "
                f"{', '.join(MEMBER_AGGREGATES)}, got {entry!r}."
            )
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name.strip()):
            raise ConfigError(
                f"{path}: {where} needs a 'name' for the new household column: letters, digits and "
                f"underscores, not starting with a digit ({example}), got {name!r}."
            )
        name = name.strip()
        if name in RESERVED_INDICATORS or name.startswith("severity_"):
            raise ConfigError(
                f"{path}: {where}: the name '{name}' is used by a composite indicator; choose another name."
            )
        previous = next((j for j, sp in enumerate(specs, start=1) if sp.name == name), None)
        if previous is not None:
            raise ConfigError(
                f"{path}: {where}: name '{name}' is already entry {previous}; give each entry its own name."
            )
        where = f"{where} ('{name}')"
        _unknown_keys(entry, ("name", "repeat", *MEMBER_AGGREGATES, "label"), where, path)
        repeat = entry.get("repeat")
        if not isinstance(repeat, str) or not repeat.strip():
            raise ConfigError(
                f"{path}: {where} needs 'repeat': the name of the repeat group whose rows are "
                f"counted ({example})."
            )
        given = [k for k in MEMBER_AGGREGATES if k in entry]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise ConfigError(
                f"{path}: {where} needs exactly one of {', '.join(MEMBER_AGGREGATES)} (a condition on "
                f"each row of the repeat), got {what} ({example})."
            )
        aggregate = given[0]
        when = entry[aggregate]
        if not isinstance(when, str) or not when.strip():
            raise ConfigError(
                f"{path}: {where}: {aggregate} must be a condition in quotes, written like an XLSForm "
                f"relevant ({example}), got {when!r}."
            )
        try:
            parse(when)
        except Untranslatable as exc:
            raise ConfigError(
                f'{path}: {where}: the condition "{when}" cannot be read ({exc}); write it like an '
                f"XLSForm relevant ({example})."
            ) from exc
        specs.append(
            MemberIndicatorSpec(
                name=name,
                repeat=repeat.strip(),
                aggregate=aggregate,
                when=when.strip(),
                label=_label(entry, where, path),
            )
        )
    return tuple(specs)


def indicator_specs(section: dict[str, Any], path: Path) -> IndicatorSpecs:
    """The `[indicators]` table of the config file at `path`, checked whole (ConfigError naming the entry)."""
    fcs = section.get("fcs")
    return IndicatorSpecs(
        fcs=_fcs_spec(fcs, path) if fcs is not None else None,
        severity=_severity_specs(section.get("severity", []), path),
        members=_member_specs(section.get("members", []), path),
    )


def _need_answers(table: dict[str, Any], needs: tuple[str, ...], path: Path) -> dict[str, tuple[str, ...]]:
    """`[report.need_answers]`: question -> the choice codes that signal need (checked against the form later)."""
    out: dict[str, tuple[str, ...]] = {}
    for question, codes in table.items():
        where = f"[report.need_answers] {question}"
        if question not in needs:
            known = ", ".join(needs) or "none"
            raise ConfigError(
                f"{path}: {where}: '{question}' is not one of the [needs] questions ({known}); "
                "name a question that is estimated, or remove the line."
            )
        if not isinstance(codes, list) or not all(isinstance(c, str) and c.strip() for c in codes):
            raise ConfigError(
                f"{path}: {where} must be a list of choice codes in quotes, e.g. "
                f'{question} = ["surface_water", "unprotected_well"], got {codes!r}.'
            )
        names = tuple(c.strip() for c in codes)
        twice = next((c for i, c in enumerate(names) if c in names[:i]), None)
        if twice is not None:
            raise ConfigError(f"{path}: {where} lists '{twice}' twice; name each answer once.")
        out[question] = names
    return out


def load_settings(path: str | Path) -> Settings:
    """Read and check `assessment.toml`; paths inside it are relative to the file itself."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"{path}: config file not found. Pass --config PATH, or run `assess demo` to create an example."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc}). Save the file as UTF-8.") from exc
    _check_keys(data, path)
    root = path.resolve().parent

    def rel(value: str | None) -> Path | None:
        if not value:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else root / p

    survey = data["survey"]
    xlsform = rel(survey["xlsform"])
    assert xlsform is not None
    paths = data.get("paths", {})
    design = data.get("design", {})
    if design.get("frame") and design.get("weight"):
        raise ConfigError(
            f"{path}: [design] has both 'frame' and 'weight'. Use a sampling frame (weights are computed) "
            "or an existing weight column, not both."
        )
    if design.get("frame") and not design.get("strata"):
        raise ConfigError(f"{path}: [design] frame is set but 'strata' is not: name the stratum question.")
    validation = data.get("validation", {})
    on_fail = validation.get("on_fail", "quarantine")
    if on_fail not in ("quarantine", "warn"):
        raise ConfigError(f"{path}: [validation] on_fail must be 'quarantine' or 'warn', got {on_fail!r}.")
    policy = dict(validation.get("policy", {}))
    for kind, value in policy.items():
        if kind not in POLICY_KINDS:
            raise ConfigError(
                f"{path}: [validation.policy] unknown rule kind '{kind}'. Known: {', '.join(POLICY_KINDS)}."
            )
        if value not in ("quarantine", "warn"):
            raise ConfigError(f"{path}: [validation.policy] {kind} must be 'quarantine' or 'warn'.")
    window = validation.get("window")
    if window is not None:
        if len(window) != 2 or not all(isinstance(w, str) for w in window):
            raise ConfigError(
                f'{path}: [validation] window must be two dates, e.g. ["2026-11-01", "2026-11-30"].'
            )
        days = []
        for w in window:
            try:
                days.append(date.fromisoformat(w.strip()[:10]))
            except ValueError:
                raise ConfigError(
                    f"{path}: [validation] window: '{w}' is not a date; write dates as YYYY-MM-DD, "
                    'e.g. ["2026-11-01", "2026-11-30"].'
                ) from None
        if days[1] < days[0]:
            raise ConfigError(
                f"{path}: [validation] window ends ({window[1]}) before it starts ({window[0]}); "
                "put the first day of data collection first."
            )
        window = (window[0], window[1])
    expects = []
    for i, item in enumerate(validation.get("expect", []), start=1):
        if not isinstance(item, dict) or "type" not in item:
            raise ConfigError(
                f"{path}: [[validation.expect]] entry {i} needs a 'type' (a Great Expectations expectation, "
                "e.g. 'expect_column_pair_values_a_to_be_greater_than_b')."
            )
        kwargs = {k: v for k, v in item.items() if k not in ("type", "kind")}
        expects.append(
            ExpectSpec(type=str(item["type"]), kwargs=kwargs, kind=str(item.get("kind", "custom")))
        )
    min_cell = data.get("privacy", {}).get("min_cell", 5)
    if min_cell < 1:
        raise ConfigError(f"{path}: [privacy] min_cell must be at least 1, got {min_cell}.")
    missing = data.get("needs", {}).get("missing_codes", [])
    if not all(isinstance(m, int | float) and not isinstance(m, bool) for m in missing):
        raise ConfigError(f"{path}: [needs] missing_codes must be numbers, got {missing!r}.")
    report = data.get("report", {})
    logo = rel(report.get("logo"))
    if logo is not None and not logo.is_file():
        raise ConfigError(
            f"{path}: [report] logo: {logo} not found; put the image there or fix the path "
            "(relative to the config file)."
        )
    plan = rel(data.get("analysis", {}).get("plan"))
    if plan is not None and (not plan.is_file() or plan.suffix.lower() not in (".csv", ".xlsx")):
        raise ConfigError(
            f"{path}: [analysis] plan: {plan} is not a .csv or .xlsx file; put the list of analyses there or "
            "fix the path (relative to the config file)."
        )
    notify = data.get("notify", {})
    schedule = data.get("schedule", {})
    api_url = data.get("prefect", {}).get("api_url", "").strip().rstrip("/") or None
    if api_url is not None and not re.match(r"^https?://[^/\s]+", api_url):
        raise ConfigError(
            f"{path}: [prefect] api_url must be the address of a Prefect server's API, e.g. "
            f'"http://127.0.0.1:4200/api", got {api_url!r}.'
        )
    needs = _str_list(data, "needs", "questions", path)
    levels = _str_list(data, "regions", "levels", path)
    try:
        partners = ps.partner_spec(data["partners"], path, rel) if "partners" in data else None
        boundaries = ps.boundary_specs(report.get("boundaries", {}), levels, path, rel)
        unit = ps.population_unit(design.get("population_unit"), path)
    except ps.ConfigError as exc:
        raise ConfigError(str(exc)) from None
    return Settings(
        config_path=path.resolve(),
        root=root,
        xlsform=xlsform,
        language=survey.get("language") or None,
        round=str(survey.get("round", "1")) or "1",
        id_column=survey.get("id_column") or None,
        title=survey.get("title") or None,
        inbox=rel(paths.get("inbox", "data/raw")) or root / "data/raw",
        processed=rel(paths.get("processed", "data/processed")) or root / "data/processed",
        region_levels=levels,
        needs=needs,
        missing_codes=tuple(float(m) for m in missing),
        frame=rel(design.get("frame")),
        strata=design.get("strata") or None,
        population=design.get("population") or "population",
        cluster=design.get("cluster") or None,
        weight=design.get("weight") or None,
        private=_str_list(data, "privacy", "private", path),
        min_cell=min_cell,
        on_fail=on_fail,
        policy=policy,
        window=window,
        expectations=tuple(expects),
        organisation=report.get("organisation", ""),
        logo=logo,
        need_answers=_need_answers(report.get("need_answers", {}), needs, path),
        cron=schedule.get("cron") or None,
        timezone=schedule.get("timezone") or None,
        webhook=notify.get("webhook") or None,
        notify_command=notify.get("command") or None,
        indicators=indicator_specs(data.get("indicators", {}), path),
        partners=partners,
        population_unit=unit,
        boundaries=boundaries,
        prefect_api_url=api_url,
        plan=plan,
        quality=_quality_spec(data.get("quality", {}), path, _str_list(data, "regions", "levels", path)),
    )


def _quality_spec(quality: dict[str, Any], path: Path, levels: tuple[str, ...]) -> QualitySpec:
    """Check `[quality]` whole: two increasing durations, a positive SD, a known region level."""
    duration = quality.get("duration_minutes", [25, 90])
    if (
        len(duration) != 2
        or not all(_is_number(d) and d >= 0 for d in duration)
        or duration[0] >= duration[1]
    ):
        raise ConfigError(
            f"{path}: [quality] duration_minutes must be two increasing numbers of minutes, e.g. [25, 90]; "
            f"got {duration!r}."
        )
    sd = quality.get("outlier_sd", 3)
    if isinstance(sd, bool) or sd <= 0:
        raise ConfigError(
            f"{path}: [quality] outlier_sd must be a positive number of SDs (e.g. 3), got {sd!r}."
        )
    by = quality.get("outlier_by", "")
    if by and by not in levels:
        raise ConfigError(
            f"{path}: [quality] outlier_by = '{by}' is not one of the [regions] levels "
            f"({', '.join(levels) or 'none'}); name a level or leave it empty."
        )
    max_diff = quality.get("soft_duplicate_max_diff", 7)
    if max_diff < 0:
        raise ConfigError(f"{path}: [quality] soft_duplicate_max_diff must be 0 or more, got {max_diff}.")
    return QualitySpec(
        duration_minutes=(float(duration[0]), float(duration[1])),
        outlier_sd=float(sd),
        outlier_by=by,
        soft_duplicate_max_diff=int(max_diff),
        enumerator=quality.get("enumerator", ""),
    )
