"""`POST /v1/events`: a named event for a customer, which may enrol them in journeys. A retried request
with the same `Idempotency-Key` replays the first answer, so it enrols once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.communications import idempotency
from ccm.dependencies import SessionDep, SettingsDep, require
from ccm.journeys.clock import journey_now
from ccm.journeys.events import post_event
from ccm.journeys.schemas import EnrolmentRef, EventAccepted, EventCreate

router = APIRouter(prefix="/v1/events", tags=["journeys"])
Sender = Annotated[ApiKey, Depends(require(Permission.MESSAGES_SEND, writes=True))]


@router.post(
    "",
    status_code=202,
    response_model=EventAccepted,
    responses={404: {"description": "customer_not_found"}, 409: {}, 422: {}},
)
def create_event(
    request: EventCreate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Sender,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    """Record the event; the runs it completes (goal) end, those waiting for it wake, and the journeys
    it triggers enrol the customer (by their re-entry rule). 202 with the new enrolments."""
    key = idempotency.validate_key(idempotency_key) if idempotency_key is not None else None
    body_hash = idempotency.request_hash(request.model_dump(mode="json"))
    if key is not None:
        previous = idempotency.replay(session, key, body_hash, api_key_id=caller.id)
        if previous is not None:
            headers = {"Idempotent-Replayed": "true"}
            return JSONResponse(previous.response_body, previous.response_status, headers=headers)
    now = journey_now(settings)
    enrolled = post_event(session, request.customer_id, request.name, request.properties, now=now)
    body = EventAccepted(enrolments=[EnrolmentRef(journey=e.journey, id=e.id) for e in enrolled])
    response = body.model_dump(mode="json")
    if key is not None:
        idempotency.remember(
            session,
            key=key,
            body_hash=body_hash,
            api_key_id=caller.id,
            status=202,
            response=response,
            ttl_hours=settings.idempotency_ttl_hours,
        )
    session.commit()  # committed before the client hears 202
    return JSONResponse(response, status_code=202)
