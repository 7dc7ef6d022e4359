"""Survey figures over the API: `GET /v1/feedback/nps` (`ccm.engagement.feedback_figures`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.dependencies import ReadSessionDep, require
from ccm.engagement.feedback_figures import FeedbackFilter, GroupBy, feedback_figures
from ccm.engagement.schemas import FeedbackFigures
from ccm.errors import Unprocessable

router = APIRouter(prefix="/v1/feedback", tags=["engagement"])
Reader = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_READ))]


@router.get("/nps", response_model=FeedbackFigures, responses={422: {}})
def nps(
    session: ReadSessionDep,
    _caller: Reader,
    template: Annotated[str | None, Query(max_length=100)] = None,
    campaign: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    by: GroupBy | None = None,
) -> FeedbackFigures:
    """NPS and CSAT of the answers to a template's or campaign's surveys, answered in [from, to)."""
    if since is not None and until is not None and since >= until:
        raise Unprocessable("'from' must be before 'to'", field="from", code="invalid_range")
    where = FeedbackFilter(template, campaign, _utc(since), _utc(until))
    return feedback_figures(session, where, by)


def _utc(moment: datetime | None) -> datetime | None:
    """A time given without an offset is read as UTC, as every time the service stores is."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
