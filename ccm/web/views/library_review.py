"""The review forms of the layout and partial pages: submit, approve, reject, publish, roll back.

The same moves and four-eyes rules as the API's (`ccm.registry.library`): an author or submitter who
approves gets the 403 page saying someone else must. Each form answers 303 (PRG) back to the version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, SettingsDep
from ccm.registry import library
from ccm.registry.models import VersionStatus
from ccm.validation import Text
from ccm.web.auth import Viewer, form_viewer
from ccm.web.errors import PageRoute
from ccm.web.views.library import KIND_PAGES, KindPage
from ccm.web.views.params import TemplateKeyPath, VersionPath

Writer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_WRITE))]
Reviewer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_APPROVE))]
CommentField = Annotated[Text, Form(max_length=2000)]
ReasonField = Annotated[Text, Form(min_length=1, max_length=2000)]
ToField = Annotated[int, Form(ge=1, le=1_000_000)]


def review_forms(page: KindPage) -> APIRouter:
    """The review forms of one kind, below its item pages."""
    router = APIRouter(route_class=PageRoute)
    kind, version_url = page.kind, page.url + "/{key}/versions/{number}"

    def back(key: str, number: int) -> Response:
        return RedirectResponse(f"{page.url}/{key}?version={number}", status_code=303)

    @router.post(version_url + "/submit", name=f"ui_submit_{kind}")
    def submit(
        key: TemplateKeyPath,
        number: VersionPath,
        session: SessionDep,
        viewer: Writer,
        comment: CommentField = "",
    ) -> Response:
        """Ask a marketer or admin other than you to review the draft (refused unless its sources compile)."""
        library.submit(session, kind, key, number, viewer.identity, comment)
        return back(key, number)

    @router.post(version_url + "/approve", name=f"ui_approve_{kind}")
    def approve(
        key: TemplateKeyPath,
        number: VersionPath,
        session: SessionDep,
        viewer: Reviewer,
        comment: CommentField = "",
    ) -> Response:
        """Four-eyes: the author or submitter gets the 403 page, whatever their role."""
        library.decide(session, kind, key, number, viewer.identity, VersionStatus.APPROVED, comment)
        return back(key, number)

    @router.post(version_url + "/reject", name=f"ui_reject_{kind}")
    def reject(
        key: TemplateKeyPath, number: VersionPath, session: SessionDep, viewer: Reviewer, comment: ReasonField
    ) -> Response:
        """Send the version back with the reason, which its history keeps."""
        library.decide(session, kind, key, number, viewer.identity, VersionStatus.REJECTED, comment)
        return back(key, number)

    @router.post(version_url + "/publish", name=f"ui_publish_{kind}")
    def publish(
        key: TemplateKeyPath, number: VersionPath, session: SessionDep, settings: SettingsDep, viewer: Writer
    ) -> Response:
        """Make the version live for templates saved from now on (once approved, where approval applies)."""
        library.publish(session, kind, key, number, viewer.identity, settings=settings)
        return back(key, number)

    @router.post(page.url + "/{key}/rollback", name=f"ui_rollback_{kind}")
    def rollback(key: TemplateKeyPath, session: SessionDep, viewer: Writer, to: ToField) -> Response:
        """A new draft with version `to`'s content, shown next, to be reviewed and published as usual."""
        return back(key, library.rollback(session, kind, key, to, viewer.identity).number)

    return router


router = APIRouter()
for _page in KIND_PAGES.values():
    router.include_router(review_forms(_page))
