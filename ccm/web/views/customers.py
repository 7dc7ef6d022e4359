"""Customer pages: the list, and one record with its consent, engagement and timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ccm.access.permissions import Permission
from ccm.customers.service import get_customer, list_customers, unsubscribed_channels
from ccm.dependencies import SessionDep
from ccm.engagement.service import engagement_summary, timeline
from ccm.web.auth import Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page
from ccm.web.views.params import ExternalIdPath, PageQuery

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.CUSTOMERS_READ))]
PAGE_SIZE = 50
TIMELINE_SIZE = 100


@router.get("/ui/customers")
def customers_list(request: Request, session: SessionDep, viewer: Reader, page: PageQuery = 1) -> Response:
    customers = list_customers(session, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    context = {
        "viewer": viewer,
        "customers": customers[:PAGE_SIZE],
        "page": page,
        "has_next": len(customers) > PAGE_SIZE,
    }
    return ui_page(request, "ui/customers_list.html", context)


@router.get("/ui/customers/{external_id}")
def customer_detail(
    request: Request,
    external_id: ExternalIdPath,
    session: SessionDep,
    viewer: Reader,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    customer = get_customer(session, external_id)
    events, next_before = timeline(session, customer.id, limit=TIMELINE_SIZE, before_id=before)
    context = {
        "viewer": viewer,
        "customer": customer,
        "unsubscribed": unsubscribed_channels(session, customer),
        "engagement": engagement_summary(session, customer.id),
        "events": events,
        "next_before": next_before,
        "can_see_outbox": viewer.may(Permission.OUTBOX_READ),
    }
    return ui_page(request, "ui/customer_detail.html", context)
