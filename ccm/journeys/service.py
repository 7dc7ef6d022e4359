"""Journeys and their versions: save a definition (checked whole, templates and endpoints included), read
the live one, pause, resume and stop. Never commits: the request boundary does."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from ccm.customers.segments import find_segment
from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable
from ccm.journeys.checks import check_definition
from ccm.journeys.definition import JourneyContent, JourneyCreate
from ccm.journeys.models import Enrolment, Journey, JourneyState, JourneyVersion, RunStatus
from ccm.registry.models import Template, VersionStatus
from ccm.webhooks.models import WebhookEndpoint


def create_journey(session: Session, request: JourneyCreate, *, author: str) -> JourneyVersion:
    """A new journey and its version 1, a draft; 409 `journey_exists` for a key in use."""
    if session.exec(select(Journey).where(Journey.key == request.key)).first() is not None:
        raise Conflict(f"journey '{request.key}' already exists", field="key", code="journey_exists")
    journey = Journey(key=request.key, category=request.category)
    session.add(journey)
    session.flush()
    content = JourneyContent.model_validate(
        request.model_dump(exclude={"key", "category"}, by_alias=True, exclude_none=True)
    )
    return _save_version(session, journey, content, number=1, author=author)


def add_version(session: Session, key: str, content: JourneyContent, *, author: str) -> JourneyVersion:
    """The next numbered draft of a journey; runs already going stay on the version they started on."""
    journey = get_journey(session, key, for_update=True)
    versions = versions_of(session, journey)
    journey.updated_at = utcnow()
    return _save_version(session, journey, content, number=versions[-1].number + 1, author=author)


def _save_version(
    session: Session, journey: Journey, content: JourneyContent, *, number: int, author: str
) -> JourneyVersion:
    check_definition(content)
    check_references(session, content)
    assert journey.id is not None
    version = JourneyVersion(
        journey_id=journey.id,
        number=number,
        status=VersionStatus.DRAFT,
        definition=content.model_dump(mode="json", by_alias=True, exclude_none=True),
        created_by=author,
    )
    session.add(version)
    session.flush()
    return version


def check_references(session: Session, content: JourneyContent) -> None:
    """422 naming `steps[i]…` for a send step's unknown template or a webhook step's unknown endpoint,
    and `trigger.segment` for an unknown segment."""
    segment = content.trigger.segment
    if segment is not None and find_segment(session, segment) is None:
        raise Unprocessable(
            f"trigger.segment: no saved segment has the key '{segment}'",
            field="trigger.segment",
            code="unknown_segment",
        )
    keys = {step.send.template for step in content.steps if step.send is not None}
    known = (
        set(session.exec(select(Template.key).where(col(Template.key).in_(keys))).all()) if keys else set()
    )
    for index, step in enumerate(content.steps):
        if step.send is not None and step.send.template not in known:
            field = f"steps[{index}].send.template"
            raise Unprocessable(
                f"{field}: no template has the key '{step.send.template}'",
                field=field,
                code="unknown_template",
            )
        if step.webhook is not None and session.get(WebhookEndpoint, step.webhook.endpoint) is None:
            field = f"steps[{index}].webhook.endpoint"
            raise Unprocessable(
                f"{field}: no webhook endpoint has the id {step.webhook.endpoint}",
                field=field,
                code="unknown_endpoint",
            )


def get_journey(session: Session, key: str, *, for_update: bool = False) -> Journey:
    statement = select(Journey).where(Journey.key == key)
    if for_update:
        statement = statement.with_for_update()
    journey = session.exec(statement).first()
    if journey is None:
        raise NotFound(f"journey '{key}' not found", field="key", code="journey_not_found")
    return journey


def list_journeys(session: Session) -> list[Journey]:
    return list(session.exec(select(Journey).order_by(col(Journey.key))).all())


def versions_of(session: Session, journey: Journey) -> list[JourneyVersion]:
    statement = (
        select(JourneyVersion)
        .where(JourneyVersion.journey_id == journey.id)
        .order_by(col(JourneyVersion.number))
    )
    return list(session.exec(statement).all())


def get_version(session: Session, journey: Journey, number: int) -> JourneyVersion:
    statement = select(JourneyVersion).where(
        JourneyVersion.journey_id == journey.id, JourneyVersion.number == number
    )
    version = session.exec(statement).first()
    if version is None:
        raise NotFound(
            f"journey '{journey.key}' has no version {number}", field="version", code="version_not_found"
        )
    return version


def live_version(session: Session, journey: Journey) -> JourneyVersion | None:
    """The published version: the one new runs start on."""
    statement = select(JourneyVersion).where(
        JourneyVersion.journey_id == journey.id, JourneyVersion.status == VersionStatus.PUBLISHED
    )
    return session.exec(statement).first()


def live_definitions(session: Session) -> list[tuple[Journey, JourneyVersion, JourneyContent]]:
    """Every active journey with its live version and that version's definition, by key."""
    rows = session.exec(
        select(Journey, JourneyVersion)
        .join(JourneyVersion, col(JourneyVersion.journey_id) == col(Journey.id))
        .where(Journey.state == JourneyState.ACTIVE, JourneyVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(Journey.key))
    ).all()
    return [(j, version, JourneyContent.model_validate(version.definition)) for j, version in rows]


def pause(session: Session, key: str) -> Journey:
    """Runs hold their place (workers do not claim them) until `resume`; nobody new enrols meanwhile."""
    return _set_state(session, key, JourneyState.PAUSED, allowed={JourneyState.ACTIVE})


def resume(session: Session, key: str) -> Journey:
    """Runs go on from where they were; a wait that ended meanwhile is due at once."""
    return _set_state(session, key, JourneyState.ACTIVE, allowed={JourneyState.PAUSED})


def stop(session: Session, key: str) -> Journey:
    """Every running enrolment exits (recorded as `journey_stopped`) and nobody enrols again."""
    journey = _set_state(
        session, key, JourneyState.STOPPED, allowed={JourneyState.ACTIVE, JourneyState.PAUSED}
    )
    now = utcnow()
    session.exec(
        update(Enrolment)
        .where(col(Enrolment.journey_id) == journey.id, col(Enrolment.status) == RunStatus.ACTIVE)
        .values(
            status=RunStatus.EXITED, end_reason="journey_stopped", ended_at=now, due_at=None, updated_at=now
        )
    )
    return journey


def _set_state(session: Session, key: str, to: JourneyState, *, allowed: set[JourneyState]) -> Journey:
    journey = get_journey(session, key, for_update=True)
    if journey.state not in allowed:
        raise Conflict(
            f"journey '{key}' is {journey.state}: it cannot become {to}", field="key", code="invalid_state"
        )
    journey.state = to
    journey.updated_at = utcnow()
    session.add(journey)
    session.flush()
    return journey
