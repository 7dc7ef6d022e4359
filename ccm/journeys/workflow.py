"""A journey version's way to going live, on the registry's moves (`ccm.registry.workflow.MOVES`): draft ->
submitted -> approved or rejected -> published, with four-eyes review where the journey's category needs
approval (`CCM_APPROVAL_CATEGORIES`, as for templates). One version per journey is live; publishing
another supersedes it, and runs already going stay on the version they started on."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session

from ccm.database import utcnow
from ccm.errors import Conflict, Forbidden
from ccm.journeys.definition import JourneyContent
from ccm.journeys.models import JourneyVersion
from ccm.journeys.service import get_journey, get_version, live_version
from ccm.journeys.triggers import baseline
from ccm.registry.models import VersionStatus
from ccm.registry.workflow import MOVES


def submit(session: Session, key: str, number: int, identity: str) -> JourneyVersion:
    """Ask a second person to review a draft."""
    version = get_version(session, get_journey(session, key), number)
    _move(key, version, VersionStatus.SUBMITTED)
    version.submitted_by = identity
    return version


def review(session: Session, key: str, number: int, identity: str, verdict: VersionStatus) -> JourneyVersion:
    """Approve or reject a submitted version; its author and its submitter may not (403 `four_eyes`)."""
    version = get_version(session, get_journey(session, key), number)
    if identity in (version.created_by, version.submitted_by):
        raise Forbidden(
            f"you wrote or submitted version {number} of journey '{key}': someone else must review it"
            " (four-eyes)",
            field="version",
            code="four_eyes",
        )
    _move(key, version, verdict)
    version.reviewed_by = identity
    return version


def publish(
    session: Session, key: str, number: int, *, approval_categories: Collection[str], now: datetime
) -> JourneyVersion:
    """Make a version the live one (approved first where the category needs it), superseding the last."""
    journey = get_journey(session, key, for_update=True)
    version = get_version(session, journey, number)
    if version.status == VersionStatus.PUBLISHED:
        return version
    if journey.category in approval_categories and version.status != VersionStatus.APPROVED:
        raise Conflict(
            f"journey '{key}' is {journey.category}: version {number} goes live only once approved by"
            f" someone other than its author (it is {version.status}; submit it for review)",
            field="version",
            code="approval_required",
        )
    live = live_version(session, journey)
    if live is not None and live.number > number:
        raise Conflict(
            f"version {number} of journey '{key}' is older than the live version {live.number}",
            field="version",
            code="version_superseded",
        )
    _move(key, version, VersionStatus.PUBLISHED)
    if live is not None:
        _move(key, live, VersionStatus.SUPERSEDED)
        session.flush()
    version.published_at = utcnow()
    session.add(version)
    session.flush()
    baseline(session, journey, JourneyContent.model_validate(version.definition), now)
    return version


def _move(key: str, version: JourneyVersion, to: VersionStatus) -> None:
    """409 `invalid_transition` unless the registry's moves allow it, else put the version in `to`."""
    if to not in MOVES[VersionStatus(version.status)]:
        raise Conflict(
            f"version {version.number} of journey '{key}' is {version.status}: it cannot become {to}",
            field="version",
            code="invalid_transition",
        )
    version.status = to
