"""The WeasyPrint URL fetcher: a PDF may load only the templates, the run's chart files and the logo.

Anything else, including a URL typed into a survey answer, is refused (`FetchRefused`).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


def _fetcher_base():  # imported lazily: WeasyPrint is slow to import and only needed when rendering
    from weasyprint.urls import URLFetcher

    return URLFetcher


class FetchRefused(ValueError):
    """WeasyPrint asked for a resource outside the allow-list."""


def make_fetcher(roots: list[str], files: list[str]):
    """A WeasyPrint URL fetcher that serves only files under `roots` or listed in `files`.

    Everything else (http, https, ftp, data:, other local files, symlinks leading out) is refused.
    `fetcher.requested` records every URL asked for, so tests can prove what was (not) fetched.
    """
    base = _fetcher_base()

    class SafeFetcher(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"file"})
            self.roots = [Path(r).resolve() for r in roots]
            self.files = {Path(f).resolve() for f in files}
            self.requested: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            from weasyprint.urls import URLFetcherResponse

            self.requested.append(url)
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise FetchRefused(f"refused: {url[:80]}")
            path = Path(unquote(parts.path)).resolve()
            allowed = path in self.files or any(path.is_relative_to(r) for r in self.roots)
            if not allowed or not path.is_file():
                raise FetchRefused(f"refused: {url[:80]}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime})

    return SafeFetcher()
