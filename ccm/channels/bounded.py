"""Every render of an author's template goes through here: in the render pool, under the limits.

Preview, the send-time check, campaign checks, the worker's compose and re-render all call these, so an
author's loop, padding or page bomb is stopped the same way everywhere (`RenderLimitExceeded`, naming the
limit). One pool per OS process, started on first use; `CCM_RENDER_ISOLATION=inline` renders in-process
(tests and tools). Functions are sent to the pool by reference, so what runs there is a spec's module-level
function, never a closure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ccm.channels.compose import compose_options
from ccm.channels.spec import (
    ComposableMessage,
    ComposeContext,
    Composed,
    RenderOptions,
    Tracking,
    get_channel,
)
from ccm.settings import Settings
from renderers.environment import render_text
from renderers.errors import RenderError
from renderers.limits import OutputLimits
from renderers.pool import RenderLimits, RenderPool, run_inline

T = TypeVar("T")
PREVIEW = "preview"
"""The render lane of authoring (previews, lint, re-render): a person waiting on a page. Send-time checks
have lanes of their own (`check_lane`) and the worker renders a message in its category's lane, so an
author's burning preview delays no send and a marketing render no one-time code."""


def check_lane(category: str) -> str:
    """The render lane of send-time checks for `category`: a one-time code's check never queues behind a
    marketing check or a preview."""
    return f"check-{category}"


PRELOAD = ["ccm.channels", "ccm.channels.bounded"]

_pools: dict[tuple[int, RenderLimits, int], RenderPool] = {}
_lock = threading.Lock()


def limits_of(settings: Settings) -> RenderLimits:
    output = OutputLimits(
        pdf_pages=settings.pdf_max_pages,
        email_bytes=settings.email_max_bytes,
        sms_segments=settings.sms_max_segments,
    )
    return RenderLimits(
        cpu_seconds=settings.render_cpu_seconds,
        timeout_seconds=settings.render_timeout_seconds,
        memory_mb=settings.render_memory_mb,
        output=output,
    )


def render_pool(settings: Settings) -> RenderPool | None:
    """This process's pool for these limits (None when renders run inline)."""
    if settings.render_isolation == "inline":
        return None
    key = (os.getpid(), limits_of(settings), settings.render_processes)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = RenderPool(key[1], processes_per_lane=key[2], preload=PRELOAD)
        return pool


def bounded(settings: Settings, lane: str, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the pool's `lane`, or inline when isolation is off."""
    pool = render_pool(settings)
    if pool is None:
        return run_inline(function, *args, output=limits_of(settings).output)
    return pool.run(lane, function, *args)


def warm_render_pool(settings: Settings, lanes: Sequence[str]) -> None:
    """Start these lanes' processes in the background, so their first render does not wait for them."""
    pool = render_pool(settings)
    if pool is not None:
        threading.Thread(target=pool.warm, args=(tuple(lanes),), name="ccm-render-warm", daemon=True).start()


@dataclass(frozen=True)
class MessageFacts:
    """A message as plain values, for sending to a render process (an outbox row does not travel)."""

    id: str
    channel: str
    category: str
    template_key: str
    recipient: str
    context: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, message: ComposableMessage) -> MessageFacts:
        return cls(
            message.id,
            message.channel,
            message.category,
            message.template_key,
            message.recipient,
            dict(message.context),
            message.created_at,
        )


def compose_bounded(
    settings: Settings, lane: str, message: ComposableMessage, parts: dict[str, Any], ctx: ComposeContext
) -> Composed:
    """The exact bytes of `message`, composed in the render pool by its spec's own function (sent by
    reference, so a channel registered at run time composes there too)."""
    spec = get_channel(message.channel)
    options = compose_options(message, ctx)
    return bounded(settings, lane, spec.compose, MessageFacts.of(message), parts, ctx, options)


def render_bounded(
    settings: Settings, channel: str, parts: dict[str, Any], context: dict[str, Any], options: RenderOptions
) -> Any:
    """One channel's part rendered for a preview (no tracking), in the preview lane."""
    return bounded(settings, PREVIEW, get_channel(channel).render, parts, context, options, Tracking())


def render_sources(
    sources: list[tuple[str, str]],
    context: dict[str, Any],
    options: RenderOptions,
    library: dict[str, str] | None = None,
) -> None:
    """Runs in the pool: every source rendered once (includes reach `library` only, the version's pinned
    layout and partials); the first failure is raised with where it sits."""
    for where, source in sources:
        try:
            render_text(source, context, locale=options.locale, timezone=options.timezone, library=library)
        except RenderError as error:
            error.field = where
            raise


def render_sources_many(
    checks: list[tuple[list[tuple[str, str]], dict[str, Any], RenderOptions, dict[str, str]]],
) -> list[RenderError | None]:
    """Runs in the pool: a batch of recipients' checks in one call; each one's failure, or None."""
    failures: list[RenderError | None] = []
    for sources, context, options, library in checks:
        try:
            render_sources(sources, context, options, library)
        except RenderError as error:
            failures.append(error)
        else:
            failures.append(None)
    return failures
