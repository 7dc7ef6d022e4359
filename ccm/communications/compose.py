"""Builds the exact bytes a message is sent as: the .eml, the SMS JSON, or the PDF document.

Everything here is a pure function of the message row, its template version and the service's secret,
so the same inputs give the same bytes (which is what makes a later re-render check possible).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ccm.communications.models import Message
from ccm.engagement.links import EngagementLinks
from ccm.personalisation.render import (
    RenderOptions,
    Tracking,
    render_email_part,
    render_pdf_part,
    render_sms_part,
)
from ccm.settings import Settings, SmsProviderName
from delivery import DkimKeyring
from renderers.mime import Attachment, build_email_message


@dataclass(frozen=True)
class Composed:
    payload: bytes
    content_type: str
    sender: str


def compose(
    message: Message,
    parts: dict[str, Any],
    settings: Settings,
    links: EngagementLinks,
    dkim: DkimKeyring | None = None,
) -> Composed:
    """The exact bytes of `message`; emails are DKIM-signed here, so the archive holds the signed bytes."""
    options = RenderOptions(
        locale=str(message.context.get("customer", {}).get("locale") or "en"),
        timezone=str(message.context.get("customer", {}).get("timezone") or "UTC"),
        assets_dir=settings.assets_dir,
        pdf_variant=settings.pdf_variant,
        created=message.created_at,
    )
    if message.channel == "email":
        composed = _compose_email(message, parts, settings, links, options)
        if dkim is not None:
            composed = Composed(dkim.sign(composed.payload), composed.content_type, composed.sender)
        return composed
    if message.channel == "sms":
        return _compose_sms(message, parts, settings, options)
    document = render_pdf_part(parts, message.context, options)
    return Composed(document.data, "application/pdf", sender=sender_for(message.channel, settings))


def sender_for(channel: str, settings: Settings) -> str:
    """Who a message on `channel` is sent from, by the settings in force."""
    if channel == "email":
        return settings.email_from
    if channel == "sms":
        twilio = settings.sms_provider is SmsProviderName.TWILIO
        return (settings.twilio_from if twilio else settings.sms_from) or ""
    return ""


def _compose_email(
    message: Message,
    parts: dict[str, Any],
    settings: Settings,
    links: EngagementLinks,
    options: RenderOptions,
) -> Composed:
    context = dict(message.context)
    headers: dict[str, str] = {"X-CCM-Message-Id": message.id}
    if message.category == "marketing":
        unsubscribe_url = links.unsubscribe_url(message.id, "email")
        context["unsubscribe_url"] = unsubscribe_url
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    tracking = Tracking(
        link_rewriter=lambda url: links.click_url(message.id, url),
        open_pixel_url=links.open_url(message.id),
    )
    email = render_email_part(parts, context, options, tracking)
    attachments = []
    if parts["email"].get("attach_pdf"):
        document = render_pdf_part(parts, context, options)
        attachments.append(Attachment(f"{message.template_key}.pdf", "application/pdf", document.data))
    payload = build_email_message(
        sender=settings.email_from,
        recipient=message.recipient,
        subject=email.subject,
        html=email.html,
        text=email.text,
        message_id=f"<{message.id}@{settings.email_domain}>",
        date=message.created_at,
        headers=headers,
        attachments=attachments,
    )
    return Composed(payload, "message/rfc822", sender=sender_for("email", settings))


def _compose_sms(
    message: Message, parts: dict[str, Any], settings: Settings, options: RenderOptions
) -> Composed:
    sms = render_sms_part(parts, message.context, options)
    sender = sender_for("sms", settings)
    document = {
        "to": message.recipient,
        "from": sender,
        "body": sms.text,
        "encoding": sms.encoding,
        "segments": sms.segments,
        "message_id": message.id,
    }
    payload = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return Composed(payload, "application/json", sender=sender)
