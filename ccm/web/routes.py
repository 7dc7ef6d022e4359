"""The web UI for marketers, compliance staff and operators (server-rendered), assembled from its sections.

Every section router uses `PageRoute`, so errors become pages; the catch-all comes last so that an unknown
`/ui/...` address gets a 404 page rather than the API's JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ccm.web.auth import MaybeViewer
from ccm.web.errors import PageRoute, error_page
from ccm.web.views import (
    analytics,
    authoring,
    campaign_new,
    campaigns,
    compliance,
    customer_import,
    customers,
    editor,
    journeys,
    library,
    library_review,
    login,
    messages,
    outbox,
    review,
    templates,
)

router = APIRouter(include_in_schema=False)
sections = (
    login,
    templates,
    authoring,
    editor,
    review,
    library,
    library_review,
    outbox,
    customer_import,
    customers,
    messages,
    campaign_new,  # before campaigns: /ui/campaigns/new is not a campaign id
    campaigns,
    journeys,
    analytics,
    compliance,
)
for section in sections:
    router.include_router(section.router)

_fallback = APIRouter(route_class=PageRoute)


@_fallback.get("/ui/{rest:path}")
def not_found(request: Request, rest: str, _viewer: MaybeViewer) -> Response:
    """The viewer is looked up only so the 404 page can show their navigation."""
    return error_page(request, 404, "Not found", "There is no page at this address.")


router.include_router(_fallback)
