"""The PDF channel: a printed document (WeasyPrint, PDF/A-3b by default), also attachable to an email."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ccm.channels.library import PDF_LAYOUT, layout_in, library_of
from ccm.channels.spec import (
    ChannelSpec,
    ComposableMessage,
    ComposeContext,
    Composed,
    CustomerAddresses,
    FormField,
    Parts,
    RenderOptions,
    Tracking,
)
from ccm.validation import SOURCE_LIMIT, Text
from renderers.pdf import PdfTemplate, RenderedPdf, check_pdf_template, render_pdf


class PdfPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    html: Annotated[Text, Field(min_length=1, max_length=SOURCE_LIMIT)]
    css: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None


class PdfPreview(BaseModel):
    base64: str
    pages: int
    size: int


def _template(parts: Parts) -> PdfTemplate:
    """The PDF part with the version's library, its HTML wrapped in the layout's PDF source if any."""
    return PdfTemplate(
        html=parts["pdf"]["html"],
        css=parts["pdf"].get("css"),
        library=library_of(parts),
        layout=layout_in(parts, PDF_LAYOUT),
    )


def render(parts: Parts, context: dict[str, Any], options: RenderOptions, _tracking: Tracking) -> RenderedPdf:
    return render_pdf(
        _template(parts),
        context,
        locale=options.locale,
        timezone=options.timezone,
        assets_dir=options.assets_dir,
        pdf_variant=options.pdf_variant,
        created=options.created,
    )


def sources(parts: Parts) -> list[tuple[str, str]]:
    return [("pdf.html", _template(parts).source())]


def check(parts: Parts) -> None:
    check_pdf_template(_template(parts))


def compose(
    message: ComposableMessage, parts: Parts, ctx: ComposeContext, options: RenderOptions
) -> Composed:
    document = render(parts, message.context, options, Tracking())
    return Composed(document.data, "application/pdf", sender="")


def preview(rendered: RenderedPdf, _parts: Parts, _template_key: str) -> PdfPreview:
    return PdfPreview(
        base64=base64.b64encode(rendered.data).decode(), pages=rendered.pages, size=len(rendered.data)
    )


def recipient(customer: CustomerAddresses) -> str:
    """A printed document is addressed to the customer record itself (the print provider mails it)."""
    return customer.external_id


def sent_alone(parts: Parts) -> bool:
    """A PDF the email attaches is not also sent on its own."""
    email = parts.get("email") or {}
    return not email.get("attach_pdf")


SPEC = ChannelSpec(
    key="pdf",
    label="PDF",
    part_model=PdfPart,
    render=render,
    compose=compose,
    sources=sources,
    check=check,
    recipient=recipient,
    sender=lambda _settings: "",
    default_provider=lambda _settings: "outbox",
    deadline_setting="deadline_pdf_seconds",
    preview_model=PdfPreview,
    preview=preview,
    content_type="application/pdf",
    file_extension="pdf",
    source_field="html",
    sent_alone=sent_alone,
    in_campaigns_by_default=False,
    preview_view="pdf",
    payload_view="pdf",
    starter_files=(("html", "pdf.html"), ("css", "pdf.css")),
    form_fields=(
        FormField("html", "HTML", "code", editor="html"),
        FormField("css", "CSS", "code", editor="css"),
    ),
)
