"""Failures as pages: the API's JSON error handlers must not answer a browser, so UI routes use PageRoute.

Auth, CSRF and validation failures happen before a handler runs; a service error may come after a flush,
so the request's session is rolled back before the error page is shown (the boundary then commits nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ccm.errors import ApiError
from ccm.web.auth import CsrfRejected, LoginRequired, PageForbidden
from ccm.web.rendering import ui_page

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def login_redirect(next_path: str | None) -> RedirectResponse:
    """303 to the login page, remembering a (safe, already checked) page to come back to."""
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    return RedirectResponse(f"/ui/login{query}", status_code=303)


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    """The one error page, with the viewer's navigation when someone is signed in."""
    viewer = getattr(request.state, "viewer", None)
    context = {"viewer": viewer, "title": title, "message": message, "status_code": status_code}
    return ui_page(request, "ui/error.html", context, status_code=status_code)


def _forbidden(request: Request, error: PageForbidden) -> Response:
    roles = " or ".join(error.roles_allowed)
    message = (
        f"This page needs the '{error.permission.value}' permission, which the {roles} role has. "
        f"You are signed in as '{error.viewer.name}', with the {error.viewer.role.value} role."
    )
    return error_page(request, 403, "Not allowed", message)


def _invalid(request: Request, error: RequestValidationError) -> Response:
    """One line per bad parameter (a union type would otherwise report each of its alternatives)."""
    problems: dict[str, str] = {}
    for item in error.errors():
        location = item.get("loc", ())
        name = str(location[1]) if len(location) > 1 else "request"
        problems.setdefault(name, f"{name}: {item.get('msg', 'invalid')}")
    return error_page(
        request, 400, "Bad request", "; ".join(problems.values()) or "The request is not valid."
    )


async def _roll_back(request: Request) -> None:
    session = getattr(request.state, "db", None)
    if isinstance(session, Session):
        await run_in_threadpool(session.rollback)


class PageRoute(APIRoute):
    """An APIRoute whose auth, validation and service errors become HTML pages instead of JSON."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as error:
                return login_redirect(error.next_path)
            except PageForbidden as error:
                return _forbidden(request, error)
            except CsrfRejected:
                message = (
                    "The form's security token did not match your session. Reload the page and try again."
                )
                return error_page(request, 403, "Form expired", message)
            except RequestValidationError as error:
                return _invalid(request, error)
            except ApiError as error:
                await _roll_back(request)
                title = "Not found" if error.status_code == 404 else "Request refused"
                return error_page(request, error.status_code, title, error.message)

        return page_handler
