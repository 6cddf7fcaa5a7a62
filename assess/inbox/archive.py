"""The archive: every dropped file copied, hash-verified and read-only, before anything reads it.

Content-addressed (`archive/<sha[:2]>/<sha><suffix>`), so the same file dropped twice is stored once. It is
the only place that keeps respondents' names and phones: nothing a coordinator dropped is ever lost.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class FileChanged(OSError):
    """The dropped file changed while it was being copied (still being written); try again later."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_file(path: Path, sha: str, archive_dir: Path) -> Path:
    """Copy a dropped file into the content-addressed archive (never modified afterwards).

    The copy is hashed as it is written: if its content is not `sha` (the file changed since it was
    hashed), nothing is archived and FileChanged is raised, so the archive never holds a half-written file.
    """
    suffix = "".join(Path(path).suffixes[-1:]).lower()[:10]
    target = archive_dir / sha[:2] / f"{sha}{suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if h.hexdigest() != sha:
            raise FileChanged(f"{Path(path).name} changed while it was being copied")
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
