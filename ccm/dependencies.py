"""FastAPI dependencies: the per-request session (the transaction boundary), settings and the caller.

The process's long-lived parts sit on `app.state.runtime` (built by the composition root, `ccm.runtime`);
`runtime_part(name)` reads one of them, so each domain declares the typed dependency it needs (the archive
vault, the token signer) without importing the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission, allows
from ccm.access.service import authenticate
from ccm.database import read_only
from ccm.errors import Forbidden, Unauthorized
from ccm.settings import Settings


def runtime_part(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning one long-lived part of the process (`settings`, `engine`, `archive`, ...).

    A coroutine although it never waits: FastAPI runs a plain function dependency in its thread pool, and
    that hop (a thread woken, the GIL handed over and back) cost more than the rest of a tracked click's
    dependencies together; an attribute read needs no thread.
    """

    async def part(request: Request) -> Any:
        return getattr(request.app.state.runtime, name)

    part.__name__ = f"runtime_{name}"
    return part


SettingsDep = Annotated[Settings, Depends(runtime_part("settings"))]
EngineDep = Annotated[Engine, Depends(runtime_part("engine"))]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises.

    Declared with `scope="function"`: the commit happens before the response is sent, so a client that hears
    201/202 can read what it wrote at once, and a commit that fails is the client's error response, not a
    success whose write is lost (FastAPI's default scope would end the dependency after the response).
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(engine: EngineDep) -> Iterator[Session]:
    """A session for handlers that only read: it never takes SQLite's write lock, so a slow writer does not
    hold up a read. Closed, not rolled back, so what it loaded stays readable after the handler."""
    session = Session(read_only(engine), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An API key created with `ccm keys create --role ROLE`.")


def get_caller(
    session: ReadSessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiKey:
    if credentials is None:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    api_key = authenticate(session, credentials.credentials)
    if api_key is None:
        raise Unauthorized("invalid or revoked API key")
    return api_key


def require(permission: Permission) -> Callable[[ApiKey], ApiKey]:
    """A dependency that lets the request through only when the caller's role grants `permission`."""

    def check(caller: Annotated[ApiKey, Depends(get_caller)]) -> ApiKey:
        if not allows(caller.role, permission):
            raise Forbidden(f"role '{caller.role}' may not {permission.value.replace(':', ' ')}")
        return caller

    return check
