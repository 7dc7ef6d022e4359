"""Who is looking at a page: the session cookie -> a live session row -> a live API key or enabled user ->
the role's permissions.

Page handlers declare `Annotated[Viewer, Depends(page_viewer(Permission.X))]`; form handlers use
`form_viewer`, which also checks the CSRF token. Failures raise the exceptions below, which
`ccm.web.errors.PageRoute` turns into a redirect to the login page or a 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request

from ccm.access.identity import identity_of
from ccm.access.models import ApiKey, Role, User
from ccm.access.permissions import GRANTS, Permission, allows
from ccm.access.sessions import session_signer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.web.session import SESSION_COOKIE, csrf_matches, csrf_token


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    permission: Permission


NAVIGATION = (
    NavItem("Templates", "/ui/templates", Permission.TEMPLATES_READ),
    NavItem("Layouts", "/ui/layouts", Permission.TEMPLATES_READ),
    NavItem("Partials", "/ui/partials", Permission.TEMPLATES_READ),
    NavItem("Messages", "/ui/messages", Permission.MESSAGES_READ),
    NavItem("Outbox", "/ui/outbox", Permission.OUTBOX_READ),
    NavItem("Campaigns", "/ui/campaigns", Permission.CAMPAIGNS_READ),
    NavItem("Journeys", "/ui/journeys", Permission.CAMPAIGNS_READ),
    NavItem("Analytics", "/ui/analytics", Permission.CAMPAIGNS_READ),
    NavItem("Customers", "/ui/customers", Permission.CUSTOMERS_READ),
    NavItem("Archive", "/ui/archive", Permission.ARCHIVE_READ),
    NavItem("Audit log", "/ui/audit", Permission.AUDIT_READ),
)


@dataclass(frozen=True)
class Viewer:
    """Who signed in, a user (with a password) or an API key, and the CSRF token their forms must carry."""

    api_key: ApiKey | None
    csrf: str
    user: User | None = None

    def __post_init__(self) -> None:
        if (self.api_key is None) == (self.user is None):
            raise ValueError("a viewer is a user or an API key")

    @property
    def actor(self) -> ApiKey | User:
        """The row that signed in: what audit records name."""
        actor = self.user or self.api_key
        assert actor is not None  # __post_init__ keeps exactly one
        return actor

    @property
    def role(self) -> Role:
        return Role(self.actor.role)

    @property
    def name(self) -> str:
        """How pages name the viewer: the user's email, or the key's name."""
        actor = self.actor
        return actor.email if isinstance(actor, User) else actor.name

    @property
    def identity(self) -> str:
        """The identity four-eyes approval counts (`ccm.access.identity`)."""
        return identity_of(self)

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    @property
    def navigation(self) -> list[NavItem]:
        """Only the sections this role may open, so nobody is shown a link that ends in a 403."""
        return [item for item in NAVIGATION if self.may(item.permission)]


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page, then back to `next_path`."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


class PageForbidden(Exception):
    """The viewer's role lacks `permission`."""

    def __init__(self, viewer: Viewer, permission: Permission) -> None:
        super().__init__(f"forbidden: {permission}")
        self.viewer = viewer
        self.permission = permission

    @property
    def roles_allowed(self) -> list[str]:
        return [role.value for role, grants in GRANTS.items() if self.permission in grants]


class CsrfRejected(Exception):
    """A form post whose CSRF token does not match the session (or is missing)."""


def safe_next(candidate: str | None) -> str | None:
    """`candidate` when it is a local path inside the UI; None for anything that could leave the site."""
    if not candidate or len(candidate) > 2000 or not candidate.startswith("/ui"):
        return None
    if any(char in candidate for char in "\\\r\n\t") or candidate.startswith("//"):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not (parts.path == "/ui" or parts.path.startswith("/ui/")):
        return None
    return None if ".." in parts.path.split("/") else candidate


def _requested_path(request: Request) -> str | None:
    """Where to return after login: the page itself for GETs, nowhere in particular for form posts."""
    if request.method != "GET":
        return None
    query = request.url.query
    return safe_next(request.url.path + (f"?{query}" if query else ""))


def current_viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer | None:
    """The viewer of a live session (not signed out, not expired) whose key or user is still live, or None."""
    request.state.db = session  # for PageRoute, which rolls it back when a service error becomes a page
    token = request.cookies.get(SESSION_COOKIE, "")
    signer = session_signer(session, token)
    if signer is None:
        return None
    csrf = csrf_token(settings.secret_key, token)
    if isinstance(signer, User):
        viewer = Viewer(api_key=None, user=signer, csrf=csrf)
    else:
        viewer = Viewer(api_key=signer, csrf=csrf)
    request.state.viewer = viewer
    return viewer


MaybeViewer = Annotated[Viewer | None, Depends(current_viewer)]


def page_viewer(permission: Permission | None) -> Callable[..., Viewer]:
    """A dependency admitting only signed-in viewers whose role grants `permission` (None: any role)."""

    def check(request: Request, viewer: MaybeViewer) -> Viewer:
        if viewer is None:
            raise LoginRequired(_requested_path(request))
        if permission is not None and not viewer.may(permission):
            raise PageForbidden(viewer, permission)
        return viewer

    return check


def form_viewer(permission: Permission | None) -> Callable[..., Viewer]:
    """Like `page_viewer`, for POSTs: the form's `csrf_token` must match the session too."""
    admit = page_viewer(permission)

    def check(
        request: Request,
        settings: SettingsDep,
        viewer: MaybeViewer,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Viewer:
        viewer = admit(request, viewer)
        token = request.cookies.get(SESSION_COOKIE, "")
        if not csrf_matches(settings.secret_key, token, csrf_token):
            raise CsrfRejected()
        return viewer

    return check
