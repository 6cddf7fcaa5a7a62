"""Safe file names built from what users give us (export names, region labels)."""

from __future__ import annotations

import os
import re


def safe_name(name: str, limit: int = 80) -> str:
    """A file-system safe rendering of a user's file name (no path parts, no control characters)."""
    base = os.path.basename(name.replace("\\", "/"))
    base = re.sub(r"[^\w.\- ]+", "_", base, flags=re.UNICODE).strip(" .") or "file"
    # at most `limit` characters and 2 * `limit` bytes: names built from it must stay under 255 bytes
    return base[:limit].encode("utf-8")[: 2 * limit].decode("utf-8", errors="ignore")


def label_file_name(label: str) -> str:
    """A file name from a label: letters (any script), digits, '-' and '_' only."""
    return re.sub(r"[^\w\-]+", "-", label, flags=re.UNICODE).strip("-_.")[:80]


def receipt_stem(file: str, sha256: str) -> str:
    """`<file>.<sha12>`: the receipt of one dropped file (names stay far below 255 bytes)."""
    base = re.sub(r"[^\w.\-]+", "_", os.path.basename(file.replace("\\", "/"))).strip("._") or "file"
    base = base[:60].encode("utf-8")[:120].decode("utf-8", errors="ignore")
    return f"{base}.{sha256[:12] or 'nohash'}"
