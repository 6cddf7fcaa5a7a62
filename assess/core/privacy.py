"""Personal data: which columns are private, and the keyed hash that replaces them in the store."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .settings import Settings
from .xlsform import XLSForm

# Export metadata columns that identify enumerators, devices or places.
PERSONAL_METADATA = (
    "_submitted_by",
    "SubmitterName",
    "SubmitterID",
    "DeviceID",
    "deviceid",
    "_geolocation",
    "username",
    "phonenumber",
    "simserial",
    "subscriberid",
    "_attachments",
    "instanceName",
    "meta-instanceName",
)
REDACTED = "[redacted]"


def private_questions(form: XLSForm, settings: Settings) -> set[str]:
    """Question names (or extra export columns) never to be shown: config list + form `private` column."""
    names = {q.name for q in form.questions.values() if q.private}
    names.update(settings.private)
    return names


# An exporter's own metadata column whose name a form question also uses (ODK Central's `DeviceID` beside a
# `deviceid` question; DuckDB ignores case) is kept under its name plus this suffix.
METADATA_COPY_SUFFIX = "__meta"


def is_private_column(name: str, owner: str | None, private: set[str]) -> bool:
    bare = name.removesuffix(METADATA_COPY_SUFFIX)
    return name in private or (owner is not None and owner in private) or bare in PERSONAL_METADATA


def key_file() -> Path:
    """Default key file: in the user's config folder, never inside data/processed (which gets shared)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "assess" / "hash_key"


def hash_key() -> str:
    """Key for the keyed hash: ASSESS_HASH_KEY, else a 0600 key file in ~/.config/assess (created once).

    Workers on several machines must share the key (set ASSESS_HASH_KEY) for their hashes to agree.
    """
    env = os.environ.get("ASSESS_HASH_KEY")
    if env:
        return env
    path = key_file()
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
