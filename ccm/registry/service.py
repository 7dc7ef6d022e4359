"""The template registry: templates, numbered versions, publishing. Published versions never change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.channels import channels_of, get_channel
from ccm.channels.library import with_library
from ccm.channels.spec import Parts
from ccm.customers.topics import get_topic
from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable
from ccm.registry.contract import check_schema, propose_schema
from ccm.registry.history import record_saved
from ccm.registry.locales import all_sources, check_locales
from ccm.registry.models import Category, Template, TemplateVersion, VersionStatus
from ccm.registry.pins import Pins, resolve_pins
from ccm.registry.schemas import TemplateCreate, VersionCreate
from renderers.errors import RenderError


def checksum(
    parts: dict[str, Any],
    sample_data: dict[str, Any],
    *,
    locales: dict[str, Any] | None = None,
    data_schema: dict[str, Any] | None = None,
    layout: dict[str, Any] | None = None,
    partials: dict[str, Any] | None = None,
) -> str:
    """SHA-256 of the content; locales, the schema and pins count only when present, so a version without
    them keeps the checksum it had before they existed."""
    content: dict[str, Any] = {"parts": parts, "sample_data": sample_data}
    if locales:
        content["locales"] = locales
    if data_schema is not None:
        content["schema"] = data_schema
    if layout is not None:
        content["layout"] = layout
    if partials:
        content["partials"] = partials
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_parts(parts: dict[str, Any]) -> None:
    """Refuse a part whose Jinja or MJML does not compile, naming the part and the field."""
    for key in channels_of(parts):
        spec = get_channel(key)
        try:
            spec.check(parts)
        except RenderError as error:
            inner = error.field if error.field and error.field != key else None
            where = f"parts.{spec.error_field(inner)}"
            raise Unprocessable(f"{where}: {error.message}", field=where, code="template_invalid") from error


def check_content(request: VersionCreate, library: dict[str, str]) -> None:
    """Refuse content a version could not be sent with: its parts, its locale variants, a given schema;
    includes reach only the pinned `library`."""
    check_parts(with_library(request.parts, library))
    check_locales(request.parts, request.locales, library)
    if isinstance(request.data_schema, dict):
        check_schema(request.data_schema)


def schema_for(request: VersionCreate, library: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The schema given, none (`"schema": false`), or one proposed from what the parts and locales use,
    and the pinned layout and partials they pull in (a partial's variables are the version's data too)."""
    if request.data_schema is False:
        return None
    if request.data_schema is not None:
        return request.data_schema
    sources = all_sources(request.parts, request.locales) + sorted((library or {}).values())
    return propose_schema(sources, request.sample_data)


def create_template(session: Session, request: TemplateCreate, *, author: str) -> Template:
    if session.exec(select(Template).where(Template.key == request.key)).first() is not None:
        raise Conflict(f"template '{request.key}' already exists", field="key", code="template_exists")
    pins = pins_for(session, request)
    check_content(request, pins.library)
    template = Template(
        key=request.key,
        name=request.name,
        category=request.category,
        description=request.description,
        topic=_topic_of(session, request),
    )
    session.add(template)
    session.flush()
    _add_version(session, template, request, author, pins)
    return template


def _topic_of(session: Session, request: TemplateCreate) -> str | None:
    """The topic a template names must exist, and only marketing has topics (422 otherwise)."""
    if request.topic is None:
        return None
    if request.category != Category.MARKETING:
        raise Unprocessable("only marketing templates have a topic", field="topic", code="invalid_topic")
    return get_topic(session, request.topic, field="topic").key


def add_version(session: Session, key: str, request: VersionCreate, *, author: str) -> TemplateVersion:
    template = get_template(session, key)
    pins = pins_for(session, request)
    check_content(request, pins.library)
    template.updated_at = utcnow()
    return _add_version(session, template, request, author, pins)


def pins_for(session: Session, request: VersionCreate) -> Pins:
    """The layout the request names and the live version of every partial its parts include."""
    return resolve_pins(session, request.layout, all_sources(request.parts, request.locales))


def _add_version(
    session: Session, template: Template, request: VersionCreate, author: str, pins: Pins
) -> TemplateVersion:
    assert template.id is not None
    last = session.exec(
        select(func.max(TemplateVersion.number)).where(TemplateVersion.template_id == template.id)
    ).one()
    parts, locales, data_schema = request.parts, request.locales, schema_for(request, pins.library)
    version = TemplateVersion(
        template_id=template.id,
        number=(last or 0) + 1,
        status=VersionStatus.DRAFT,
        parts=parts,
        sample_data=request.sample_data,
        locales=locales,
        data_schema=data_schema,
        layout=pins.layout,
        partials=pins.partials,
        library=pins.library,
        checksum=checksum(
            parts,
            request.sample_data,
            locales=locales,
            data_schema=data_schema,
            layout=pins.layout,
            partials=pins.partials,
        ),
        created_by=author,
    )
    session.add(version)
    session.flush()
    record_saved(session, version, author)
    return version


def get_template(session: Session, key: str) -> Template:
    template = session.exec(select(Template).where(Template.key == key)).first()
    if template is None:
        raise NotFound(f"template '{key}' not found", field="template", code="template_not_found")
    return template


def list_templates(session: Session) -> list[Template]:
    return list(session.exec(select(Template).order_by(col(Template.key))).all())


def versions_of(session: Session, template: Template) -> list[TemplateVersion]:
    statement = (
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template.id)
        .order_by(col(TemplateVersion.number))
    )
    return list(session.exec(statement).all())


def get_version(session: Session, key: str, number: int) -> TemplateVersion:
    template = get_template(session, key)
    version = session.exec(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.number == number
        )
    ).first()
    if version is None:
        raise NotFound(f"template '{key}' has no version {number}", field="version", code="version_not_found")
    return version


def latest_version(session: Session, template: Template) -> TemplateVersion:
    return versions_of(session, template)[-1]


def published_version(session: Session, template: Template) -> TemplateVersion | None:
    """The live version: the one sends use (`ccm.registry.workflow.publish` keeps it to one)."""
    statement = (
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template.id, TemplateVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(TemplateVersion.number).desc())
    )
    return session.exec(statement).first()


def require_published(session: Session, template: Template) -> TemplateVersion:
    """The version sends use, or a 422 saying there is none (sends and campaigns alike)."""
    version = published_version(session, template)
    if version is None:
        raise Unprocessable(
            f"template '{template.key}' has no published version", field="template", code="not_published"
        )
    return version


def channels_for(
    version: TemplateVersion, requested: list[str] | None, *, default: Callable[[Parts], list[str]]
) -> list[str]:
    """The requested channels, each of which the version must have a part for; or `default(parts)`."""
    parts = version.parts
    if requested is None:
        return default(parts)
    missing = [channel for channel in requested if channel not in parts]
    if missing:
        raise Unprocessable(
            f"template has no {', '.join(missing)} part (it has: {', '.join(sorted(parts))})",
            field="channels",
            code="channel_not_in_template",
        )
    return list(requested)
