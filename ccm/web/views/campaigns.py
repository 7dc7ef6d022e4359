"""Campaigns with their progress, one campaign's page (settings, progress refreshing itself while it moves,
engagement), and the pause/resume/cancel buttons that apply (form posts answered 303)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.analytics.window import MAX_DAYS
from ccm.campaigns import control, service
from ccm.campaigns.models import FANNING_OUT, CampaignStatus
from ccm.campaigns.schemas import CampaignOut
from ccm.communications.models import TERMINAL_STATUSES, MessageStatus
from ccm.customers.segments import list_segments
from ccm.database import utcnow
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import Conflict
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import content_security_policy, ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_READ))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CAMPAIGNS_WRITE))]
CampaignIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
LIMIT = 100
Action = Literal["pause", "resume", "cancel"]
Back = Annotated[Literal["list", "campaign"], Form()]


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


def is_moving(campaign: CampaignOut) -> bool:
    """Whether its numbers may still change on their own: it is fanning out, or (not held) some of its
    messages are still on their way to the provider."""
    if campaign.status in FANNING_OUT:
        return True
    if campaign.status != CampaignStatus.COMPLETED:
        return False
    unsettled = set(campaign.progress.messages) - TERMINAL_STATUSES - {MessageStatus.PAUSED}
    return any(campaign.progress.messages[state] for state in unsettled)


def saved_segments_alike(session: Session, campaign: CampaignOut) -> list[str]:
    """The saved segments whose rule is the campaign's (it keeps a copy of the rule, not the key)."""
    return [segment.key for segment in list_segments(session) if segment.rule == campaign.segment]


def progress_json(campaign: CampaignOut) -> dict[str, object]:
    """What the page's script redraws: the campaign as the API shows it, whether it is still moving, and
    which buttons apply (when they change, the script reloads the page for its forms)."""
    return {
        **campaign.model_dump(mode="json"),
        "moving": is_moving(campaign),
        "actions": list(actions(campaign)),
    }


def engagement_chart_query(campaign: CampaignOut, today: date) -> str:
    """The campaign's days for its chart: from the day it was created, for the longest range analytics takes
    (not the default last 30 days, which an older campaign would have left)."""
    first = min(campaign.created_at.date(), today)
    last = min(today, first + timedelta(days=MAX_DAYS - 1))
    return urlencode({"campaign": campaign.id, "from": first.isoformat(), "to": last.isoformat()})


@router.get("/ui/campaigns/{campaign_id}")
def campaign_detail(
    campaign_id: CampaignIdPath, request: Request, session: SessionDep, viewer: Reader
) -> Response:
    campaign = service.campaign_out(session, service.get_campaign(session, campaign_id))
    context = {
        "viewer": viewer,
        "campaign": campaign,
        "actions": actions(campaign),
        "moving": is_moving(campaign),
        "alike": saved_segments_alike(session, campaign),
        "can_change": viewer.may(Permission.CAMPAIGNS_WRITE),
        "chart_query": engagement_chart_query(campaign, utcnow().date()),
    }
    policy = content_security_policy(scripts="'self'")  # the progress poller (and the engagement chart)
    return ui_page(request, "ui/campaign_detail.html", context, csp=policy)


@router.get("/ui/campaigns/{campaign_id}/progress")
def campaign_progress(campaign_id: CampaignIdPath, session: SessionDep, _viewer: Reader) -> Response:
    """The detail page polls this while the campaign moves."""
    campaign = service.campaign_out(session, service.get_campaign(session, campaign_id))
    return JSONResponse(progress_json(campaign), headers={"Cache-Control": "no-store"})


@router.post("/ui/campaigns/{campaign_id}/{action}")
def change_campaign(
    campaign_id: CampaignIdPath,
    action: Action,
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Writer,
    back: Back = "list",
) -> Response:
    """Apply a button's action; one the page no longer offers (it went stale) is a 409 page. `back` says
    which page the button was on, to return to it."""
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
    target = f"/ui/campaigns/{campaign_id}" if back == "campaign" else "/ui/campaigns"
    return RedirectResponse(target, status_code=303)
