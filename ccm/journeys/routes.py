"""HTTP for journeys: save versions, take them live (four-eyes where the category needs it), read the
definition with per-step counts, pause, resume and stop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from ccm.access.identity import identity_of
from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.journeys import service, workflow
from ccm.journeys.analytics import JourneyAnalytics, journey_analytics
from ccm.journeys.clock import journey_now
from ccm.journeys.counts import step_counts
from ccm.journeys.definition import JourneyContent, JourneyCreate
from ccm.journeys.models import Journey, JourneyVersion
from ccm.journeys.schemas import JourneyList, JourneyOut, JourneySummary, VersionOut
from ccm.registry.models import VersionStatus

router = APIRouter(prefix="/v1/journeys", tags=["journeys"])
Reader = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_WRITE))]
"""Journeys send to customers as campaigns do: whoever may run a campaign may define one."""
Reviewer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_APPROVE))]
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
NumberPath = Annotated[int, Path(ge=1, le=1_000_000)]


def version_out(version: JourneyVersion) -> VersionOut:
    return VersionOut.model_validate(version, from_attributes=True)


def journey_out(session: Session, journey: Journey) -> JourneyOut:
    versions = service.versions_of(session, journey)
    live = service.live_version(session, journey)
    shown = live or versions[-1]
    step_ids = [str(step["id"]) for step in shown.definition.get("steps", [])]
    return JourneyOut(
        key=journey.key,
        category=journey.category,
        state=journey.state,
        live_version=live.number if live else None,
        versions=[version_out(v) for v in versions],
        definition=shown.definition,
        steps=step_counts(session, journey, step_ids),
    )


@router.post("", status_code=201, response_model=JourneyOut, responses={409: {}, 422: {}})
def create_journey(request: JourneyCreate, session: SessionDep, caller: Writer) -> JourneyOut:
    """Version 1 of a new journey, a draft; a step naming an unknown step or template is a 422 naming
    `steps[i]…`, steps that loop are 422 `journey_cycle`."""
    service.create_journey(session, request, author=identity_of(caller))
    return journey_out(session, service.get_journey(session, request.key))


@router.get("", response_model=JourneyList)
def list_journeys(session: ReadSessionDep, _caller: Reader) -> JourneyList:
    summaries = []
    for journey in service.list_journeys(session):
        versions = service.versions_of(session, journey)
        live = service.live_version(session, journey)
        summaries.append(
            JourneySummary(
                key=journey.key,
                category=journey.category,
                state=journey.state,
                live_version=live.number if live else None,
                latest_version=versions[-1].number,
            )
        )
    return JourneyList(journeys=summaries)


@router.get("/{key}", response_model=JourneyOut, responses={404: {}})
def get_journey(key: KeyPath, session: ReadSessionDep, _caller: Reader) -> JourneyOut:
    """The live definition (the newest while none is live) and, per step id, the runs' counts."""
    return journey_out(session, service.get_journey(session, key))


@router.get("/{key}/analytics", response_model=JourneyAnalytics, responses={404: {}})
def get_analytics(
    key: KeyPath,
    session: ReadSessionDep,
    _caller: Reader,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> JourneyAnalytics:
    """Per send step and split variant: sent, people's unique opens and clicks, goal conversions; of one
    version's runs with `version`, else of every version's (steps as the live, else newest, version)."""
    journey = service.get_journey(session, key)
    if version is not None:
        return journey_analytics(session, journey, service.get_version(session, journey, version), only=True)
    shown = service.live_version(session, journey) or service.versions_of(session, journey)[-1]
    return journey_analytics(session, journey, shown, only=False)


@router.post("/{key}/versions", status_code=201, response_model=VersionOut, responses={404: {}, 422: {}})
def add_version(key: KeyPath, request: JourneyContent, session: SessionDep, caller: Writer) -> VersionOut:
    return version_out(service.add_version(session, key, request, author=identity_of(caller)))


@router.post("/{key}/versions/{number}/submit", response_model=VersionOut, responses={404: {}, 409: {}})
def submit_version(key: KeyPath, number: NumberPath, session: SessionDep, caller: Writer) -> VersionOut:
    return version_out(workflow.submit(session, key, number, identity_of(caller)))


@router.post(
    "/{key}/versions/{number}/approve", response_model=VersionOut, responses={403: {}, 404: {}, 409: {}}
)
def approve_version(key: KeyPath, number: NumberPath, session: SessionDep, caller: Reviewer) -> VersionOut:
    """A second pair of eyes: neither the version's author nor its submitter (403 `four_eyes`)."""
    return version_out(workflow.review(session, key, number, identity_of(caller), VersionStatus.APPROVED))


@router.post(
    "/{key}/versions/{number}/reject", response_model=VersionOut, responses={403: {}, 404: {}, 409: {}}
)
def reject_version(key: KeyPath, number: NumberPath, session: SessionDep, caller: Reviewer) -> VersionOut:
    return version_out(workflow.review(session, key, number, identity_of(caller), VersionStatus.REJECTED))


@router.post("/{key}/versions/{number}/publish", response_model=VersionOut, responses={404: {}, 409: {}})
def publish_version(
    key: KeyPath, number: NumberPath, session: SessionDep, settings: SettingsDep, _caller: Writer
) -> VersionOut:
    """The version new runs start on; runs already going keep theirs."""
    categories = settings.approval_categories
    version = workflow.publish(
        session, key, number, approval_categories=categories, now=journey_now(settings)
    )
    return version_out(version)


@router.post("/{key}/pause", response_model=JourneyOut, responses={404: {}, 409: {}})
def pause(key: KeyPath, session: SessionDep, _caller: Writer) -> JourneyOut:
    """Runs hold their place and nobody enrols until `resume`."""
    return journey_out(session, service.pause(session, key))


@router.post("/{key}/resume", response_model=JourneyOut, responses={404: {}, 409: {}})
def resume(key: KeyPath, session: SessionDep, _caller: Writer) -> JourneyOut:
    return journey_out(session, service.resume(session, key))


@router.post("/{key}/stop", response_model=JourneyOut, responses={404: {}, 409: {}})
def stop(key: KeyPath, session: SessionDep, _caller: Writer) -> JourneyOut:
    """Every running enrolment exits (`journey_stopped`); a stopped journey stays stopped."""
    return journey_out(session, service.stop(session, key))
