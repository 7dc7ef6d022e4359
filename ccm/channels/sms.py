"""The SMS channel: one text, measured in GSM-7 or UCS-2 segments, handed over as a small JSON document."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ccm.channels.library import library_of
from ccm.channels.spec import (
    ChannelSpec,
    ComposableMessage,
    ComposeContext,
    Composed,
    CustomerAddresses,
    FormField,
    Parts,
    Refusal,
    RenderOptions,
    Tracking,
)
from ccm.settings import Settings, SmsProviderName
from ccm.validation import Text
from renderers.environment import check_syntax
from renderers.sms import RenderedSms, render_sms, ucs2_characters


class SmsPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[Text, Field(min_length=1, max_length=10_000)]


class Ucs2Character(BaseModel):
    """A character no GSM table holds, where it first appears in the rendered text (1-based)."""

    character: str
    codepoint: str
    """`U+2019`: tells apart characters that look alike or cannot be seen (a curly quote, a zero-width
    space)."""
    position: int


class SmsPreview(BaseModel):
    text: str
    encoding: str
    segments: int
    ucs2_characters: list[Ucs2Character] = Field(default_factory=list)
    """The characters that forced UCS-2 (each once, first 20): replacing them keeps the cheaper GSM-7."""


def render(parts: Parts, context: dict[str, Any], options: RenderOptions, _tracking: Tracking) -> RenderedSms:
    return render_sms(
        parts["sms"]["text"],
        context,
        locale=options.locale,
        timezone=options.timezone,
        library=library_of(parts),
    )


def sources(parts: Parts) -> list[tuple[str, str]]:
    return [("sms.text", parts["sms"]["text"])]


def check(parts: Parts) -> None:
    check_syntax(parts["sms"]["text"], library_of(parts))


def compose(
    message: ComposableMessage, parts: Parts, ctx: ComposeContext, options: RenderOptions
) -> Composed:
    """Canonical JSON (sorted keys), so the same message always archives as the same bytes."""
    context = {**message.context, "survey": ctx.links.survey(message.id, "sms")}
    sms = render(parts, context, options, Tracking())
    from_ = sender(ctx.settings)
    document = {
        "to": message.recipient,
        "from": from_,
        "body": sms.text,
        "encoding": sms.encoding,
        "segments": sms.segments,
        "message_id": message.id,
    }
    payload = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return Composed(payload, "application/json", sender=from_)


def preview(rendered: RenderedSms, _parts: Parts, _template_key: str) -> SmsPreview:
    forcing = [
        Ucs2Character(character=c, codepoint=f"U+{ord(c):04X}", position=p)
        for c, p in ucs2_characters(rendered.text)
    ]
    return SmsPreview(
        text=rendered.text, encoding=rendered.encoding, segments=rendered.segments, ucs2_characters=forcing
    )


def recipient(customer: CustomerAddresses) -> str:
    return customer.phone or ""


def sender(settings: Settings) -> str:
    twilio = settings.sms_provider is SmsProviderName.TWILIO
    return (settings.twilio_from if twilio else settings.sms_from) or ""


SPEC = ChannelSpec(
    key="sms",
    label="SMS",
    part_model=SmsPart,
    render=render,
    compose=compose,
    sources=sources,
    check=check,
    recipient=recipient,
    sender=sender,
    sender_settings=("sms_from", "twilio_from"),
    default_provider=lambda settings: settings.sms_provider.value,
    deadline_setting="deadline_sms_seconds",
    preview_model=SmsPreview,
    preview=preview,
    content_type="application/json",
    file_extension="json",
    missing_recipient=Refusal("no_phone_number", "customer has no phone number"),
    suppressible=True,
    marketing_consent=True,
    source_field="text",
    preview_view="sms",
    payload_view="sms",
    starter_files=(("text", "sms.txt"),),
    form_fields=(FormField("text", "Text", "text"),),
)
