"""Server-rendered pages. These templates are ours (trusted), so a plain autoescaping environment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
pages = Jinja2Templates(directory=str(TEMPLATES_DIR))

UI_HEADERS = {"Cache-Control": "no-store"}


def when(moment: datetime | None) -> str:
    """Timestamps as staff read them in a table: UTC, to the second, no microseconds."""
    if moment is None:
        return "—"
    if moment.utcoffset() is None:
        return moment.isoformat(sep=" ", timespec="seconds")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


pages.env.filters["when"] = when


def content_security_policy(
    *, images: str = "'self' data:", frames: str = "'self'", scripts: str = "'none'"
) -> str:
    """The UI's policy; srcdoc iframes inherit it, so it also governs the emails shown inside them.

    The outbox page passes `images="data:"` so that viewing a sent email never loads its open pixel (which
    would record an open), and limits `frames` so a tracked link clicked inside the preview goes nowhere.
    Only editor pages run scripts (`editor_policy`); every other page keeps `script-src 'none'`.
    """
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            f"frame-src {frames}",
            "object-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )


def editor_policy(*, images: str = "'self' data:") -> str:
    """An editor page's policy: our own scripts (the live preview, the bundled editor) and nothing else.

    `blob:` frames show the PDF of unsaved content, which the live preview fetches and frames itself;
    previews of emails stay in sandboxed iframes without scripts.
    """
    return content_security_policy(images=images, frames="'self' blob:", scripts="'self'")


EDITOR_BUNDLE = STATIC_DIR / "editor" / "editor.js"
"""Built by `make editor` from `ccm/web/editor/` when Node is present; without it pages keep textareas."""


def editor_bundle_url() -> str | None:
    """The code editor's address when the bundle was built, else None (plain textareas, same live preview)."""
    return "/static/editor/editor.js" if EDITOR_BUNDLE.is_file() else None


CHARTS_BUNDLE = STATIC_DIR / "charts" / "charts.js"
"""The analytics charts (uPlot from npm), built by `make editor`; without it, pages show tables only."""


def charts_bundle_url() -> str | None:
    """The charts' script when the bundle was built, else None: `ui/_analytics_chart.html` shows a link."""
    return "/static/charts/charts.js" if CHARTS_BUNDLE.is_file() else None


def chart_policy() -> str:
    """A page showing `ui/_analytics_chart.html`: our own scripts, which fetch our own JSON, nothing else."""
    return content_security_policy(scripts="'self'")


pages.env.globals["charts_bundle_url"] = charts_bundle_url


def render_page(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    response = pages.TemplateResponse(request, name, dict(context), status_code=status_code)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def ui_page(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    csp: str | None = None,
) -> HTMLResponse:
    """A staff page: never cached (it shows customer data), always under the UI's content security policy."""
    headers = {**UI_HEADERS, "Content-Security-Policy": csp or content_security_policy()}
    return render_page(request, name, context, status_code=status_code, headers=headers)
