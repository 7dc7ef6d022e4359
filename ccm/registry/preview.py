"""Preview: every channel of a version rendered for sample or real data, without tracking or sending.

The parts rendered are the version's as a customer in the preview's locale receives them
(`parts_for_locale`), or unsaved parts and locales the editor sends, checked as a new version's would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from ccm.channels import RenderOptions, channels_of, get_channel
from ccm.channels.bounded import render_bounded
from ccm.channels.library import with_library
from ccm.customers.schemas import normalise_locale
from ccm.customers.service import get_customer
from ccm.engagement.feedback import stand_in_survey
from ccm.errors import Unprocessable
from ccm.personalisation.context import PREVIEW_CUSTOMER, build_context, customer_context, deep_merge
from ccm.personalisation.render import as_api_error
from ccm.registry import service
from ccm.registry.contract_marks import with_contract_marks
from ccm.registry.locales import Variants, all_sources, check_locales, localised_parts
from ccm.registry.models import TemplateVersion
from ccm.registry.pins import library_for_unsaved
from ccm.registry.schemas import PreviewRequest
from ccm.settings import Settings
from renderers.errors import RenderError


@dataclass(frozen=True)
class Preview:
    version: TemplateVersion
    locale: str
    parts: dict[str, Any]
    """The parts rendered: the version's (or the unsaved ones) in the preview's locale."""
    rendered: dict[str, Any] = field(default_factory=dict)
    """Each channel part's render result (RenderedEmail, RenderedSms, RenderedPdf, ...), by channel key."""

    def api_shapes(self, template_key: str) -> dict[str, Any]:
        """Each channel's preview as its spec shapes it for the API."""
        parts = self.parts
        return {
            key: get_channel(key).preview(rendered, parts, template_key).model_dump()
            for key, rendered in self.rendered.items()
        }


@dataclass(frozen=True)
class PreviewInput:
    """What a preview renders, read from the database first so no session is held while it renders."""

    version: TemplateVersion
    locale: str
    parts: dict[str, Any]
    context: dict[str, Any]
    options: RenderOptions


def load_preview(session: Session, key: str, request: PreviewRequest, settings: Settings) -> PreviewInput:
    """Reads only: the version, the customer's or sample data, the locale; 4xx for what cannot be found."""
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
    context.setdefault("preferences_url", f"{settings.base_url}/p/preview")
    context.setdefault("view_in_browser_url", f"{settings.base_url}/v/preview")
    context.setdefault("survey", stand_in_survey(settings.base_url))
    try:
        locale = normalise_locale(request.locale or str(customer.get("locale") or "en"))
    except ValueError as error:
        raise Unprocessable(str(error), field="locale", code="invalid_locale") from None
    options = RenderOptions(
        locale=locale,
        timezone=str(customer.get("timezone") or "UTC"),
        assets_dir=settings.assets_dir,
    )
    parts, locales, library = content_to_render(session, version, request)
    localised = with_contract_marks(
        with_library(localised_parts(parts, locales, locale), library), version.data_schema
    )
    return PreviewInput(version, locale, localised, context, options)


def content_to_render(
    session: Session, version: TemplateVersion, request: PreviewRequest
) -> tuple[dict[str, Any], Variants, dict[str, str]]:
    """The unsaved parts, locales and layout the request carries, each standing in for the version's,
    checked and pinned (the layout, the live partials) as a new version's would be (422 as on create); or
    the version's own, with its own pins."""
    if request.parts is None and request.locales is None and request.layout is None:
        return version.parts, version.locales or {}, version.library or {}
    parts = version.parts if request.parts is None else request.parts
    locales = (version.locales or {}) if request.locales is None else request.locales
    library = library_for_unsaved(session, version.layout, all_sources(parts, locales), request.layout)
    service.check_parts(with_library(parts, library))
    check_locales(parts, locales, library)
    return parts, locales, library


def render_preview(settings: Settings, loaded: PreviewInput) -> Preview:
    """Every channel part rendered in the render pool (interactive lane), under the render limits."""
    rendered: dict[str, Any] = {}
    for channel in channels_of(loaded.parts):
        spec = get_channel(channel)
        try:
            rendered[channel] = render_bounded(
                settings, channel, loaded.parts, loaded.context, loaded.options
            )
        except RenderError as error:
            raise as_api_error(error, spec.field_of(error.field)) from error
    return Preview(loaded.version, loaded.locale, loaded.parts, rendered)
