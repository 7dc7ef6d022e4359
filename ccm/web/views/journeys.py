"""Journeys: the list, one journey drawn as a flow diagram with each step's live counts and each branch's
conversion (the numbers `GET /v1/journeys/{key}` gives, refreshed by a small script), and the
pause/resume/stop buttons (form posts answered 303, through the service the API calls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep
from ccm.errors import Conflict
from ccm.journeys import service
from ccm.journeys.counts import step_counts
from ccm.journeys.definition import JourneyContent
from ccm.journeys.models import Journey, JourneyState, JourneyVersion
from ccm.journeys.places import running_counts
from ccm.journeys.schemas import StepCounts
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.journey_diagram import layout
from ccm.web.rendering import content_security_policy, ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_READ))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CAMPAIGNS_WRITE))]
"""The API's permissions for journeys (`ccm.journeys.routes`)."""
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
Action = Literal["pause", "resume", "stop"]
ACTIONS: dict[JourneyState, tuple[Action, ...]] = {
    JourneyState.ACTIVE: ("pause", "stop"),
    JourneyState.PAUSED: ("resume", "stop"),
    JourneyState.STOPPED: (),
}
"""The buttons a journey in each state takes (the service refuses the others with a 409)."""
CHANGES = {"pause": service.pause, "resume": service.resume, "stop": service.stop}


@router.get("/ui/journeys")
def journeys_list(request: Request, session: SessionDep, viewer: Reader) -> Response:
    running = running_counts(session)
    rows = []
    for journey in service.list_journeys(session):
        versions = service.versions_of(session, journey)
        live = service.live_version(session, journey)
        shown = live or versions[-1]
        rows.append(
            (journey, shown.definition.get("name", journey.key), live, running.get(journey.id or 0, 0))
        )
    return ui_page(request, "ui/journeys_list.html", {"viewer": viewer, "rows": rows})


def way_share(ways: Mapping[str, int], key: str) -> str:
    """A branch's or split's conversion on one way: its part of the runs that left the step (`(67%)`), or
    nothing before any run has. The counts script writes the same text as it refreshes."""
    total = sum(ways.values())
    return f"({round(100 * ways.get(key, 0) / total)}%)" if total else ""


def shown_version(session: Session, journey: Journey, number: int | None) -> JourneyVersion:
    """The version asked for; else the live one, or the newest while none is live (as the API shows)."""
    if number is not None:
        return service.get_version(session, journey, number)
    return service.live_version(session, journey) or service.versions_of(session, journey)[-1]


def counts_of(session: Session, journey: Journey, version: JourneyVersion) -> dict[str, StepCounts]:
    """The API's per-step counts (over every version) for the steps of the version shown."""
    return step_counts(session, journey, [str(step["id"]) for step in version.definition.get("steps", [])])


@router.get("/ui/journeys/{key}")
def journey_detail(
    key: KeyPath,
    request: Request,
    session: SessionDep,
    viewer: Reader,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    journey = service.get_journey(session, key)
    shown = shown_version(session, journey, version)
    content = JourneyContent.model_validate(shown.definition)
    live = service.live_version(session, journey)
    diagram, counts = layout(content), counts_of(session, journey, shown)
    context = {
        "viewer": viewer,
        "journey": journey,
        "content": content,
        "shown": shown,
        "live": live,
        "versions": service.versions_of(session, journey),
        "diagram": diagram,
        "counts": counts,
        "summaries": {box.id: box.summary for box in diagram.boxes},
        "ways": {
            step.id: [e for e in diagram.edges if e.source == step.id and e.key] for step in content.steps
        },
        "skips": any(c.skipped for c in counts.values()),
        "actions": ACTIONS[journey.state],
        "can_change": viewer.may(Permission.CAMPAIGNS_WRITE),
        "counts_url": f"/ui/journeys/{key}/counts" + (f"?version={version}" if version else ""),
        "way_share": way_share,
    }
    policy = content_security_policy(scripts="'self'")  # the counts poller
    return ui_page(request, "ui/journey_detail.html", context, csp=policy)


@router.get("/ui/journeys/{key}/counts")
def journey_counts(
    key: KeyPath,
    session: SessionDep,
    _viewer: Reader,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    """What the page's script redraws: the journey's state and its steps' counts."""
    journey = service.get_journey(session, key)
    counts = counts_of(session, journey, shown_version(session, journey, version))
    body = {"state": journey.state, "steps": {step: c.model_dump() for step, c in counts.items()}}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/ui/journeys/{key}/{action}")
def change_journey(key: KeyPath, action: Action, session: SessionDep, _viewer: Writer) -> Response:
    """Apply a button's action; one the journey's state no longer takes (the page went stale) is a 409."""
    journey = service.get_journey(session, key)
    if action not in ACTIONS[journey.state]:
        raise Conflict(
            f"journey '{key}' is {journey.state}: {action} no longer applies",
            field="action",
            code="action_not_applicable",
        )
    CHANGES[action](session, key)
    return RedirectResponse(f"/ui/journeys/{key}", status_code=303)
