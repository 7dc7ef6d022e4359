"""The review of a version on the template page: its history, its diff against the live version, and the
submit / approve / reject / roll back forms (publishing is in `authoring`). Each form answers 303 (PRG).
Layout and partial pages (`ccm.web.views.library`) show the same panel (`panel_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from ccm.access.identity import identity_label
from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, SettingsDep
from ccm.registry import workflow
from ccm.registry.diff import diff_versions
from ccm.registry.history import AnyVersion, history_of, submitter_of
from ccm.registry.models import (
    LibraryTransition,
    LibraryVersion,
    Template,
    TemplateVersion,
    VersionStatus,
    VersionTransition,
)
from ccm.registry.schemas import DiffChange
from ccm.settings import Settings
from ccm.validation import Text
from ccm.web.auth import Viewer, form_viewer
from ccm.web.errors import PageRoute
from ccm.web.views.params import TemplateKeyPath, VersionPath

router = APIRouter(route_class=PageRoute)
Writer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_WRITE))]
Reviewer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_APPROVE))]
CommentField = Annotated[Text, Form(max_length=2000)]


@dataclass(frozen=True)
class Step:
    """One line of a version's history as the page shows it."""

    transition: VersionTransition | LibraryTransition
    who: str


@dataclass(frozen=True)
class ShownChange:
    """One changed part field of a diff, its lines marked for colouring."""

    part: str
    locale: str | None
    lines: list[tuple[str, str]]
    """(kind, line): kind is file, hunk, add, del or same."""


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff's lines, each with what it is, so the page colours additions and removals."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            kind = "file"
        else:
            kind = {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines


@dataclass(frozen=True)
class Reviewed:
    """What is under review: its page (the review forms post below it), what the page calls such things,
    and whether they need approval."""

    url: str
    subject: str
    approval_applies: bool


@dataclass(frozen=True)
class ReviewPanel:
    """What the page shows of the shown version's review, and which buttons this viewer gets."""

    url: str
    subject: str
    author: str
    history: list[Step]
    live_diff: list[ShownChange]
    approval_applies: bool
    actions: frozenset[str]
    """Of submit, approve, reject, rollback: the moves this viewer may make on the version now."""
    publishable: frozenset[int]
    """The versions whose publish button this viewer gets (the versions table shows them)."""
    waiting_for_other: bool
    """Submitted, and this viewer wrote or submitted it: someone else must review it."""


def review_panel(
    session: Session,
    settings: Settings,
    viewer: Viewer,
    template: Template,
    shown: TemplateVersion,
    versions: list[TemplateVersion],
    live: TemplateVersion | None,
) -> ReviewPanel:
    """The review section of the template page for the version shown."""
    applies = workflow.approval_applies(template, settings.approval_categories)
    changes = [] if live is None else diff_versions(session, template.key, live.number, shown.number).changes
    reviewed = Reviewed(
        f"/ui/templates/{template.key}", f"{template.category.capitalize()} templates", applies
    )
    return panel_of(session, viewer, reviewed, shown, versions, live, changes)


def panel_of(
    session: Session,
    viewer: Viewer,
    reviewed: Reviewed,
    shown: AnyVersion,
    versions: list[AnyVersion],
    live: AnyVersion | None,
    changes: list[DiffChange],
) -> ReviewPanel:
    """The review section for any reviewed version (a template's, a layout's, a partial's): the same
    four-eyes buttons and history; `changes` is the diff from the live version to the shown one."""
    applies = reviewed.approval_applies
    own = viewer.identity in (shown.created_by, submitter_of(session, shown))
    history = [Step(t, identity_label(session, t.identity)) for t in history_of(session, shown)]
    diff = [ShownChange(c.part, c.locale, diff_lines(c.diff)) for c in changes]
    actions = _actions(viewer, shown, versions[-1], applies=applies, own=own)
    waiting = shown.status == VersionStatus.SUBMITTED and own
    can_publish = viewer.may(Permission.TEMPLATES_WRITE)
    ready = frozenset(
        v.number for v in versions if can_publish and publishable(v, live, approval_applies=applies)
    )
    author = identity_label(session, shown.created_by)
    url, subject = reviewed.url, reviewed.subject
    return ReviewPanel(url, subject, author, history, diff, applies, actions, ready, waiting)


def publishable(
    version: TemplateVersion | LibraryVersion,
    live: TemplateVersion | LibraryVersion | None,
    *,
    approval_applies: bool,
) -> bool:
    """Whether publishing the version would make it live (so the page offers it)."""
    if live is not None and version.number < live.number:
        return False
    return version.status == VersionStatus.APPROVED or (
        version.status == VersionStatus.DRAFT and not approval_applies
    )


def _actions(
    viewer: Viewer,
    shown: TemplateVersion | LibraryVersion,
    latest: TemplateVersion | LibraryVersion,
    *,
    applies: bool,
    own: bool,
) -> frozenset[str]:
    actions: set[str] = set()
    if viewer.may(Permission.TEMPLATES_WRITE):
        if shown.status == VersionStatus.DRAFT:
            actions.add("submit")
        if shown.number != latest.number:
            actions.add("rollback")
    if viewer.may(Permission.TEMPLATES_APPROVE) and shown.status == VersionStatus.SUBMITTED and not own:
        actions.update({"approve", "reject"})
    return frozenset(actions)


def _back(key: str, number: int) -> Response:
    return RedirectResponse(f"/ui/templates/{key}?version={number}", status_code=303)


@router.post("/ui/templates/{key}/versions/{number}/submit")
def submit(
    key: TemplateKeyPath,
    number: VersionPath,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Writer,
    comment: CommentField = "",
) -> Response:
    """Ask a marketer or admin other than you to review the draft (refused while lint finds errors)."""
    workflow.submit(session, key, number, viewer.identity, comment, settings=settings)
    return _back(key, number)


@router.post("/ui/templates/{key}/versions/{number}/approve")
def approve(
    key: TemplateKeyPath,
    number: VersionPath,
    session: SessionDep,
    viewer: Reviewer,
    comment: CommentField = "",
) -> Response:
    """Four-eyes: the author or submitter gets the 403 page, whatever their role."""
    workflow.approve(session, key, number, viewer.identity, comment)
    return _back(key, number)


@router.post("/ui/templates/{key}/versions/{number}/reject")
def reject(
    key: TemplateKeyPath,
    number: VersionPath,
    session: SessionDep,
    viewer: Reviewer,
    comment: Annotated[Text, Form(min_length=1, max_length=2000)],
) -> Response:
    """Send the version back with the reason, which its history keeps."""
    workflow.reject(session, key, number, viewer.identity, comment)
    return _back(key, number)


@router.post("/ui/templates/{key}/rollback")
def rollback(
    key: TemplateKeyPath, session: SessionDep, viewer: Writer, to: Annotated[int, Form(ge=1, le=1_000_000)]
) -> Response:
    """A new draft with version `to`'s content, shown next, to be reviewed and published as usual."""
    draft = workflow.rollback(session, key, to, viewer.identity)
    return _back(key, draft.number)
