"""Campaigns with their progress, and pause/resume/cancel buttons (each a form post answered 303)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse

from ccm.access.permissions import Permission
from ccm.campaigns import control, service
from ccm.dependencies import SessionDep, SettingsDep
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_READ))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CAMPAIGNS_WRITE))]
CampaignIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
LIMIT = 100


@router.get("/ui/campaigns")
def campaigns_list(request: Request, session: SessionDep, viewer: Reader) -> Response:
    campaigns = [service.campaign_out(session, c) for c in service.list_campaigns(session, limit=LIMIT)]
    context = {"viewer": viewer, "campaigns": campaigns, "can_change": viewer.may(Permission.CAMPAIGNS_WRITE)}
    return ui_page(request, "ui/campaigns_list.html", context)


@router.post("/ui/campaigns/{campaign_id}/{action}")
def change_campaign(
    campaign_id: CampaignIdPath,
    action: Literal["pause", "resume", "cancel"],
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Writer,
) -> Response:
    if action == "pause":
        control.pause(session, campaign_id)
    elif action == "resume":
        control.resume(session, campaign_id, settings=settings)
    else:
        control.cancel(session, campaign_id)
    return RedirectResponse("/ui/campaigns", status_code=303)
