"""PDF rendering with WeasyPrint: Jinja first, then layout with a fetcher that only reaches the assets folder.

Assets convention: reference assets by a relative URL, e.g. `<img src="logo.svg">` or
`url(fonts/inter.woff2)`. Relative URLs resolve against `ASSET_BASE_URL`, which maps to `assets_dir`
(symlinks and `..` resolved; nothing outside it). `data:` URIs are allowed. Any other URL (file:, http:,
https:) makes the render fail with UnsafeTemplateError naming the URL. `css` is static (not Jinja).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import weasyprint
from weasyprint.pdf import VARIANTS
from weasyprint.urls import FatalURLFetchingError

from renderers.environment import check_syntax, render_text
from renderers.errors import RenderError, RenderLimitExceeded, UnsafeTemplateError
from renderers.library import with_layout
from renderers.limits import check_pdf_pages, pdf_page_limit
from renderers.pdf_fetcher import ASSET_BASE_URL, AssetFetcher, RefusedFetch


@dataclass(frozen=True)
class PdfTemplate:
    """An HTML document (Jinja) and an optional static stylesheet with the `@page` rules."""

    html: str
    css: str | None = None
    library: Mapping[str, str] = field(default_factory=dict, hash=False)
    """The pinned partials by key, and layouts (`renderers.library`); includes reach only these."""
    layout: str | None = None
    """The library entry wrapping the HTML, whose `content` block the HTML is (None: no layout)."""

    def source(self) -> str:
        return with_layout(self.html, self.layout)


@dataclass(frozen=True)
class RenderedPdf:
    """The PDF bytes and their page count (for billing, postage and checks)."""

    data: bytes
    pages: int


def _w3c(moment: datetime) -> str:
    """WeasyPrint takes metadata dates as W3C strings; naive datetimes are taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def _refusal(fetcher: AssetFetcher, exc: BaseException) -> RenderError:
    """A forbidden URL is UnsafeTemplateError; a missing asset is a plain RenderError."""
    refused = exc if isinstance(exc, RefusedFetch) else next(iter(fetcher.refused), None)
    if refused is None:
        return RenderError(f"PDF resource could not be fetched: {exc}", field="pdf")
    error = UnsafeTemplateError if refused.unsafe else RenderError
    return error(f"{refused.reason}: {refused.url}", field="pdf")


_PROGRESS = logging.getLogger("weasyprint.progress")
_PAGE_STEP = "Step 5 - Creating layout - Page %d"
_watching = threading.Lock()
_watchers = 0
_level_before = logging.NOTSET


class _PageWatch(logging.Filter):
    """Stops a layout at the first page over the limit, not after thousands: WeasyPrint lays out every page
    before it returns the document, and announces each one on its documented progress logger."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if record.msg == _PAGE_STEP and isinstance(record.args, tuple) else ()
        page = args[0] if args else None
        if record.thread == self.thread and isinstance(page, int) and page > self.limit:
            message = f"the document has more than {self.limit} pages; at most {self.limit} are allowed"
            raise RenderLimitExceeded("pdf_pages", message)
        return _level_before != logging.NOTSET and record.levelno >= _level_before


@contextmanager
def _pages_watched() -> Iterator[None]:
    global _watchers, _level_before
    limit = pdf_page_limit()
    if limit is None:
        yield
        return
    watch = _PageWatch(limit)
    with _watching:
        _watchers += 1
        if _watchers == 1:  # INFO is switched on for the watch only; the records stay out of the logs
            _level_before = _PROGRESS.level
            _PROGRESS.setLevel(logging.INFO)
        _PROGRESS.addFilter(watch)
    try:
        yield
    finally:
        with _watching:
            _PROGRESS.removeFilter(watch)
            _watchers -= 1
            if _watchers == 0:
                _PROGRESS.setLevel(_level_before)


def _layout(html: str, css: str | None, fetcher: AssetFetcher) -> Any:
    """Parse and lay out; a refused fetch arrives as a BaseException and becomes UnsafeTemplateError."""
    try:
        document = weasyprint.HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher)
        sheets = [weasyprint.CSS(string=css, base_url=ASSET_BASE_URL, url_fetcher=fetcher)] if css else []
        with _pages_watched():
            return document.render(stylesheets=sheets)
    except RenderLimitExceeded:
        raise
    except FatalURLFetchingError as exc:
        raise _refusal(fetcher, exc) from None
    except Exception as exc:  # WeasyPrint's own failures: report them, never crash the worker
        raise RenderError(f"PDF layout failed: {type(exc).__name__}: {exc}", field="pdf") from exc


def render_pdf(
    template: PdfTemplate,
    context: Mapping[str, Any],
    *,
    locale: str = "en",
    timezone: str = "UTC",
    assets_dir: Path | None = None,
    pdf_variant: str | None = None,
    created: datetime | None = None,
) -> RenderedPdf:
    """Render one personalised PDF; with `created` set the same inputs give byte-identical output."""
    if pdf_variant is not None and pdf_variant not in VARIANTS:
        raise RenderError(f"unknown PDF variant {pdf_variant!r}", field="pdf_variant")
    try:
        html = render_text(
            template.source(),
            context,
            locale=locale,
            timezone=timezone,
            autoescape=True,
            library=template.library,
        )
    except RenderError as exc:
        exc.field = exc.field or "pdf"
        raise
    fetcher = AssetFetcher(assets_dir)
    document = _layout(html, template.css, fetcher)
    check_pdf_pages(len(document.pages))
    if fetcher.refused:  # in case some WeasyPrint code path caught the refusal and only logged it
        raise _refusal(fetcher, fetcher.refused[0])
    if created is not None:
        document.metadata.created = document.metadata.modified = _w3c(created)
    try:
        data = document.write_pdf(pdf_variant=pdf_variant)
    except FatalURLFetchingError as exc:
        raise _refusal(fetcher, exc) from None
    return RenderedPdf(data=bytes(data), pages=len(document.pages))


def check_pdf_template(template: PdfTemplate) -> None:
    """Syntax-check the HTML part at save time (the CSS is static and checked by rendering a sample)."""
    try:
        check_syntax(template.source(), template.library)
    except RenderError as exc:
        exc.field = exc.field or "pdf"
        raise
