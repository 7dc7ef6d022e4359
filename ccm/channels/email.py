"""The email channel: an MJML or HTML body with a subject, tracked links, and an optional PDF attachment."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.channels import pdf
from ccm.channels.library import EMAIL_LAYOUT, layout_in, library_of
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
from ccm.settings import Settings
from ccm.validation import SOURCE_LIMIT, Line, Text
from delivery.addresses import InvalidDomain, ascii_domain
from renderers.email import EmailTemplate, RenderedEmail, check_email_template, render_email
from renderers.mime import Attachment, build_email_message


class EmailPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Annotated[Line, Field(min_length=1, max_length=998)]
    mjml: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    html: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    text: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    attach_pdf: bool = False

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if (self.mjml is None) == (self.html is None):
            raise ValueError("an email part needs exactly one of 'mjml' or 'html'")
        return self


class EmailPreview(BaseModel):
    subject: str
    html: str
    text: str
    attachments: list[str]


def email_template(parts: Parts) -> EmailTemplate:
    """The email part with the version's library, its body wrapped in the layout's email source if any."""
    part = parts["email"]
    return EmailTemplate(
        subject=part["subject"],
        mjml=part.get("mjml"),
        html=part.get("html"),
        text=part.get("text"),
        library=library_of(parts),
        layout=layout_in(parts, EMAIL_LAYOUT),
    )


def render(
    parts: Parts, context: dict[str, Any], options: RenderOptions, tracking: Tracking
) -> RenderedEmail:
    return render_email(
        email_template(parts),
        context,
        locale=options.locale,
        timezone=options.timezone,
        link_rewriter=tracking.link_rewriter,
        open_pixel_url=tracking.open_pixel_url,
    )


def sources(parts: Parts) -> list[tuple[str, str]]:
    email = parts["email"]
    found = [("email.subject", email["subject"])]
    template = email_template(parts)
    found += [
        (f"email.{name}", template.body_source(email[name])) for name in ("mjml", "html") if email.get(name)
    ]
    found += [("email.text", email["text"])] if email.get("text") else []
    if email.get("attach_pdf") and parts.get("pdf"):
        found += pdf.sources(parts)
    return found


def check(parts: Parts) -> None:
    check_email_template(email_template(parts))


def compose(
    message: ComposableMessage, parts: Parts, ctx: ComposeContext, options: RenderOptions
) -> Composed:
    """The .eml, DKIM-signed here so the archive holds the signed bytes."""
    settings, links = ctx.settings, ctx.links
    context = dict(message.context)
    headers: dict[str, str] = {"X-CCM-Message-Id": message.id}
    context["view_in_browser_url"] = links.view_url(message.id)
    context["survey"] = links.survey(message.id, "email")
    if message.category == "marketing":
        unsubscribe_url = links.unsubscribe_url(message.id, "email")
        context["unsubscribe_url"] = unsubscribe_url
        context["preferences_url"] = links.preferences_url(message.id)
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    tracking = Tracking(
        link_rewriter=lambda url: links.click_url(message.id, url),
        open_pixel_url=links.open_url(message.id),
    )
    email = render(parts, context, options, tracking)
    attachments = []
    if parts["email"].get("attach_pdf"):
        document = pdf.render(parts, context, options, Tracking())
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
    if ctx.dkim is not None:
        payload = ctx.dkim.sign(payload)
    return Composed(payload, "message/rfc822", sender=sender(settings))


def preview(rendered: RenderedEmail, parts: Parts, template_key: str) -> EmailPreview:
    attachments = [f"{template_key}.pdf"] if parts["email"].get("attach_pdf") else []
    return EmailPreview(
        subject=rendered.subject, html=rendered.html, text=rendered.text, attachments=attachments
    )


def recipient(customer: CustomerAddresses) -> str:
    return customer.email or ""


def sender(settings: Settings) -> str:
    return settings.email_from


def consistency(parts: Parts) -> str | None:
    if parts["email"].get("attach_pdf") and not parts.get("pdf"):
        return "email.attach_pdf needs a 'pdf' part to attach"
    return None


def normalise_address(address: str) -> str:
    """One form per address for the suppression list: lower-cased as ever, an IDN domain as its punycode
    A-label (the form the providers send to), so a bounce for `josé@xn--bcher-kva.example` suppresses
    `josé@bücher.example` and the other way round. A domain with no IDNA form is only lower-cased."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().lower()
    with contextlib.suppress(InvalidDomain):
        domain = ascii_domain(domain)
    return f"{local}@{domain}".lower()


SPEC = ChannelSpec(
    key="email",
    label="Email",
    part_model=EmailPart,
    render=render,
    compose=compose,
    sources=sources,
    check=check,
    recipient=recipient,
    sender=sender,
    sender_settings=("email_from",),
    default_provider=lambda settings: settings.email_provider.value,
    deadline_setting="deadline_email_seconds",
    preview_model=EmailPreview,
    preview=preview,
    content_type="message/rfc822",
    file_extension="eml",
    missing_recipient=Refusal("no_email_address", "customer has no email address"),
    suppressible=True,
    marketing_consent=True,
    normalise_address=normalise_address,
    consistency=consistency,
    preview_view="email",
    payload_view="email",
    starter_files=(("mjml", "email.mjml"), ("html", "email.html"), ("text", "email.txt")),
    form_fields=(
        FormField("subject", "Subject", "line"),
        FormField("body", "Body (MJML or HTML)", "choice", choices=("mjml", "html"), editor="html"),
        FormField("text", "Text part (optional, derived from the HTML when empty)", "text"),
        FormField("attach_pdf", "Attach the PDF part", "flag"),
    ),
)
