"""One error shape for every failure: `{"error": {"code", "message", "field"?}}`.

Services raise these; the app turns them (and FastAPI's own validation errors) into JSON responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

VALIDATION_CODES = frozenset({"unknown_channel", "invalid_locale", "duplicate_locale"})
"""Validation error types raised as `PydanticCustomError(code, ...)` that are reported as the error's code."""


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        """More facts for the caller beside code and message (`{"limit": "cpu"}` of a render limit)."""
        if code:
            self.code = code


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class Unprocessable(ApiError):
    status_code = 422
    code = "invalid"


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class Gone(ApiError):
    """The thing existed but never will again (expired, erased, purged): unlike 404, retrying is pointless."""

    status_code = 410
    code = "gone"


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "unavailable"


def error_body(
    code: str, message: str, field: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    error.update(extra or {})
    return {"error": error}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    body = error_body(exc.code, exc.message, exc.field, exc.extra)
    return JSONResponse(body, exc.status_code, headers=headers)


def validation_failure(errors: Sequence[Any]) -> Unprocessable:
    """The first of pydantic's validation errors as an API error naming its field, so a request and one
    item of a batch report a bad value alike."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    field = ".".join(location) or None
    message = str(first.get("msg", "invalid request"))
    if field:
        message = f"{field}: {message}"
    code = str(first.get("type")) if first.get("type") in VALIDATION_CODES else "invalid"
    return Unprocessable(message, field=field, code=code)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    failure = validation_failure(errors)
    body = error_body(failure.code, failure.message, failure.field)
    body["error"]["details"] = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in errors[:20]
    ]
    return JSONResponse(body, 422)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }
    code = codes.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
    )
