"""The template registry: templates, numbered versions, publishing. Published versions never change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable
from ccm.registry.models import Template, TemplateVersion, VersionStatus
from ccm.registry.schemas import TemplateCreate, TemplateParts, VersionCreate
from renderers.email import EmailTemplate, check_email_template
from renderers.environment import check_syntax
from renderers.errors import RenderError
from renderers.pdf import PdfTemplate, check_pdf_template


def checksum(parts: dict[str, Any], sample_data: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"parts": parts, "sample_data": sample_data}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_parts(parts: TemplateParts) -> None:
    """Refuse a part whose Jinja or MJML does not compile, naming the part and the line."""
    checks: list[tuple[str, Any]] = []
    if parts.email is not None:
        email = parts.email
        checks.append(("parts.email", lambda: check_email_template(email_template(email.model_dump()))))
    if parts.sms is not None:
        sms_text = parts.sms.text
        checks.append(("parts.sms.text", lambda: check_syntax(sms_text)))
    if parts.pdf is not None:
        pdf = parts.pdf
        checks.append(("parts.pdf.html", lambda: check_pdf_template(PdfTemplate(html=pdf.html, css=pdf.css))))
    for field, check in checks:
        try:
            check()
        except RenderError as error:
            where = f"{field}.{error.field}" if error.field and field == "parts.email" else field
            raise Unprocessable(f"{where}: {error.message}", field=where, code="template_invalid") from error


def email_template(part: dict[str, Any]) -> EmailTemplate:
    return EmailTemplate(
        subject=part["subject"], mjml=part.get("mjml"), html=part.get("html"), text=part.get("text")
    )


def create_template(session: Session, request: TemplateCreate) -> Template:
    if session.exec(select(Template).where(Template.key == request.key)).first() is not None:
        raise Conflict(f"template '{request.key}' already exists", field="key", code="template_exists")
    check_parts(request.parts)
    template = Template(
        key=request.key, name=request.name, category=request.category, description=request.description
    )
    session.add(template)
    session.flush()
    _add_version(session, template, request)
    return template


def add_version(session: Session, key: str, request: VersionCreate) -> TemplateVersion:
    template = get_template(session, key)
    check_parts(request.parts)
    template.updated_at = utcnow()
    return _add_version(session, template, request)


def _add_version(session: Session, template: Template, request: VersionCreate) -> TemplateVersion:
    assert template.id is not None
    last = session.exec(
        select(func.max(TemplateVersion.number)).where(TemplateVersion.template_id == template.id)
    ).one()
    parts = request.parts.model_dump(exclude_none=True)
    version = TemplateVersion(
        template_id=template.id,
        number=(last or 0) + 1,
        status=VersionStatus.DRAFT,
        parts=parts,
        sample_data=request.sample_data,
        checksum=checksum(parts, request.sample_data),
    )
    session.add(version)
    session.flush()
    return version


def publish(session: Session, key: str, number: int) -> TemplateVersion:
    """Make a version the one sends use; publishing it again is a no-op, its content never changes."""
    version = get_version(session, key, number)
    if version.status != VersionStatus.PUBLISHED:
        version.status = VersionStatus.PUBLISHED
        version.published_at = utcnow()
        session.add(version)
        session.flush()
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
    """The newest published version: the one sends use."""
    statement = (
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template.id, TemplateVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(TemplateVersion.number).desc())
    )
    return session.exec(statement).first()
