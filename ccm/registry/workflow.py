"""A version's way to going live: draft -> submitted -> approved or rejected -> published (live).

Where approval applies (`CCM_APPROVAL_CATEGORIES`, `marketing` by default) a version goes live only once
someone other than its author and its submitter approved it: four-eyes. Elsewhere a draft may be published
directly, as before. Exactly one version per template is live; publishing another supersedes it. Versions
never change, so going back to an older one is a rollback: a new draft with its content, reviewed like any.
Layouts and partials (`ccm.registry.library`) go live through the same moves (`review`, `go_live`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from ccm.database import utcnow
from ccm.errors import Conflict, Forbidden
from ccm.registry.content import content_of
from ccm.registry.history import AnyVersion, move, record_saved, rollback_comment, submitter_of
from ccm.registry.lint import require_no_lint_errors
from ccm.registry.models import LibraryVersion, Template, TemplateVersion, VersionStatus
from ccm.registry.service import get_template, get_version, latest_version, published_version
from ccm.settings import Settings

MOVES: dict[VersionStatus, frozenset[VersionStatus]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.SUBMITTED, VersionStatus.PUBLISHED}),
    VersionStatus.SUBMITTED: frozenset({VersionStatus.APPROVED, VersionStatus.REJECTED}),
    VersionStatus.APPROVED: frozenset({VersionStatus.PUBLISHED}),
    VersionStatus.REJECTED: frozenset(),
    VersionStatus.PUBLISHED: frozenset({VersionStatus.SUPERSEDED}),
    VersionStatus.SUPERSEDED: frozenset(),
}
"""The moves each state allows; publishing a draft directly is further limited to where approval does not
apply (`publish`)."""


def approval_applies(template: Template, approval_categories: Collection[str]) -> bool:
    return str(template.category) in approval_categories


def version_to_submit(session: Session, key: str, number: int) -> tuple[Template, TemplateVersion]:
    """What the lint before a submit reads (409 at once when the version cannot be submitted); the caller
    ends the transaction before linting, since lint renders the author's template with the sample data."""
    version = get_version(session, key, number)
    require_move(key, version, VersionStatus.SUBMITTED)
    return get_template(session, key), version


def submit(
    session: Session, key: str, number: int, identity: str, comment: str = "", *, settings: Settings
) -> TemplateVersion:
    """Ask for a review of a draft; one with lint errors is refused (422 `lint_failed`, with the issues).
    No transaction is open while the lint renders; the move then checks the state again."""
    template, version = version_to_submit(session, key, number)
    session.commit()
    require_no_lint_errors(settings, template, version)
    session.expire_all()  # read the state again: another reviewer may have moved it meanwhile
    version = get_version(session, key, number)
    require_move(key, version, VersionStatus.SUBMITTED)
    return move(session, version, VersionStatus.SUBMITTED, identity, comment)


def approve(session: Session, key: str, number: int, identity: str, comment: str = "") -> TemplateVersion:
    """A second pair of eyes lets a submitted version go live."""
    return _review(session, key, number, identity, VersionStatus.APPROVED, comment)


def reject(session: Session, key: str, number: int, identity: str, comment: str) -> TemplateVersion:
    """A second pair of eyes sends a submitted version back; its author fixes it in a new version."""
    return _review(session, key, number, identity, VersionStatus.REJECTED, comment)


def _review(
    session: Session, key: str, number: int, identity: str, verdict: VersionStatus, comment: str
) -> TemplateVersion:
    return review(session, key, get_version(session, key, number), identity, verdict, comment)


def review(
    session: Session, key: str, version: AnyVersion, identity: str, verdict: VersionStatus, comment: str
) -> AnyVersion:
    """Approve or reject a submitted version; its author and its submitter may not (403 `four_eyes`)."""
    require_move(key, version, verdict)
    submitter = submitter_of(session, version)
    if identity in (version.created_by, submitter):
        who = "wrote" if identity == version.created_by else "submitted"
        raise Forbidden(
            f"you {who} version {version.number} of '{key}': someone else must review it (four-eyes)",
            field="version",
            code="four_eyes",
        )
    return move(session, version, verdict, identity, comment)


def publish(
    session: Session, key: str, number: int, identity: str, *, approval_categories: Collection[str]
) -> TemplateVersion:
    """Make a version the live one, superseding the one before; publishing the live version is a no-op."""
    template = _locked_template(session, key)
    version = get_version(session, key, number)
    if version.status == VersionStatus.PUBLISHED:
        return version
    live = published_version(session, template)
    what = f"'{key}' is a {template.category} template"
    approval = approval_applies(template, approval_categories)
    again = f'roll back to it (POST /v1/templates/{key}/rollback {{"to": {number}}})'
    return go_live(session, key, version, live, identity, approval=approval, what=what, again=again)


def go_live(
    session: Session,
    key: str,
    version: AnyVersion,
    live: AnyVersion | None,
    identity: str,
    *,
    approval: bool,
    what: str,
    again: str,
) -> AnyVersion:
    """Publish `version` in place of `live`: never behind it (`again` says how to bring its content back),
    and only once approved where `approval` applies (`what` says why); the caller locks their owner."""
    number = version.number
    if live is not None and live.number > number:
        raise Conflict(
            f"version {number} of '{key}' is older than the published version {live.number}, which sends"
            f" keep using; to make its content live again, {again}: that saves it as a new version, which"
            " goes live the usual way",
            field="version",
            code="version_superseded",
        )
    if approval and version.status in (VersionStatus.DRAFT, VersionStatus.SUBMITTED):
        raise Conflict(
            f"{what}: version {number} goes live only once approved by"
            f" a marketer or admin other than its author (it is {version.status}; submit it for review)",
            field="version",
            code="approval_required",
        )
    require_move(key, version, VersionStatus.PUBLISHED)
    if live is not None:
        move(session, live, VersionStatus.SUPERSEDED, identity, f"version {number} was published")
    version.published_at = utcnow()
    return move(session, version, VersionStatus.PUBLISHED, identity)


def rollback(session: Session, key: str, to: int, identity: str) -> TemplateVersion:
    """A new draft holding version `to`'s content, so that content can go live again, reviewed as usual."""
    source = get_version(session, key, to)
    template = get_template(session, key)
    template.updated_at = utcnow()
    draft = TemplateVersion(
        **content_of(source),
        template_id=source.template_id,
        number=latest_version(session, template).number + 1,
        status=VersionStatus.DRAFT,
        created_by=identity,
    )
    session.add(draft)
    session.flush()
    record_saved(session, draft, identity, comment=rollback_comment(to))
    return draft


def require_move(key: str, version: TemplateVersion | LibraryVersion, to: VersionStatus) -> None:
    """409 `invalid_transition` unless the version's state allows the move, saying what would."""
    if to in MOVES[VersionStatus(version.status)]:
        return
    message = f"version {version.number} of '{key}' is {version.status}: it cannot become {to}"
    if version.status == VersionStatus.REJECTED:
        message += "; versions never change, so save the corrections as a new version and submit that"
    elif version.status == VersionStatus.SUBMITTED and to == VersionStatus.PUBLISHED:
        message += "; it awaits review: approve or reject it first"
    elif to in (VersionStatus.APPROVED, VersionStatus.REJECTED):
        message += "; only a submitted version is reviewed"
    raise Conflict(message, field="version", code="invalid_transition")


def _locked_template(session: Session, key: str) -> Template:
    """The template, locked until commit on PostgreSQL, so two publishes of it take turns."""
    template = get_template(session, key)
    session.refresh(template, with_for_update=True)
    return template
