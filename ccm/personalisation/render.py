"""Turns a template version and a context into rendered channel parts, through the stateless renderers.

Preview and the send pipeline both come through here, so what a marketer previews is what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm.errors import Unprocessable
from ccm.registry.service import email_template
from renderers.email import RenderedEmail, render_email
from renderers.environment import render_text
from renderers.errors import MissingVariableError, RenderError
from renderers.pdf import PdfTemplate, RenderedPdf, render_pdf
from renderers.sms import RenderedSms, render_sms


@dataclass(frozen=True)
class Tracking:
    """How links and opens are tracked for one message; None of these in previews."""

    link_rewriter: Callable[[str], str] | None = None
    open_pixel_url: str | None = None


@dataclass(frozen=True)
class RenderOptions:
    locale: str
    timezone: str
    assets_dir: Path
    pdf_variant: str | None = None
    created: datetime | None = None


def render_email_part(
    parts: dict[str, Any], context: dict[str, Any], options: RenderOptions, tracking: Tracking = Tracking()
) -> RenderedEmail:
    return render_email(
        email_template(parts["email"]),
        context,
        locale=options.locale,
        timezone=options.timezone,
        link_rewriter=tracking.link_rewriter,
        open_pixel_url=tracking.open_pixel_url,
    )


def render_pdf_part(parts: dict[str, Any], context: dict[str, Any], options: RenderOptions) -> RenderedPdf:
    pdf = parts["pdf"]
    return render_pdf(
        PdfTemplate(html=pdf["html"], css=pdf.get("css")),
        context,
        locale=options.locale,
        timezone=options.timezone,
        assets_dir=options.assets_dir,
        pdf_variant=options.pdf_variant,
        created=options.created,
    )


def render_sms_part(parts: dict[str, Any], context: dict[str, Any], options: RenderOptions) -> RenderedSms:
    return render_sms(parts["sms"]["text"], context, locale=options.locale, timezone=options.timezone)


def sources_for(parts: dict[str, Any], channels: list[str]) -> list[tuple[str, str]]:
    """Every Jinja source a send on `channels` will render, named by where it sits in the template."""
    sources: list[tuple[str, str]] = []
    email = parts.get("email")
    if "email" in channels and email:
        sources.append(("email.subject", email["subject"]))
        for name in ("mjml", "html", "text"):
            if email.get(name):
                sources.append((f"email.{name}", email[name]))
    if "sms" in channels and parts.get("sms"):
        sources.append(("sms.text", parts["sms"]["text"]))
    needs_pdf = "pdf" in channels or ("email" in channels and email and email.get("attach_pdf"))
    if needs_pdf and parts.get("pdf"):
        sources.append(("pdf.html", parts["pdf"]["html"]))
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
