"""HTTP for the suppression list: see who is blocked and why; operators add and lift entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import suppression
from ccm.customers.models import Suppression
from ccm.customers.schemas import SuppressibleChannel, SuppressionIn, SuppressionOut
from ccm.dependencies import SessionDep, require
from ccm.errors import Conflict, NotFound

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])
Reader = Annotated[ApiKey, Depends(require(Permission.MESSAGES_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.SUPPRESSIONS_WRITE))]
ChannelPath = Annotated[SuppressibleChannel, Path()]
AddressPath = Annotated[str, Path(min_length=3, max_length=320, pattern=r"^[^\x00-\x1f\s/]+$")]


def suppression_out(row: Suppression) -> SuppressionOut:
    return SuppressionOut(
        channel=row.channel,
        address=row.address,
        reason=row.reason,
        detail=row.detail,
        source=row.source,
        message_id=row.message_id,
        created_at=row.created_at,
    )


@router.get("", response_model=list[SuppressionOut])
def list_suppressions(
    session: SessionDep,
    _caller: Reader,
    channel: Annotated[SuppressibleChannel | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[SuppressionOut]:
    rows = suppression.list_suppressions(session, channel=channel, limit=limit, offset=offset)
    return [suppression_out(row) for row in rows]


@router.post("", status_code=201, response_model=SuppressionOut, responses={409: {}})
def add_suppression(request: SuppressionIn, session: SessionDep, _caller: Writer) -> SuppressionOut:
    added = suppression.suppress(
        session,
        channel=request.channel,
        address=request.address,
        reason=request.reason,
        detail=request.detail,
        source="api",
    )
    if not added:
        raise Conflict(
            f"{request.address} is already suppressed on {request.channel}", code="already_suppressed"
        )
    row = suppression.suppression_for(session, request.channel, request.address)
    assert row is not None
    return suppression_out(row)


@router.delete("/{channel}/{address}", status_code=204, response_class=Response, responses={404: {}})
def remove_suppression(
    channel: ChannelPath, address: AddressPath, session: SessionDep, _caller: Writer
) -> Response:
    if not suppression.unsuppress(session, channel, address):
        raise NotFound(f"{address} is not suppressed on {channel}", code="not_suppressed")
    return Response(status_code=204)
