"""Template pages: the list, one template's versions, and previews of every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.channels import channels_of, get_channel
from ccm.customers.models import Customer
from ccm.customers.search import MAX_QUERY, find_customers
from ccm.customers.service import list_customers
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import ApiError, NotFound
from ccm.registry import service
from ccm.registry.models import Category, Template, TemplateVersion
from ccm.registry.pins import pinnable_layouts
from ccm.registry.preview import Preview, load_preview, render_preview
from ccm.registry.schemas import PreviewRequest
from ccm.settings import Settings
from ccm.web.auth import Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.forms import PartsForm
from ccm.web.rendering import (
    TEMPLATES_DIR,
    content_security_policy,
    editor_bundle_url,
    editor_policy,
    ui_page,
)
from ccm.web.views.params import CustomerQuery, TemplateKeyPath, VersionPath, VersionQuery
from ccm.web.views.review import review_panel

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.TEMPLATES_READ))]
PICKER_SIZE = 200
PREVIEW_VIEWS = frozenset(path.stem for path in (TEMPLATES_DIR / "ui" / "previews").glob("*.html"))
"""The preview partials there are; a spec naming another falls back to "text"."""
DOCUMENT_VIEW = "pdf"
"""The preview partial that frames a rendered document (served by `pdf_preview` below)."""
RemoteImagesQuery = Annotated[bool, Query(description="let this view's previews load https: images")]
CustomerSearchQuery = Annotated[
    str, Query(max_length=MAX_QUERY, description="find customers to preview with: external id, email, name")
]


@dataclass(frozen=True)
class TemplateRow:
    template: Template
    published: int | None
    latest: int
    channels: list[str]


@dataclass
class TemplateForms:
    """What the authoring forms show: pre-filled values, or the rejected input and why it was rejected."""

    draft: PartsForm
    draft_errors: list[str] = field(default_factory=list)


def template_rows(session: Session) -> list[TemplateRow]:
    rows = []
    for template in service.list_templates(session):
        versions = service.versions_of(session, template)
        published = service.published_version(session, template)
        rows.append(
            TemplateRow(
                template,
                published.number if published else None,
                versions[-1].number,
                channels_of(versions[-1].parts),
            )
        )
    return rows


def list_context(session: Session, viewer: Viewer) -> dict[str, Any]:
    """The list page's context; the create handler adds the rejected form and its errors."""
    return {
        "viewer": viewer,
        "rows": template_rows(session),
        "categories": list(Category),
        "empty_form": PartsForm.from_version({}, {}),
        "layout_choices": layout_choices(session),
        "can_write": viewer.may(Permission.TEMPLATES_WRITE),
    }


def preview_images_policy(remote_images: bool, *, editor: bool = False) -> str:
    """Previews show no remote images unless asked: loading one tells its server someone looked.

    The page is an editor page (scripts of our own allowed) only for those who may write templates.
    """
    images = "'self' data: https:" if remote_images else "'self' data:"
    return editor_policy(images=images) if editor else content_security_policy(images=images)


def page_url(key: str, number: int, customer_id: str, *, remote_images: bool) -> str:
    """This template page for a version and data, with or without remote images."""
    query = {"version": number, "customer_id": customer_id, "remote_images": 1 if remote_images else ""}
    return f"/ui/templates/{key}?{urlencode({k: v for k, v in query.items() if v})}"


def draft_form(version: TemplateVersion) -> PartsForm:
    """The draft form starting from a version: its parts, locale variants, sample data and schema."""
    schema = False if version.data_schema is None else version.data_schema
    return PartsForm.from_version(
        version.parts, version.sample_data, version.locales or {}, schema, version.layout
    )


def layout_choices(session: Session) -> list[tuple[str, str]]:
    """The layout picker's options: (`key@version`, label) for every layout version a draft may pin."""
    return [
        (f"{c.key}@{c.number}", f"{c.key} v{c.number}{' (live)' if c.live else ''}")
        for c in pinnable_layouts(session)
    ]


def customer_matches(session: Session, key: str, number: int, query: str) -> list[tuple[Customer, str]]:
    """The customers a search finds, each with the page URL previewing this version with their data."""
    found = find_customers(session, query)
    return [(c, page_url(key, number, c.external_id, remote_images=False)) for c in found]


def pdf_preview_url(key: str, number: int, customer_id: str) -> str:
    query = f"?customer_id={customer_id}" if customer_id else ""
    return f"/ui/templates/{key}/versions/{number}/preview.pdf{query}"


def _preview(session: Session, settings: Settings, key: str, number: int, customer_id: str) -> Preview:
    request = PreviewRequest(version=number, customer_id=customer_id or None)
    loaded = load_preview(session, key, request, settings)
    session.commit()  # no database lock is held while the author's template renders
    return render_preview(settings, loaded)


@dataclass(frozen=True)
class ChannelPreview:
    """One channel's preview as the page shows it: the spec's partial, the rendered part, its API shape."""

    view: str
    label: str
    rendered: Any
    shape: Any


def channel_previews(result: Preview | None, key: str) -> list[ChannelPreview]:
    if result is None:
        return []
    shapes = result.api_shapes(key)
    previews = []
    for channel, rendered in result.rendered.items():
        spec = get_channel(channel)
        view = spec.preview_view if spec.preview_view in PREVIEW_VIEWS else "text"
        previews.append(ChannelPreview(view, spec.label, rendered, shapes[channel]))
    return previews


def document_of(result: Preview) -> Any:
    """The rendered document (a PDF) the page frames, if the version has one."""
    documents = [r for c, r in result.rendered.items() if get_channel(c).preview_view == DOCUMENT_VIEW]
    return documents[0] if documents else None


def detail_page(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    key: str,
    *,
    number: int | None,
    customer_id: str,
    forms: TemplateForms | None = None,
    status_code: int = 200,
    remote_images: bool = False,
    query: str = "",
) -> Response:
    """The template page; authoring handlers call it too, to show a rejected draft next to its errors."""
    template = service.get_template(session, key)
    versions = service.versions_of(session, template)
    shown = service.get_version(session, key, number) if number is not None else versions[-1]
    result: Preview | None = None
    preview_error: str | None = None
    try:
        result = _preview(session, settings, key, shown.number, customer_id)
    except ApiError as error:
        preview_error = error.message
    live = service.published_version(session, template)
    document = document_of(result) if result else None
    customers: list[Customer] = list_customers(session, limit=PICKER_SIZE)
    context = {
        "viewer": viewer,
        "template": template,
        "versions": [(v, channels_of(v.parts)) for v in versions],
        "live_number": live.number if live else None,
        "review": review_panel(session, settings, viewer, template, shown, versions, live),
        "shown": shown,
        "preview": result,
        "preview_error": preview_error,
        "previews": channel_previews(result, key),
        "pdf_url": pdf_preview_url(key, shown.number, customer_id) if document else None,
        "customer_id": customer_id,
        "customers": customers,
        "customer_query": query,
        "customer_matches": customer_matches(session, key, shown.number, query) if query.strip() else None,
        "forms": forms or TemplateForms(draft=draft_form(shown)),
        "layout_choices": layout_choices(session),
        "can_write": viewer.may(Permission.TEMPLATES_WRITE),
        "editor_bundle": editor_bundle_url(),
        "lint_url": f"/ui/templates/{key}/lint",
        "remote_images": remote_images,
        "images_toggle_url": page_url(key, shown.number, customer_id, remote_images=not remote_images),
    }
    csp = preview_images_policy(remote_images, editor=viewer.may(Permission.TEMPLATES_WRITE))
    return ui_page(request, "ui/template_detail.html", context, status_code=status_code, csp=csp)


@router.get("/ui/templates")
def templates_list(request: Request, session: SessionDep, viewer: Reader) -> Response:
    return ui_page(request, "ui/templates_list.html", list_context(session, viewer))


@router.get("/ui/templates/{key}")
def template_detail(
    request: Request,
    key: TemplateKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    version: VersionQuery = None,
    customer_id: CustomerQuery = "",
    remote_images: RemoteImagesQuery = False,
    q: CustomerSearchQuery = "",
) -> Response:
    """The template page; `?remote_images=1` lets this one view's previews load remote (https:) images;
    `?q=` lists the customers found, each a link previewing with their data."""
    return detail_page(
        request,
        session,
        settings,
        viewer,
        key,
        number=version,
        customer_id=customer_id,
        remote_images=remote_images,
        query=q,
    )


@router.get("/ui/templates/{key}/versions/{number}/preview.pdf")
def pdf_preview(
    key: TemplateKeyPath,
    number: VersionPath,
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Reader,
    customer_id: CustomerQuery = "",
) -> Response:
    """The PDF part rendered for the iframe on the template page (rendering errors become error pages)."""
    result = _preview(session, settings, key, number, customer_id)
    document = document_of(result)
    if document is None:
        raise NotFound(f"version {number} of '{key}' has no PDF part")
    headers = {
        "Content-Disposition": f'inline; filename="{key}-v{number}.pdf"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(document.data, media_type="application/pdf", headers=headers)
