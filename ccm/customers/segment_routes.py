"""HTTP for saved segments: marketers define them; every role that reads customers may list and preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import segments
from ccm.customers.segment_schemas import (
    PreviewOut,
    PreviewRequest,
    SegmentCreate,
    SegmentIn,
    SegmentList,
    SegmentOut,
)
from ccm.dependencies import ReadSessionDep, SessionDep, require

router = APIRouter(prefix="/v1/segments", tags=["segments"])
Reader = Annotated[ApiKey, Depends(require(Permission.CUSTOMERS_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_WRITE))]
"""Segments are who campaigns go to: whoever may create a campaign may define one."""
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


@router.get("", response_model=SegmentList)
def list_segments(session: ReadSessionDep, _caller: Reader) -> SegmentList:
    return SegmentList(segments=[segments.segment_out(s) for s in segments.list_segments(session)])


@router.post("", status_code=201, response_model=SegmentOut, responses={409: {}, 422: {}})
def create_segment(request: SegmentCreate, session: SessionDep, _caller: Writer) -> SegmentOut:
    """The rule is checked on save: a bad part is a 422 naming its path (`rule.all[1].op`)."""
    return segments.segment_out(segments.create_segment(session, request))


@router.post(":preview", response_model=PreviewOut, responses={404: {}, 422: {}})
def preview_segment(request: PreviewRequest, session: ReadSessionDep, _caller: Reader) -> PreviewOut:
    """How many customers a rule (or a saved segment) selects now, and the first 10 by external id."""
    return segments.preview_of(session, request)


@router.get("/{key}", response_model=SegmentOut, responses={404: {}})
def get_segment(key: KeyPath, session: ReadSessionDep, _caller: Reader) -> SegmentOut:
    return segments.segment_out(segments.get_segment(session, key))


@router.put("/{key}", response_model=SegmentOut, responses={404: {}, 422: {}})
def update_segment(key: KeyPath, request: SegmentIn, session: SessionDep, _caller: Writer) -> SegmentOut:
    return segments.segment_out(segments.update_segment(session, key, request))


@router.delete("/{key}", status_code=204, response_class=Response, responses={404: {}})
def delete_segment(key: KeyPath, session: SessionDep, _caller: Writer) -> Response:
    segments.delete_segment(session, key)
    return Response(status_code=204)
