"""The "New campaign" page and the live count beside its segment.

The form builds the same `CampaignCreate` as `POST /v1/campaigns` and calls the same service function, so a
refusal reads the same on both; a refused form is shown again as typed (422, or 409 for a conflict) with each
problem beside its input. Success answers 303 to the campaign's page. The count is a small JSON endpoint the
page's script posts the form to; it counts with the code `POST /v1/segments:preview` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.campaigns import service
from ccm.channels import all_channels, channels_of, default_campaign_channels
from ccm.customers import segments
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import ApiError, Conflict
from ccm.registry import service as registry
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.campaign_form import CampaignForm, error_message, time_zones
from ccm.web.errors import PageRoute
from ccm.web.forms import FormErrors
from ccm.web.rendering import content_security_policy, ui_page

router = APIRouter(route_class=PageRoute)
NEW_PATH = "/ui/campaigns/new"
COUNT_PATH = "/ui/segments/count"
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CAMPAIGNS_WRITE))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.CAMPAIGNS_WRITE))]
Counter = Annotated[Viewer, Depends(form_viewer(Permission.CUSTOMERS_READ))]
"""Whoever may preview a segment through the API may count one here."""


async def submitted_form(request: Request) -> CampaignForm:
    """The posted inputs (the form is already parsed for the CSRF check)."""
    submitted = await request.form()
    return CampaignForm.from_submitted(submitted, submitted.getlist("channels"))


Submitted = Annotated[CampaignForm, Depends(submitted_form)]


@dataclass(frozen=True)
class TemplateChoice:
    """A template a campaign may use: its live version, and which channels it has and sends by default."""

    key: str
    name: str
    category: str
    version: int
    channels: list[str]
    defaults: list[str]


def template_choices(session: Session) -> list[TemplateChoice]:
    """Every template with a published version, marketing or not (the category is shown beside it)."""
    choices = []
    for template in registry.list_templates(session):
        version = registry.published_version(session, template)
        if version is not None:
            parts = version.parts
            choices.append(
                TemplateChoice(
                    template.key,
                    template.name,
                    str(template.category),
                    version.number,
                    channels_of(parts),
                    default_campaign_channels(parts),
                )
            )
    return sorted(choices, key=lambda choice: (choice.category, choice.key))


def form_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    form: CampaignForm,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "viewer": viewer,
        "form": form,
        "errors": errors or [],
        "templates": template_choices(session),
        "channels": all_channels(),
        "segments": segments.list_segments(session),
        "time_zones": time_zones(),
    }
    policy = content_security_policy(scripts="'self'")  # the live count
    return ui_page(request, "ui/campaign_new.html", context, status_code=status_code, csp=policy)


@router.get(NEW_PATH)
def new_campaign(request: Request, session: SessionDep, viewer: Reader) -> Response:
    return form_page(request, session, viewer, CampaignForm())


@router.post(NEW_PATH)
def create_campaign(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: Writer, form: Submitted
) -> Response:
    """Create the campaign as `POST /v1/campaigns` would; a refusal shows the form again, as typed."""
    api_key_id = viewer.api_key.id if viewer.api_key is not None else None
    try:
        campaign = service.create_campaign(session, form.request(), settings=settings, api_key_id=api_key_id)
    except (FormErrors, ApiError) as error:
        session.rollback()
        shown, messages = form.with_errors(error)
        status = 409 if isinstance(error, Conflict) else 422
        return form_page(request, session, viewer, shown, messages, status)
    return RedirectResponse(f"/ui/campaigns/{campaign.id}", status_code=303)


@router.post(COUNT_PATH)
def segment_count(session: SessionDep, _viewer: Counter, form: Submitted) -> Response:
    """How many customers the form's segment selects now: `{"count"}`, or `{"error": {"field", "message"}}`
    naming the bad part of a rule (422) or an unknown saved segment (404)."""
    try:
        found = segments.preview_of(session, form.preview_request(), path="segment")
    except FormErrors as error:
        field = next(iter(error.inputs), None)
        return _error(422, field, error.messages[0])
    except ApiError as error:
        return _error(error.status_code, error.field, error_message(error))
    return JSONResponse({"count": found.count}, headers={"Cache-Control": "no-store"})


def _error(status: int, field: str | None, message: str) -> JSONResponse:
    body: dict[str, Any] = {"error": {"field": field, "message": message}}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
