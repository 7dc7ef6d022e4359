"""The interactive API documentation, `/docs` (Swagger UI) and `/redoc`, served entirely by ccm.

FastAPI's own pages load their scripts from a CDN, so they are blank offline and tell a third party who
reads the docs. The same pages here load Swagger UI and ReDoc from the files the `fastapi-offline` package
ships, mounted at `ASSETS_URL`, and a content security policy keeps every page load on this host.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
"""`swagger-ui-bundle.js`, `swagger-ui.css`, `redoc.standalone.js` and `favicon.png`."""
SWAGGER_PARAMETERS = {"validatorUrl": None}
"""No validator badge: Swagger UI would fetch it from validator.swagger.io."""
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the pages' own inline start-up script
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # ReDoc's search index runs in a worker
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

router = APIRouter(include_in_schema=False)


def assets() -> StaticFiles:
    """The documentation's scripts, styles and icon, for `app.mount(ASSETS_URL, ...)`."""
    return StaticFiles(directory=ASSETS_DIR)


def _local(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over this service's OpenAPI document: every operation, with "Try it out"."""
    app = request.app
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} API",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    return _local(page)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over the same document: one long page to read, without Google's fonts."""
    app = request.app
    root = request.scope.get("root_path", "")
    page = get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} API",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )
    return _local(page)
