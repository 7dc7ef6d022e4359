"""Signing in with an email and password (people) or an API key, signing out, and `/ui` itself (the first
section the role may use)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from ccm.access.logins import TooManyFailures, sign_in_with_password
from ccm.access.models import ApiKey, User
from ccm.access.service import authenticate
from ccm.access.sessions import end_session
from ccm.dependencies import SessionDep, SettingsDep
from ccm.settings import Settings
from ccm.web.auth import MaybeViewer, Viewer, form_viewer, safe_next
from ccm.web.errors import PageRoute, login_redirect
from ccm.web.rendering import ui_page
from ccm.web.session import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    csrf_matches,
    csrf_token,
    issue_session,
)

router = APIRouter(route_class=PageRoute)
NextParam = Annotated[str | None, Query(alias="next", max_length=2000)]
WRONG_CREDENTIALS = "Wrong email or password."
"""One message whichever was wrong, so the form does not tell who has an account."""


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def _login_form(
    request: Request,
    settings: Settings,
    next_path: str | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The form, bound to a fresh random nonce cookie so a foreign page cannot post it (login CSRF)."""
    nonce = secrets.token_urlsafe(24)
    context = {
        "viewer": None,
        "next": next_path or "",
        "csrf_token": csrf_token(settings.secret_key, f"login:{nonce}"),
        "error": error,
    }
    response = ui_page(request, "ui/login.html", context, status_code=status_code)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
    )
    return response


@router.get("/ui")
def index(request: Request, viewer: MaybeViewer) -> Response:
    """The first section the role may use: every role can read something, so this never dead-ends."""
    if viewer is None:
        return login_redirect(None)
    sections = viewer.navigation
    return RedirectResponse(sections[0].path if sections else "/ui/login", status_code=303)


@dataclass(frozen=True)
class Refusal:
    """Why the form signed nobody in, as the page says it."""

    message: str
    status_code: int


def _signer(session: Session, api_key: str, email: str, password: str) -> ApiKey | User | Refusal:
    """Who the form signs in: the API key when one is given, else the user of the email and password."""
    if api_key.strip() or not email.strip():
        caller = authenticate(session, api_key.strip())
        return caller or Refusal("That API key is not valid, or it has been revoked.", 401)
    try:
        user = sign_in_with_password(session, email, password)
    except TooManyFailures:
        return Refusal("Too many failed sign-ins for this email. Wait a minute, then try again.", 429)
    return user or Refusal(WRONG_CREDENTIALS, 401)


@router.get("/ui/login")
def login_page(request: Request, settings: SettingsDep, next_path: NextParam = None) -> Response:
    return _login_form(request, settings, safe_next(next_path))


@router.post("/ui/login")
def login(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    api_key: Annotated[str, Form(max_length=500)] = "",
    email: Annotated[str, Form(max_length=500)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the key, or else the email and password; on success set the session cookie and go back where
    the user was heading."""
    target = safe_next(next_path)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not csrf_matches(settings.secret_key, f"login:{nonce}", csrf_token):
        message = "The sign-in form expired. Please try again."
        return _login_form(request, settings, target, error=message, status_code=403)
    signer = _signer(session, api_key, email, password)
    if isinstance(signer, Refusal):
        return _login_form(request, settings, target, error=signer.message, status_code=signer.status_code)
    end_session(session, request.cookies.get(SESSION_COOKIE, ""))  # signing in again replaces a session
    if isinstance(signer, User):
        token = issue_session(session, user_id=signer.id)
    else:
        token = issue_session(session, signer.id)
    session.commit()  # the row exists before the browser follows the redirect with its cookie
    response = RedirectResponse(target or "/ui", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/ui/logout")
def logout(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    _viewer: Annotated[Viewer, Depends(form_viewer(None))],
) -> Response:
    """End the session row, then forget the cookie: a copy of the cookie kept anywhere opens nothing."""
    end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    session.commit()  # ended before the browser hears so
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=_secure(settings), httponly=True)
    return response
