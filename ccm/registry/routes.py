"""HTTP for the template registry: create, version, publish, preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlmodel import Session

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.channels import channels_of
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.registry import preview as preview_service
from ccm.registry import service
from ccm.registry.models import Template, TemplateVersion
from ccm.registry.schemas import (
    PreviewRequest,
    PreviewResponse,
    TemplateCreate,
    TemplateDetail,
    TemplateOut,
    VersionCreate,
    VersionDetail,
    VersionSummary,
)

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Reader = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_WRITE))]
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
NumberPath = Annotated[int, Path(ge=1, le=1_000_000)]


def version_summary(version: TemplateVersion) -> VersionSummary:
    return VersionSummary(
        number=version.number,
        status=version.status,
        channels=channels_of(version.parts),
        checksum=version.checksum,
        created_at=version.created_at,
        published_at=version.published_at,
    )


def version_detail(version: TemplateVersion) -> VersionDetail:
    return VersionDetail(
        **version_summary(version).model_dump(), parts=version.parts, sample_data=version.sample_data
    )


def template_out(session: Session, template: Template) -> TemplateDetail:
    versions = service.versions_of(session, template)
    published = service.published_version(session, template)
    return TemplateDetail(
        key=template.key,
        name=template.name,
        category=template.category,
        description=template.description,
        published_version=published.number if published else None,
        latest_version=versions[-1].number,
        versions=[version_summary(v) for v in versions],
        created_at=template.created_at,
        updated_at=template.updated_at,
        latest=version_detail(versions[-1]),
    )


@router.post("", status_code=201, response_model=TemplateDetail)
def create_template(request: TemplateCreate, session: SessionDep, _caller: Writer) -> TemplateDetail:
    template = service.create_template(session, request)
    return template_out(session, template)


@router.get("", response_model=list[TemplateOut])
def list_templates(session: ReadSessionDep, _caller: Reader) -> list[TemplateOut]:
    return [
        TemplateOut(**template_out(session, t).model_dump(exclude={"latest"}))
        for t in service.list_templates(session)
    ]


@router.get("/{key}", response_model=TemplateDetail)
def get_template(key: KeyPath, session: ReadSessionDep, _caller: Reader) -> TemplateDetail:
    return template_out(session, service.get_template(session, key))


@router.get("/{key}/versions/{number}", response_model=VersionDetail)
def get_version(key: KeyPath, number: NumberPath, session: ReadSessionDep, _caller: Reader) -> VersionDetail:
    return version_detail(service.get_version(session, key, number))


@router.post("/{key}/versions", status_code=201, response_model=VersionDetail)
def create_version(
    key: KeyPath, request: VersionCreate, session: SessionDep, _caller: Writer
) -> VersionDetail:
    return version_detail(service.add_version(session, key, request))


@router.post("/{key}/versions/{number}/publish", response_model=VersionDetail)
def publish_version(key: KeyPath, number: NumberPath, session: SessionDep, _caller: Writer) -> VersionDetail:
    return version_detail(service.publish(session, key, number))


@router.post("/{key}/preview", response_model=PreviewResponse)
def preview(
    key: KeyPath, request: PreviewRequest, session: ReadSessionDep, settings: SettingsDep, _caller: Reader
) -> PreviewResponse:
    loaded = preview_service.load_preview(session, key, request, settings)
    session.commit()  # no database lock is held while the author's template renders
    result = preview_service.render_preview(settings, loaded)
    return PreviewResponse(
        template=key,
        version=result.version.number,
        status=result.version.status,
        locale=result.locale,
        **result.api_shapes(key),
    )
