"""Campaigns with their progress, and the pause/resume/cancel buttons that apply (form posts answered 303)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse

from ccm.access.permissions import Permission
from ccm.campaigns import control, service
from ccm.campaigns.models import CampaignStatus
from ccm.campaigns.schemas import CampaignOut
from ccm.communications.models import MessageStatus
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import Conflict
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_READ))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CAMPAIGNS_WRITE))]
CampaignIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
LIMIT = 100
Action = Literal["pause", "resume", "cancel"]


def actions(campaign: CampaignOut) -> tuple[Action, ...]:
    """The controls that would change something (see `ccm.campaigns.control`).

    A cancelled campaign takes none. A completed one has considered every recipient, so pausing or
    cancelling only holds or stops its messages still queued (throttled, or due at a local time); with
    none left it is finished and takes none either.
    """
    if campaign.status == CampaignStatus.CANCELLED:
        return ()
    if campaign.status == CampaignStatus.PAUSED:
        return ("resume", "cancel")
    if campaign.status == CampaignStatus.COMPLETED and not campaign.progress.messages.get(
        MessageStatus.QUEUED
    ):
        return ()
    return ("pause", "cancel")


@router.get("/ui/campaigns")
def campaigns_list(request: Request, session: SessionDep, viewer: Reader) -> Response:
    campaigns = [service.campaign_out(session, c) for c in service.list_campaigns(session, limit=LIMIT)]
    rows = [(campaign, actions(campaign)) for campaign in campaigns]
    context = {"viewer": viewer, "rows": rows, "can_change": viewer.may(Permission.CAMPAIGNS_WRITE)}
    return ui_page(request, "ui/campaigns_list.html", context)


@router.post("/ui/campaigns/{campaign_id}/{action}")
def change_campaign(
    campaign_id: CampaignIdPath,
    action: Action,
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Writer,
) -> Response:
    """Apply a button's action; one the page no longer offers (it went stale) is a 409 page."""
    campaign = service.campaign_out(session, service.get_campaign(session, campaign_id))
    if action not in actions(campaign):
        raise Conflict(
            f"campaign {campaign_id} is {campaign.status}: {action} no longer applies",
            field="action",
            code="action_not_applicable",
        )
    if action == "pause":
        control.pause(session, campaign_id)
    elif action == "resume":
        control.resume(session, campaign_id, settings=settings)
    else:
        control.cancel(session, campaign_id)
    return RedirectResponse("/ui/campaigns", status_code=303)
