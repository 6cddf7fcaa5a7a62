"""One settings object per assessment, read from `assessment.toml`.

Built once at the edge (CLI or flow) and passed down. Every user mistake in the file becomes a
`ConfigError` naming the file, the key and what to do; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import POLICY_KINDS

DEFAULT_ID_COLUMNS = ("_uuid", "meta-instanceID", "meta/instanceID", "KEY", "instanceID", "uuid")


class ConfigError(Exception):
    """A problem with the assessment configuration that the user must fix (exit code 2)."""


@dataclass(frozen=True)
class ExpectSpec:
    type: str
    kwargs: dict[str, Any]
    kind: str = "custom"


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
    policy: dict[str, str] = field(default_factory=dict)
    window: tuple[str, str] | None = None
    expectations: tuple[ExpectSpec, ...] = ()
    organisation: str = ""
    logo: Path | None = None
    cron: str | None = None
    timezone: str | None = None
    webhook: str | None = None
    notify_command: str | None = None
    indicators: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

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
    },
    "privacy": {"private": (list, False), "min_cell": (int, False)},
    "validation": {
        "on_fail": (str, False),
        "window": (list, False),
        "policy": (dict, False),
        "expect": (list, False),
    },
    "report": {"organisation": (str, False), "logo": (str, False)},
    "schedule": {"cron": (str, False), "timezone": (str, False)},
    "notify": {"webhook": (str, False), "command": (str, False)},
    "indicators": {"fcs": (dict, False), "severity": (list, False)},
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
                expected = spec[0].__name__ if isinstance(spec[0], type) else " or ".join(t.__name__ for t in spec[0])
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
            raise ConfigError(f'{path}: [validation] window must be two dates, e.g. ["2026-11-01", "2026-11-30"].')
        window = (window[0], window[1])
    expects = []
    for i, item in enumerate(validation.get("expect", []), start=1):
        if not isinstance(item, dict) or "type" not in item:
            raise ConfigError(
                f"{path}: [[validation.expect]] entry {i} needs a 'type' (a Great Expectations expectation, "
                "e.g. 'expect_column_pair_values_a_to_be_greater_than_b')."
            )
        kwargs = {k: v for k, v in item.items() if k not in ("type", "kind")}
        expects.append(ExpectSpec(type=str(item["type"]), kwargs=kwargs, kind=str(item.get("kind", "custom"))))
    min_cell = data.get("privacy", {}).get("min_cell", 5)
    if min_cell < 1:
        raise ConfigError(f"{path}: [privacy] min_cell must be at least 1, got {min_cell}.")
    missing = data.get("needs", {}).get("missing_codes", [])
    if not all(isinstance(m, int | float) and not isinstance(m, bool) for m in missing):
        raise ConfigError(f"{path}: [needs] missing_codes must be numbers, got {missing!r}.")
    report = data.get("report", {})
    notify = data.get("notify", {})
    schedule = data.get("schedule", {})
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
        region_levels=_str_list(data, "regions", "levels", path),
        needs=_str_list(data, "needs", "questions", path),
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
        logo=rel(report.get("logo")),
        cron=schedule.get("cron") or None,
        timezone=schedule.get("timezone") or None,
        webhook=notify.get("webhook") or None,
        notify_command=notify.get("command") or None,
        indicators=dict(data.get("indicators", {})),
        raw=data,
    )
