"""Builds the exact bytes a message is sent as, by its channel's spec.

Everything here is a pure function of the message, its template version and the service's secrets, so the
same inputs give the same bytes: the worker composes with it before archiving, and a re-render composes
again to prove the archived bytes. It sits below both, and takes plain values (`ComposableMessage`).

What else the bytes depend on (the base URL of tracked links and the token key that signs them, the
senders, the PDF variant, the PDF assets, the renderers' versions) is `render_inputs`: the worker keeps it
in the message's sealed snapshot, and a re-render years later composes with it (`recorded_settings`)
rather than with the settings of that day, and names what changed when the bytes do not match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ccm.channels.spec import (
    ComposableMessage,
    ComposeContext,
    Composed,
    RenderOptions,
    all_channels,
    get_channel,
    is_channel,
)
from ccm.settings import Settings
from delivery import DkimKeyring, DkimSigner

RENDERER_DISTRIBUTIONS = ("jinja2", "babel", "mjml-python", "css-inline", "weasyprint", "pydyf", "typst")
"""The libraries whose versions shape the bytes: templates, locale data, MJML (MRML), CSS inlining, PDF
layout and PDF writing (WeasyPrint and pydyf; Typst, which bundles its compiler and fonts)."""

_AssetStamp = tuple[tuple[str, int, int], ...]
_asset_cache: dict[Path, tuple[_AssetStamp, dict[str, str]]] = {}


def compose(message: ComposableMessage, parts: dict[str, Any], ctx: ComposeContext) -> Composed:
    """The exact bytes of `message`; emails are DKIM-signed here, so the archive holds the signed bytes."""
    return get_channel(message.channel).compose(message, parts, ctx, compose_options(message, ctx))


def compose_options(message: ComposableMessage, ctx: ComposeContext) -> RenderOptions:
    """How `message` renders: its customer's locale and time zone, the assets, the PDF variant, its date."""
    customer = message.context.get("customer", {})
    return RenderOptions(
        locale=str(customer.get("locale") or "en"),
        timezone=str(customer.get("timezone") or "UTC"),
        assets_dir=ctx.settings.assets_dir,
        pdf_variant=ctx.settings.pdf_variant,
        created=message.created_at,
    )


def dkim_keyring(settings: Settings) -> DkimKeyring | None:
    """The DKIM signer of the sending domain, when one is configured; emails are signed before archiving."""
    if not (settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key_file):
        return None
    pem = settings.dkim_private_key_file.read_bytes()
    return DkimKeyring([DkimSigner(settings.dkim_domain, settings.dkim_selector, pem)])


def render_inputs(ctx: ComposeContext) -> dict[str, Any]:
    """What a message composed with `ctx` depends on besides its template version and data (JSON)."""
    settings = ctx.settings
    return {
        "base_url": ctx.links.base_url,
        "token_key_id": ctx.links.token_key_id,
        "senders": {s.key: s.sender(settings) for s in all_channels() if s.sender_settings},
        "pdf_variant": settings.pdf_variant,
        "assets": asset_digests(settings.assets_dir),
        "renderers": renderer_versions(),
    }


def recorded_settings(settings: Settings, inputs: Mapping[str, Any]) -> Settings:
    """`settings` with the base URL, senders and PDF variant a message was composed under put back."""
    update = {name: inputs[name] for name in ("base_url", "pdf_variant") if name in inputs}
    for key, sender in dict(inputs.get("senders") or {}).items():
        if is_channel(key):
            update.update(dict.fromkeys(get_channel(key).sender_settings, sender))
    return settings.model_copy(update=update)


def asset_digests(assets_dir: Path, *, cached: bool = True) -> dict[str, str]:
    """SHA-256 of every file under `assets_dir` (what PDFs may embed), by path relative to it.

    Every composed message records these, so by default a file is hashed again only when its size or
    modification time changed; `cached=False` reads every file (a re-render checks, it does not trust).
    """
    files = sorted(p for p in assets_dir.rglob("*") if p.is_file()) if assets_dir.is_dir() else []
    stats = [(p, p.stat()) for p in files]
    stamp = tuple((p.relative_to(assets_dir).as_posix(), s.st_size, s.st_mtime_ns) for p, s in stats)
    known = _asset_cache.get(assets_dir)
    if cached and known is not None and known[0] == stamp:
        return dict(known[1])
    digests = {
        p.relative_to(assets_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }
    _asset_cache[assets_dir] = (stamp, digests)
    return dict(digests)


@cache
def _installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def renderer_versions() -> dict[str, str | None]:
    """The installed version of each of `RENDERER_DISTRIBUTIONS` (None: not installed)."""
    return {name: _installed(name) for name in RENDERER_DISTRIBUTIONS}
