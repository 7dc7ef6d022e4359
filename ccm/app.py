"""The ASGI application: routers, error handlers, limits and the process's long-lived parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ccm import health
from ccm.analytics import routes as analytics
from ccm.background import BackgroundServices
from ccm.batches import routes as batches
from ccm.campaigns import routes as campaigns
from ccm.channels.bounded import PREVIEW, check_lane, warm_render_pool
from ccm.communications import confirmation, inbound_sms, webhooks
from ccm.communications import routes as messages
from ccm.compliance import routes as archive
from ccm.customers import attribute_routes as customer_attributes
from ccm.customers import consent_routes as consent
from ccm.customers import crm_webhook
from ccm.customers import routes as customers
from ccm.customers import segment_routes as segments
from ccm.customers import suppression_routes as suppressions
from ccm.customers import topic_routes as topics
from ccm.engagement import routes as feedback
from ccm.errors import install_error_handlers
from ccm.journeys import customer_routes as customer_journeys
from ccm.journeys import event_routes as journey_events
from ccm.journeys import routes as journeys
from ccm.limits import BodySizeLimit, RefuseNulInUrl
from ccm.operations import keys
from ccm.operations import routes as operations
from ccm.registry import library_routes as layouts_and_partials
from ccm.registry import routes as templates
from ccm.registry.models import Category
from ccm.runtime import Runtime
from ccm.settings import Settings, get_settings
from ccm.web import api_docs, preferences, public, web_version
from ccm.web import confirmation as confirm_page
from ccm.web import feedback as feedback_page
from ccm.web import routes as web
from ccm.web.rendering import STATIC_DIR
from ccm.web.views import customer_import
from ccm.webhooks import routes as webhook_endpoints

DESCRIPTION = """
ccm renders personalised **email, SMS and PDF** communications from versioned templates, sends them through
channel providers, archives the exact bytes of every one, and tracks engagement onto the customer record.

Authenticate with `Authorization: Bearer <API key>` (create one with `ccm keys create --role admin`).
Errors always look like `{"error": {"code": "...", "message": "...", "field": "..."}}`.
"""


def create_app(settings: Settings | None = None, *, background: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    run_background = settings.run_worker if background is None else background

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(settings)
        app.state.runtime = runtime
        services = BackgroundServices(runtime) if run_background else None
        warm_render_pool(settings, [PREVIEW, check_lane(Category.TRANSACTIONAL)])  # the worker warms its own
        if services is not None:
            services.start()
        try:
            yield
        finally:
            if services is not None:
                services.stop()
            runtime.close()

    app = FastAPI(
        title="ccm",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by ccm.web.api_docs from local files, not from a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        larger={
            customer_import.UPLOAD_PATH: settings.max_import_bytes,
            batches.UPLOAD_PATH: settings.max_import_bytes,
        },
    )
    app.add_middleware(RefuseNulInUrl)
    for module in (
        public,  # first: FastAPI tries routers in order, and tracked clicks and opens are the busiest paths
        messages,  # next: sends are the busiest API path (matching it behind 45 other routes cost ~7% of one)
        health,
        operations,
        templates,
        layouts_and_partials,
        customer_attributes,
        customers,
        consent,
        topics,
        segments,
        batches,
        suppressions,
        campaigns,
        journeys,
        journey_events,
        customer_journeys,
        feedback,
        analytics,
        keys,
        archive,
        preferences,
        confirm_page,
        feedback_page,
        web_version,
        webhooks,
        inbound_sms,
        confirmation,
        crm_webhook,
        webhook_endpoints,
        web,
        api_docs,
    ):
        app.include_router(module.router)
    app.mount(api_docs.ASSETS_URL, api_docs.assets(), name="api-docs")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
