"""The PDF channel: a printed document, also attachable to an email; PDF/A-3b by default.

Two engines: `weasyprint` (the default: HTML + Jinja + CSS, what marketers write) and `typst` (the volume
engine for statements and invoices: a Typst source reading the data from `sys.inputs`, see
`renderers.typst_pdf`). The part names its engine; the engine's source field is required.
"""

from __future__ import annotations

import base64
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.channels.library import PDF_LAYOUT, layout_in, library_of
from ccm.channels.marks import marks_of
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
from renderers.typst_pdf import TypstTemplate, check_typst_template, render_typst_pdf

Engine = Literal["weasyprint", "typst"]
TYPST: Engine = "typst"


class PdfPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: Engine | None = Field(
        default=None,
        description="`weasyprint` (HTML and CSS) or `typst`; when left out, `typst` if only a `typst` "
        "source is given, else `weasyprint`.",
    )
    html: Annotated[Text, Field(min_length=1, max_length=SOURCE_LIMIT)] | None = None
    css: Annotated[Text, Field(max_length=SOURCE_LIMIT)] | None = None
    typst: Annotated[Text, Field(min_length=1, max_length=SOURCE_LIMIT)] | None = Field(
        default=None, description="The Typst source (engine `typst`): it reads `sys.inputs.data` as JSON."
    )

    @model_validator(mode="after")
    def _engine_has_its_source(self) -> PdfPart:
        """Each engine needs its own source and takes no other's (422 naming the field)."""
        if self.engine is None and self.typst is not None and self.html is None:
            self.engine = TYPST  # stored, so every reader of the part sees the engine without inferring it
        if self.engine == TYPST:
            if self.typst is None:
                raise ValueError("typst: the typst engine needs a `typst` source")
            for other in ("html", "css"):
                if getattr(self, other) is not None:
                    raise ValueError(f"{other}: the typst engine takes no `{other}` (that is WeasyPrint's)")
        else:
            if self.html is None:
                raise ValueError("html: the weasyprint engine needs an `html` source")
            if self.typst is not None:
                raise ValueError("typst: a `typst` source needs `engine: typst`")
        return self


class PdfPreview(BaseModel):
    base64: str
    pages: int
    size: int


def is_typst(parts: Parts) -> bool:
    return bool(parts["pdf"].get("engine") == TYPST)


def _typst_template(parts: Parts) -> TypstTemplate:
    """The Typst source and the data contract's formatted fields (`ccm.channels.marks`)."""
    return TypstTemplate(source=parts["pdf"]["typst"], marks=marks_of(parts))


def _template(parts: Parts) -> PdfTemplate:
    """The PDF part with the version's library, its HTML wrapped in the layout's PDF source if any."""
    return PdfTemplate(
        html=parts["pdf"]["html"],
        css=parts["pdf"].get("css"),
        library=library_of(parts),
        layout=layout_in(parts, PDF_LAYOUT),
    )


def render(parts: Parts, context: dict[str, Any], options: RenderOptions, _tracking: Tracking) -> RenderedPdf:
    engine = (
        partial(render_typst_pdf, _typst_template(parts))
        if is_typst(parts)
        else partial(render_pdf, _template(parts))
    )
    return engine(
        context,
        locale=options.locale,
        timezone=options.timezone,
        assets_dir=options.assets_dir,
        pdf_variant=options.pdf_variant,
        created=options.created,
    )


def sources(parts: Parts) -> list[tuple[str, str]]:
    """The Jinja sources: a Typst part has none (its data is checked against the contract, and the
    publish check compiles it with the sample data)."""
    return [] if is_typst(parts) else [("pdf.html", _template(parts).source())]


def check(parts: Parts) -> None:
    if is_typst(parts):
        check_typst_template(_typst_template(parts))
    else:
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
    starter_files=(("html", "pdf.html"), ("css", "pdf.css"), ("typst", "pdf.typ")),
    form_fields=(
        FormField(
            "html",
            "Document (HTML for WeasyPrint, or Typst)",
            "choice",
            choices=("html", "typst"),
            editor="html",
        ),
        FormField("css", "CSS (WeasyPrint only)", "code", editor="css"),
    ),
)
