"""Preview: every channel of a version rendered for sample or real data, without tracking or sending."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from ccm.customers.schemas import normalise_locale
from ccm.customers.service import get_customer
from ccm.errors import Unprocessable
from ccm.personalisation.context import PREVIEW_CUSTOMER, build_context, customer_context, deep_merge
from ccm.personalisation.render import (
    RenderOptions,
    as_api_error,
    render_email_part,
    render_pdf_part,
    render_sms_part,
)
from ccm.registry import service
from ccm.registry.models import TemplateVersion
from ccm.registry.schemas import PreviewRequest
from ccm.settings import Settings
from renderers.email import RenderedEmail
from renderers.errors import RenderError
from renderers.pdf import RenderedPdf
from renderers.sms import RenderedSms


@dataclass(frozen=True)
class Preview:
    version: TemplateVersion
    locale: str
    email: RenderedEmail | None
    sms: RenderedSms | None
    pdf: RenderedPdf | None
    attachments: list[str]


def preview(session: Session, key: str, request: PreviewRequest, settings: Settings) -> Preview:
    template = service.get_template(session, key)
    if request.version is not None:
        version = service.get_version(session, key, request.version)
    else:
        version = service.latest_version(session, template)
    if request.customer_id is not None:
        customer = customer_context(get_customer(session, request.customer_id))
    else:
        customer = {**PREVIEW_CUSTOMER, **(version.sample_data.get("customer") or {})}
    data = deep_merge(version.sample_data, request.data)
    context = build_context(customer, data)
    context.setdefault("unsubscribe_url", f"{settings.base_url}/u/preview")
    try:
        locale = normalise_locale(request.locale or str(customer.get("locale") or "en"))
    except ValueError as error:
        raise Unprocessable(str(error), field="locale", code="invalid_locale") from None
    options = RenderOptions(
        locale=locale,
        timezone=str(customer.get("timezone") or "UTC"),
        assets_dir=settings.assets_dir,
    )
    parts = version.parts
    try:
        email = render_email_part(parts, context, options) if "email" in parts else None
    except RenderError as error:
        raise as_api_error(error, "email") from error
    try:
        sms = render_sms_part(parts, context, options) if "sms" in parts else None
    except RenderError as error:
        raise as_api_error(error, "sms.text") from error
    try:
        pdf = render_pdf_part(parts, context, options) if "pdf" in parts else None
    except RenderError as error:
        raise as_api_error(error, "pdf.html") from error
    attachments = [f"{key}.pdf"] if email and parts["email"].get("attach_pdf") else []
    return Preview(version, locale, email, sms, pdf, attachments)
