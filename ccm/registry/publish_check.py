"""What publishing checks first: the sample data keeps the version's data contract, and every channel
renders with it in every locale. So a broken Italian variant is found by its author, not by an Italian
customer; and the sample data, which previews and campaign checks lean on, is a valid example of the data.
"""

from __future__ import annotations

from sqlmodel import Session

from ccm.channels import RenderOptions, channels_of, get_channel
from ccm.channels.bounded import render_bounded
from ccm.channels.library import with_library
from ccm.errors import Unprocessable
from ccm.personalisation.context import PREVIEW_CUSTOMER, build_context
from ccm.personalisation.render import as_api_error, with_stand_ins
from ccm.registry.contract import validate_data
from ccm.registry.contract_marks import with_contract_marks
from ccm.registry.locales import every_locale, posix_locale
from ccm.registry.models import TemplateVersion, VersionStatus
from ccm.registry.service import get_version
from ccm.settings import Settings
from renderers.errors import MissingVariableError, RenderError


def version_to_publish(session: Session, key: str, number: int) -> TemplateVersion | None:
    """The version `check_publishable` must check before it goes live; None when it is live already."""
    version = get_version(session, key, number)
    return None if version.status == VersionStatus.PUBLISHED else version


def check_publishable(settings: Settings, version: TemplateVersion) -> None:
    """422 `data_invalid` when the sample data breaks the schema; the render error of the first channel and
    locale that does not render with it (in the render pool, under the render limits)."""
    validate_data(version.data_schema, version.sample_data, root="sample_data", missing="data_invalid")
    customer = {**PREVIEW_CUSTOMER, **(version.sample_data.get("customer") or {})}
    context = with_stand_ins(settings, build_context(customer, version.sample_data))
    for tag, localised in every_locale(version.parts, version.locales or {}):
        parts = with_contract_marks(with_library(localised, version.library or {}), version.data_schema)
        options = RenderOptions(
            locale=posix_locale(tag) if tag else str(customer.get("locale") or "en"),
            timezone=str(customer.get("timezone") or "UTC"),
            assets_dir=settings.assets_dir,
        )
        for channel in channels_of(parts):
            spec = get_channel(channel)
            try:
                render_bounded(settings, channel, parts, context, options)
            except RenderError as error:
                inner = spec.field_of(error.field)
                where = f"locales.{tag}.{inner}" if tag else f"parts.{inner}"
                raise _unpublishable(error, where, tag) from error


def _unpublishable(error: RenderError, where: str, tag: str | None) -> Unprocessable:
    """The render error, saying which locale's variant fails; a missing variable points at the sample data."""
    failure = as_api_error(error, where)
    if isinstance(error, MissingVariableError):
        failure.field = f"sample_data.{error.variable}"
    else:
        failure.field = where
    if tag:
        failure.message = f"locale {tag}: {failure.message}"
        failure.extra["locale"] = tag
    failure.message = f"cannot publish: the sample data does not render: {failure.message}"
    return failure
