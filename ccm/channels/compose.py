"""Builds the exact bytes a message is sent as, by its channel's spec.

Everything here is a pure function of the message, its template version and the service's secrets, so the
same inputs give the same bytes: the worker composes with it before archiving, and a re-render composes
again to prove the archived bytes. It sits below both, and takes plain values (`ComposableMessage`).
"""

from __future__ import annotations

from typing import Any

from ccm.channels.spec import ComposableMessage, ComposeContext, Composed, RenderOptions, get_channel
from ccm.settings import Settings
from delivery import DkimKeyring, DkimSigner


def compose(message: ComposableMessage, parts: dict[str, Any], ctx: ComposeContext) -> Composed:
    """The exact bytes of `message`; emails are DKIM-signed here, so the archive holds the signed bytes."""
    customer = message.context.get("customer", {})
    options = RenderOptions(
        locale=str(customer.get("locale") or "en"),
        timezone=str(customer.get("timezone") or "UTC"),
        assets_dir=ctx.settings.assets_dir,
        pdf_variant=ctx.settings.pdf_variant,
        created=message.created_at,
    )
    return get_channel(message.channel).compose(message, parts, ctx, options)


def dkim_keyring(settings: Settings) -> DkimKeyring | None:
    """The DKIM signer of the sending domain, when one is configured; emails are signed before archiving."""
    if not (settings.dkim_domain and settings.dkim_selector and settings.dkim_private_key_file):
        return None
    pem = settings.dkim_private_key_file.read_bytes()
    return DkimKeyring([DkimSigner(settings.dkim_domain, settings.dkim_selector, pem)])
