"""Limits on what one render may produce, checked by the renderers themselves as soon as they know.

The caller sets them for the duration of a render (`bounded_output`); outside it nothing is limited, so
the renderers stay usable on their own. A render over a limit raises `RenderLimitExceeded` naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from renderers.errors import RenderLimitExceeded


@dataclass(frozen=True)
class OutputLimits:
    pdf_pages: int | None = None
    email_bytes: int | None = None
    sms_segments: int | None = None


_UNLIMITED = OutputLimits()
_ACTIVE: ContextVar[OutputLimits] = ContextVar("ccm_output_limits", default=_UNLIMITED)


@contextmanager
def bounded_output(limits: OutputLimits) -> Iterator[None]:
    token = _ACTIVE.set(limits)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def pdf_page_limit() -> int | None:
    return _ACTIVE.get().pdf_pages


def check_pdf_pages(pages: int) -> None:
    """Called after layout, before the (expensive) PDF is written."""
    limit = _ACTIVE.get().pdf_pages
    if limit is not None and pages > limit:
        raise RenderLimitExceeded("pdf_pages", f"the document has {pages} pages; at most {limit} are allowed")


def check_email_bytes(html: str) -> None:
    limit = _ACTIVE.get().email_bytes
    size = len(html.encode("utf-8", "surrogatepass"))
    if limit is not None and size > limit:
        raise RenderLimitExceeded(
            "email_bytes", f"the email's HTML is {size} bytes; at most {limit} are allowed"
        )


def check_sms_segments(segments: int) -> None:
    limit = _ACTIVE.get().sms_segments
    if limit is not None and segments > limit:
        raise RenderLimitExceeded(
            "sms_segments", f"the SMS takes {segments} segments; at most {limit} are allowed"
        )
