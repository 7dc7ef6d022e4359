"""The only way WeasyPrint may load anything: `data:` URIs and files inside the template's assets folder."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

#: Base URL of every PDF render: a relative `logo.svg` becomes `https://assets.ccm.invalid/logo.svg`,
#: which this fetcher maps into the assets folder. `.invalid` can never resolve on the network.
ASSET_BASE_URL = "https://assets.ccm.invalid/"


def asset_location(root: Path, url: str) -> Path | None:
    """Where an asset URL (`ASSET_BASE_URL` + a path) points inside `root`, a resolved folder (symlinks
    and `..` resolved first); None when it names the folder itself or a place outside it."""
    relative = unquote(urlsplit(url).path).lstrip("/")
    path = (root / relative).resolve()
    return path if relative and path.is_relative_to(root) else None


class RefusedFetch(FatalURLFetchingError):  # type: ignore[misc]
    """Stops the render (BaseException, not a warning) when a template reaches for a forbidden URL."""

    def __init__(self, url: str, reason: str, *, unsafe: bool = True) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason
        self.unsafe = unsafe


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Allows `data:` and files under `assets_dir` (symlinks and `..` resolved first); refuses the rest."""

    def __init__(self, assets_dir: Path | None) -> None:
        super().__init__(fail_on_errors=True, allow_redirects=False)
        self.root = assets_dir.resolve() if assets_dir is not None else None
        self.refused: list[RefusedFetch] = []

    def _refuse(self, url: str, reason: str, *, unsafe: bool = True) -> RefusedFetch:
        error = RefusedFetch(url, reason, unsafe=unsafe)
        self.refused.append(error)
        return error

    def _asset_path(self, url: str) -> Path:
        if self.root is None:
            raise self._refuse(url, "no assets folder for this template")
        path = asset_location(self.root, url)
        if path is None:
            raise self._refuse(url, "asset outside the assets folder")
        if not path.is_file():
            raise self._refuse(url, "asset not found", unsafe=False)
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve `data:` and assets; anything else raises RefusedFetch, which WeasyPrint does not swallow."""
        if url.lower().startswith("data:"):
            return super().fetch(url, headers)
        if not url.startswith(ASSET_BASE_URL):
            raise self._refuse(url, "fetching this URL is not allowed")
        path = self._asset_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})
