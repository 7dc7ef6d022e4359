"""HTTP for campaigns: create, list, progress, pause, resume, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.campaigns import control, service
from ccm.campaigns.models import CampaignStatus
from ccm.campaigns.schemas import CampaignCreate, CampaignOut, CampaignPage
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
Writer = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_WRITE))]
Reader = Annotated[ApiKey, Depends(require(Permission.CAMPAIGNS_READ))]
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", status_code=201, response_model=CampaignOut, responses={404: {}, 422: {}})
def create_campaign(
    request: CampaignCreate, session: SessionDep, settings: SettingsDep, caller: Writer
) -> CampaignOut:
    """Pin the template's published version; the scheduler fans the campaign out at its time."""
    campaign = service.create_campaign(session, request, settings=settings, api_key_id=caller.id)
    return service.campaign_out(session, campaign)


@router.get("", response_model=CampaignPage)
def list_campaigns(
    session: ReadSessionDep,
    _caller: Reader,
    status: CampaignStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CampaignPage:
    campaigns = service.list_campaigns(
        session, status=status.value if status else None, limit=limit, offset=offset
    )
    items = [service.campaign_out(session, c) for c in campaigns]
    return CampaignPage(items=items, limit=limit, offset=offset)


@router.get("/{campaign_id}", response_model=CampaignOut, responses={404: {}})
def get_campaign(campaign_id: CampaignId, session: ReadSessionDep, _caller: Reader) -> CampaignOut:
    return service.campaign_out(session, service.get_campaign(session, campaign_id))


@router.post("/{campaign_id}/pause", response_model=CampaignOut, responses={404: {}, 409: {}})
def pause_campaign(campaign_id: CampaignId, session: SessionDep, _caller: Writer) -> CampaignOut:
    """Stop the fan-out and hold the queued messages no worker has claimed."""
    return service.campaign_out(session, control.pause(session, campaign_id))


@router.post("/{campaign_id}/resume", response_model=CampaignOut, responses={404: {}, 409: {}})
def resume_campaign(
    campaign_id: CampaignId, session: SessionDep, settings: SettingsDep, _caller: Writer
) -> CampaignOut:
    return service.campaign_out(session, control.resume(session, campaign_id, settings=settings))


@router.post("/{campaign_id}/cancel", response_model=CampaignOut, responses={404: {}, 409: {}})
def cancel_campaign(campaign_id: CampaignId, session: SessionDep, _caller: Writer) -> CampaignOut:
    """Cancel the queued and held messages; those already being sent finish."""
    return service.campaign_out(session, control.cancel(session, campaign_id))
