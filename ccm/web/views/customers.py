"""Customer pages: the list, and one record with its consent and its history, engagement metrics, the
segments it is in, the journeys it is in (and where) and the timeline."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response

from ccm.access.permissions import Permission
from ccm.customers.consent import consent_view
from ccm.customers.cursor import MAX_CURSOR
from ccm.customers.profile import customer_profile
from ccm.customers.search import MAX_QUERY, CustomerSearch, search_page
from ccm.customers.service import get_customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.engagement.service import engagement_summary, timeline
from ccm.journeys.places import RUNS_SHOWN, customer_runs
from ccm.web.auth import Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page
from ccm.web.views.params import ExternalIdPath

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CUSTOMERS_READ))]
PAGE_SIZE = 50
TIMELINE_SIZE = 100


SearchQuery = Annotated[str, Query(max_length=MAX_QUERY, pattern=r"^[^\x00]*$")]
CursorQuery = Annotated[str, Query(max_length=MAX_CURSOR)]


@router.get("/ui/customers")
def customers_list(
    request: Request, session: SessionDep, viewer: Reader, q: SearchQuery = "", cursor: CursorQuery = ""
) -> Response:
    page = search_page(session, CustomerSearch(q), cursor=cursor or None, limit=PAGE_SIZE)
    context = {
        "viewer": viewer,
        "customers": page.customers,
        "query": q,
        "paged": bool(cursor),
        "first_url": _list_url(q, None),
        "next_url": _list_url(q, page.next_cursor) if page.next_cursor else None,
        "can_import": viewer.may(Permission.CUSTOMERS_WRITE),
    }
    return ui_page(request, "ui/customers_list.html", context)


def _list_url(query: str, cursor: str | None) -> str:
    """The list page for a search, from its start or from a cursor."""
    params = {name: value for name, value in (("q", query), ("cursor", cursor)) if value}
    return f"/ui/customers?{urlencode(params)}" if params else "/ui/customers"


@router.get("/ui/customers/{external_id}")
def customer_detail(
    request: Request,
    external_id: ExternalIdPath,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    customer = get_customer(session, external_id)
    consent = consent_view(session, customer, double_opt_in_email=settings.double_opt_in_email)
    events, next_before = timeline(session, customer.id, limit=TIMELINE_SIZE, before_id=before)
    context = {
        "viewer": viewer,
        "customer": customer,
        "unsubscribed": consent.unsubscribed_channels,
        "engagement": engagement_summary(session, customer.id),
        "profile": customer_profile(session, customer),
        "consent": consent,
        "events": events,
        "next_before": next_before,
        "can_see_outbox": viewer.may(Permission.OUTBOX_READ),
        "runs": customer_runs(session, customer),
        "runs_shown": RUNS_SHOWN,
        "can_see_journeys": viewer.may(Permission.CAMPAIGNS_READ),
    }
    return ui_page(request, "ui/customer_detail.html", context)
