"""HTTP for the template registry: create, version, review and publish, roll back, diff, preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from ccm.access.identity import identity_of
from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.channels import channels_of
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.registry import lint as lint_service
from ccm.registry import preview as preview_service
from ccm.registry import publish_check, service, workflow
from ccm.registry.diff import diff_versions
from ccm.registry.history import history_of
from ccm.registry.models import Template, TemplateVersion
from ccm.registry.schemas import (
    LintIssueOut,
    LintRequest,
    LintResponse,
    PreviewRequest,
    PreviewResponse,
    RejectRequest,
    ReviewRequest,
    RollbackRequest,
    TemplateCreate,
    TemplateDetail,
    TemplateOut,
    Transition,
    VersionCreate,
    VersionDetail,
    VersionDiff,
    VersionSummary,
)
from ccm.registry.send_contract import send_contract

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Reader = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_WRITE))]
Reviewer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_APPROVE))]
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
NumberPath = Annotated[int, Path(ge=1, le=1_000_000)]


def version_summary(version: TemplateVersion) -> VersionSummary:
    return VersionSummary(
        number=version.number,
        status=version.status,
        channels=channels_of(version.parts),
        checksum=version.checksum,
        created_by=version.created_by,
        created_at=version.created_at,
        published_at=version.published_at,
    )


def version_detail(session: Session, version: TemplateVersion) -> VersionDetail:
    return VersionDetail(
        **version_summary(version).model_dump(),
        parts=version.parts,
        sample_data=version.sample_data,
        locales=version.locales or {},
        data_schema=version.data_schema,
        layout=version.layout,
        partials=version.partials or {},
        history=[Transition.model_validate(t, from_attributes=True) for t in history_of(session, version)],
        contract_covers_parts=(contract := send_contract(version)).covers_parts,
        contract_gaps=list(contract.gaps),
    )


def template_out(session: Session, template: Template) -> TemplateDetail:
    versions = service.versions_of(session, template)
    published = service.published_version(session, template)
    return TemplateDetail(
        key=template.key,
        name=template.name,
        category=template.category,
        description=template.description,
        topic=template.topic,
        published_version=published.number if published else None,
        latest_version=versions[-1].number,
        versions=[version_summary(v) for v in versions],
        created_at=template.created_at,
        updated_at=template.updated_at,
        latest=version_detail(session, versions[-1]),
    )


@router.post("", status_code=201, response_model=TemplateDetail)
def create_template(request: TemplateCreate, session: SessionDep, caller: Writer) -> TemplateDetail:
    template = service.create_template(session, request, author=identity_of(caller))
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
    return version_detail(session, service.get_version(session, key, number))


@router.post("/{key}/versions", status_code=201, response_model=VersionDetail)
def create_version(
    key: KeyPath, request: VersionCreate, session: SessionDep, caller: Writer
) -> VersionDetail:
    return version_detail(session, service.add_version(session, key, request, author=identity_of(caller)))


@router.post("/{key}/versions/{number}/submit", response_model=VersionDetail)
def submit_version(
    key: KeyPath,
    number: NumberPath,
    session: SessionDep,
    settings: SettingsDep,
    caller: Writer,
    request: ReviewRequest | None = None,
) -> VersionDetail:
    """Ask for a review: a draft becomes `submitted`, for a marketer or admin other than you to approve;
    a draft with lint errors is refused (422 `lint_failed`, the issues in `details`)."""
    comment = request.comment if request else ""
    version = workflow.submit(session, key, number, identity_of(caller), comment, settings=settings)
    return version_detail(session, version)


@router.post("/{key}/versions/{number}/approve", response_model=VersionDetail)
def approve_version(
    key: KeyPath,
    number: NumberPath,
    session: SessionDep,
    caller: Reviewer,
    request: ReviewRequest | None = None,
) -> VersionDetail:
    """Four-eyes: a submitted version's author and submitter may not approve it (403 `four_eyes`)."""
    comment = request.comment if request else ""
    return version_detail(session, workflow.approve(session, key, number, identity_of(caller), comment))


@router.post("/{key}/versions/{number}/reject", response_model=VersionDetail)
def reject_version(
    key: KeyPath, number: NumberPath, request: RejectRequest, session: SessionDep, caller: Reviewer
) -> VersionDetail:
    """Send a submitted version back with a comment; its author saves the fix as a new version."""
    version = workflow.reject(session, key, number, identity_of(caller), request.comment)
    return version_detail(session, version)


@router.post("/{key}/versions/{number}/publish", response_model=VersionDetail)
def publish_version(
    key: KeyPath, number: NumberPath, session: SessionDep, settings: SettingsDep, caller: Writer
) -> VersionDetail:
    """Make the version live (where approval applies, once approved), superseding the live one; its sample
    data must keep its schema and render on every channel in every locale (422 otherwise)."""
    unpublished = publish_check.version_to_publish(session, key, number)
    session.commit()  # no database lock is held while the author's template renders
    if unpublished is not None:
        publish_check.check_publishable(settings, unpublished)
    version = workflow.publish(
        session, key, number, identity_of(caller), approval_categories=settings.approval_categories
    )
    return version_detail(session, version)


@router.post("/{key}/rollback", status_code=201, response_model=VersionDetail)
def rollback(key: KeyPath, request: RollbackRequest, session: SessionDep, caller: Writer) -> VersionDetail:
    """A new draft with an older version's content, which then goes live the usual way."""
    return version_detail(session, workflow.rollback(session, key, request.to, identity_of(caller)))


@router.get("/{key}/diff", response_model=VersionDiff)
def diff(
    key: KeyPath,
    session: ReadSessionDep,
    _caller: Reader,
    old: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
    new: Annotated[int, Query(alias="to", ge=1, le=1_000_000)],
) -> VersionDiff:
    """What changed from version `from` to version `to`: a unified diff per part field and locale."""
    return diff_versions(session, key, old, new)


@router.post("/{key}/lint", response_model=LintResponse)
def lint(
    key: KeyPath,
    session: ReadSessionDep,
    settings: SettingsDep,
    _caller: Reader,
    request: LintRequest | None = None,
) -> LintResponse:
    """What to fix before review: a saved version's issues, or the editor's unsaved content's."""
    content = lint_service.load_content(session, key, request or LintRequest())
    session.commit()  # no database lock is held while the sample data renders
    issues = lint_service.lint(settings, content)
    return LintResponse(issues=[LintIssueOut(**lint_service.issue_dict(issue)) for issue in issues])


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
