"""Render checks at send time, and render errors as API errors.

Preview and the send pipeline render through the channel specs (`ccm.channels`), so what a marketer
previews is what is sent; this module only makes sure a send would render before it is accepted.
"""

from __future__ import annotations

from typing import Any

from ccm.channels import RenderOptions, channel_keys, get_channel
from ccm.channels.bounded import bounded, check_lane, render_sources_many
from ccm.channels.library import library_of
from ccm.engagement.feedback import stand_in_survey
from ccm.errors import Unprocessable
from ccm.settings import Settings
from renderers.errors import MissingVariableError, RenderError, RenderLimitExceeded


def sources_for(parts: dict[str, Any], channels: list[str]) -> list[tuple[str, str]]:
    """Every Jinja source a send on `channels` will render, named by where it sits in the template."""
    sources: list[tuple[str, str]] = []
    for channel in [key for key in channel_keys() if key in channels]:
        if parts.get(channel):
            sources += [s for s in get_channel(channel).sources(parts) if s not in sources]
    return sources


def check_renders(
    settings: Settings,
    category: str,
    parts: dict[str, Any],
    channels: list[str],
    context: dict[str, Any],
    options: RenderOptions,
) -> None:
    """Render every Jinja source now, in the render pool, so a missing variable is a 422 at the API, not a
    failed send, and a template that burns is stopped here under the render limits.

    Variables the service adds at send time (the unsubscribe link) get a realistic stand-in here.
    """
    [failure] = check_renders_each(settings, category, [(parts, channels, context, options)])
    if failure is not None:
        raise failure


def check_renders_each(
    settings: Settings,
    category: str,
    checks: list[tuple[dict[str, Any], list[str], dict[str, Any], RenderOptions]],
) -> list[Unprocessable | None]:
    """The same check for many sends of one category — (parts, channels, context, options) each — in one
    call to that category's check lane: each one's 422, or None. A limit stops the whole call; it is
    charged to every send in it."""
    batch = [
        (sources_for(parts, channels), with_stand_ins(settings, context), options, library_of(parts))
        for parts, channels, context, options in checks
    ]
    if not batch:
        return []
    try:
        failures = bounded(settings, check_lane(category), render_sources_many, batch)
    except RenderError as error:
        return [as_api_error(error, error.field or "template")] * len(batch)
    return [None if f is None else as_api_error(f, f.field or "template") for f in failures]


def with_stand_ins(settings: Settings, context: dict[str, Any]) -> dict[str, Any]:
    """The context plus what the service adds at send time, shaped as the real thing would be."""
    stand_ins = {
        "unsubscribe_url": f"{settings.base_url}/u/check",
        "preferences_url": f"{settings.base_url}/p/check",
        "view_in_browser_url": f"{settings.base_url}/v/check",
        "survey": stand_in_survey(settings.base_url),
    }
    return {**stand_ins, **context}


def as_api_error(error: RenderError, where: str) -> Unprocessable:
    if isinstance(error, RenderLimitExceeded):
        field = where if where.startswith("parts.") else f"parts.{where}"
        return Unprocessable(
            f"{where}: {error.message}", field=field, code="render_limit", extra={"limit": error.limit}
        )
    if isinstance(error, MissingVariableError):
        return Unprocessable(
            f"missing variable '{error.variable}' (used in {where})",
            field=f"data.{error.variable}",
            code="missing_variable",
        )
    return Unprocessable(f"{where}: {error.message}", field=where, code="render_failed")
