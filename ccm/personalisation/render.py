"""Render checks at send time, and render errors as API errors.

Preview and the send pipeline render through the channel specs (`ccm.channels`), so what a marketer
previews is what is sent; this module only makes sure a send would render before it is accepted.
"""

from __future__ import annotations

from typing import Any

from ccm.channels import RenderOptions, channel_keys, get_channel
from ccm.errors import Unprocessable
from renderers.environment import render_text
from renderers.errors import MissingVariableError, RenderError


def sources_for(parts: dict[str, Any], channels: list[str]) -> list[tuple[str, str]]:
    """Every Jinja source a send on `channels` will render, named by where it sits in the template."""
    sources: list[tuple[str, str]] = []
    for channel in [key for key in channel_keys() if key in channels]:
        if parts.get(channel):
            sources += [s for s in get_channel(channel).sources(parts) if s not in sources]
    return sources


def check_renders(
    parts: dict[str, Any], channels: list[str], context: dict[str, Any], options: RenderOptions
) -> None:
    """Render every Jinja source now (cheap), so a missing variable is a 422 at the API, not a failed send.

    Variables the service adds at send time (the unsubscribe link) get a stand-in here.
    """
    checked = {"unsubscribe_url": "https://unsubscribe.invalid/", **context}
    for where, source in sources_for(parts, channels):
        try:
            render_text(source, checked, locale=options.locale, timezone=options.timezone)
        except RenderError as error:
            raise as_api_error(error, where) from error


def as_api_error(error: RenderError, where: str) -> Unprocessable:
    if isinstance(error, MissingVariableError):
        return Unprocessable(
            f"missing variable '{error.variable}' (used in {where})",
            field=f"data.{error.variable}",
            code="missing_variable",
        )
    return Unprocessable(f"{where}: {error.message}", field=where, code="render_failed")
