"""Layout and partial pages: each kind's list with a create form, and one item's page with its versions,
the shown version's source, its review (the template page's panel) and a new-draft form.

The pages of both kinds are built once per kind (`KIND_PAGES`); forms answer 303 (PRG), or show the form
again with the reasons when it is refused. The review forms are in `library_review`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import ApiError
from ccm.registry import library
from ccm.registry.models import LibraryItem, LibraryKind, LibraryVersion
from ccm.registry.pins import live_version
from ccm.settings import Settings
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.forms import FormErrors
from ccm.web.library_form import SOURCE_LABELS, LibraryForm
from ccm.web.rendering import content_security_policy, editor_bundle_url, editor_policy, ui_page
from ccm.web.views.params import TemplateKeyPath, VersionQuery
from ccm.web.views.review import Reviewed, ReviewPanel, panel_of

Reader = Annotated[Viewer, Depends(page_viewer(Permission.TEMPLATES_READ))]
Writer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_WRITE))]


@dataclass(frozen=True)
class KindPage:
    """What the pages of one kind say and where they live."""

    kind: LibraryKind
    title: str
    about: str

    @property
    def url(self) -> str:
        return f"/ui/{self.kind}s"


KIND_PAGES = {
    LibraryKind.LAYOUT: KindPage(
        LibraryKind.LAYOUT,
        "Layouts",
        "A layout wraps email bodies and PDF pages: the template's part goes where the layout has"
        " {% block content %}{% endblock %}. A template version names a published layout version"
        ' ("layout": {"key": …, "version": …}) and keeps it: a newer layout reaches it only through a new'
        " version of the template.",
    ),
    LibraryKind.PARTIAL: KindPage(
        LibraryKind.PARTIAL,
        "Partials",
        'A partial is a snippet templates include by key, as {% include "key" %}. A template version pins'
        " the live version of each partial it includes when it is saved: a partial published later reaches"
        " it only through a new version of the template.",
    ),
}


@dataclass(frozen=True)
class ItemRow:
    item: LibraryItem
    published: int | None
    latest: int


def item_rows(session: Session, kind: LibraryKind) -> list[ItemRow]:
    rows = []
    for item in library.list_items(session, kind):
        live = live_version(session, item)
        latest = library.versions_of(session, item)[-1].number
        rows.append(ItemRow(item, live.number if live else None, latest))
    return rows


def list_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    page: KindPage,
    new: LibraryForm | None = None,
    status_code: int = 200,
) -> Response:
    """The kind's list; the create handler shows it again with the refused form and why."""
    context = {
        "viewer": viewer,
        "page": page,
        "rows": item_rows(session, page.kind),
        "new": new or LibraryForm.of_content(page.kind, {}),
        "can_write": viewer.may(Permission.TEMPLATES_WRITE),
    }
    return ui_page(request, "ui/library_list.html", context, status_code=status_code)


def review_of(
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: KindPage,
    item: LibraryItem,
    shown: LibraryVersion,
) -> ReviewPanel:
    """The template page's review panel, for this item: the same four-eyes buttons, history and diff."""
    versions = library.versions_of(session, item)
    live = live_version(session, item)
    diff = None if live is None else library.diff(session, page.kind, item.key, live.number, shown.number)
    reviewed = Reviewed(f"{page.url}/{item.key}", page.title, library.needs_approval(settings))
    return panel_of(session, viewer, reviewed, shown, versions, live, diff.changes if diff else [])


def detail_page(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: KindPage,
    key: str,
    *,
    number: int | None = None,
    draft: LibraryForm | None = None,
    status_code: int = 200,
) -> Response:
    """One item's page; the new-draft handler shows it again with the refused draft and why."""
    item = library.get_item(session, page.kind, key)
    versions = library.versions_of(session, item)
    shown = library.get_version(session, page.kind, key, number) if number is not None else versions[-1]
    live = live_version(session, item)
    writer = viewer.may(Permission.TEMPLATES_WRITE)
    context = {
        "viewer": viewer,
        "page": page,
        "item": item,
        "versions": versions,
        "shown": shown,
        "live_number": live.number if live else None,
        "review": review_of(session, settings, viewer, page, item, shown),
        "sources": shown_sources(page.kind, shown),
        "draft": draft or LibraryForm.of_content(page.kind, shown.content),
        "can_write": writer,
        "editor_bundle": editor_bundle_url(),
    }
    csp = editor_policy() if writer else content_security_policy()
    return ui_page(request, "ui/library_detail.html", context, status_code=status_code, csp=csp)


def shown_sources(kind: LibraryKind, version: LibraryVersion) -> list[tuple[str, str | None]]:
    """(label, source or None) of each of the kind's source fields, in the kind's order."""
    return [(SOURCE_LABELS[name], version.content.get(name)) for name in library.SOURCES[kind]]


def refused(form: LibraryForm, error: FormErrors | ApiError) -> LibraryForm:
    """The form as submitted, with why it was refused."""
    return replace(form, errors=error.messages if isinstance(error, FormErrors) else [error.message])


def posted(kind: LibraryKind) -> Callable[[Request], Awaitable[LibraryForm]]:
    """A dependency reading the kind's posted form (already parsed for the CSRF check)."""

    async def read(request: Request) -> LibraryForm:
        return LibraryForm.submitted(kind, await request.form())

    return read


def kind_pages(page: KindPage) -> APIRouter:
    """The pages and authoring forms of one kind."""
    router = APIRouter(route_class=PageRoute)
    kind = page.kind
    read_form = Depends(posted(kind))  # a default, not an annotation: annotations here are postponed

    @router.get(page.url, name=f"ui_{kind}s")
    def items(request: Request, session: SessionDep, viewer: Reader) -> Response:
        return list_page(request, session, viewer, page)

    @router.post(page.url, name=f"ui_create_{kind}")
    def create(
        request: Request, session: SessionDep, viewer: Writer, form: LibraryForm = read_form
    ) -> Response:
        """A new layout or partial with its first version, a draft; a refused one is shown again."""
        return _create(request, session, viewer, page, form)

    @router.get(page.url + "/{key}", name=f"ui_{kind}")
    def item(
        request: Request,
        key: TemplateKeyPath,
        session: SessionDep,
        settings: SettingsDep,
        viewer: Reader,
        version: VersionQuery = None,
    ) -> Response:
        return detail_page(request, session, settings, viewer, page, key, number=version)

    @router.post(page.url + "/{key}/versions", name=f"ui_create_{kind}_version")
    def new_draft(
        request: Request,
        key: TemplateKeyPath,
        session: SessionDep,
        settings: SettingsDep,
        viewer: Writer,
        form: LibraryForm = read_form,
    ) -> Response:
        """A new draft version; a refused one is shown again with its input and the reasons."""
        return _draft(request, session, settings, viewer, page, key, form)

    return router


def _create(
    request: Request, session: Session, viewer: Viewer, page: KindPage, form: LibraryForm
) -> Response:
    try:
        key, name, content = form.created()
        library.create_item(session, page.kind, key, name, content, viewer.identity)
    except (FormErrors, ApiError) as error:
        session.rollback()
        return list_page(request, session, viewer, page, refused(form, error), status_code=422)
    return RedirectResponse(f"{page.url}/{key}", status_code=303)


def _draft(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: KindPage,
    key: str,
    form: LibraryForm,
) -> Response:
    library.get_item(session, page.kind, key)  # an unknown item is a 404 page, not a form error
    try:
        version = library.add_version(session, page.kind, key, form.content(), viewer.identity)
    except (FormErrors, ApiError) as error:
        session.rollback()
        draft = refused(form, error)
        return detail_page(request, session, settings, viewer, page, key, draft=draft, status_code=422)
    return RedirectResponse(f"{page.url}/{key}?version={version.number}", status_code=303)


router = APIRouter()
for _page in KIND_PAGES.values():
    router.include_router(kind_pages(_page))
