"""FastAPI dependencies: the per-request session (the transaction boundary), settings and the caller.

The process's long-lived parts sit on `app.state.runtime` (built by the composition root, `ccm.runtime`);
`runtime_part(name)` reads one of them, so each domain declares the typed dependency it needs (the archive
vault, the token signer) without importing the composition root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from anyio import CancelScope
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
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


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises.

    Declared with `scope="function"`: the commit happens before the response is sent, so a client that hears
    201/202 can read what it wrote at once, and a commit that fails is the client's error response, not a
    success whose write is lost (FastAPI's default scope would end the dependency after the response).

    A coroutine: opening a session touches no connection, and a handler that commits itself (the send path)
    leaves nothing to end, so only a commit or rollback that does reach the database takes a thread-pool hop
    (a plain generator dependency took two on every request, one to enter and one to leave).
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        if _has_work(session):
            await _in_thread(session.commit)
    except BaseException:
        if session.in_transaction():
            await _in_thread(session.rollback)
        raise
    finally:
        session.close()  # no transaction is left by now: nothing to send to the database


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(engine: EngineDep) -> AsyncIterator[Session]:
    """A session for handlers that only read: it never takes SQLite's write lock, so a slow writer does not
    hold up a read. Closed, not rolled back, so what it loaded stays readable after the handler (closing
    hands its connection back to the pool, which resets it: in the thread pool, and only if it has one)."""
    session = Session(read_only(engine), expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await _in_thread(session.close)
        else:
            session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def _has_work(session: Session) -> bool:
    """Whether ending `session` needs the database: an open transaction or changes not yet flushed."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


async def _in_thread(end: Callable[[], None]) -> None:
    """`end` (a commit, rollback or close) in the thread pool, shielded: a cancelled request still ends its
    transaction rather than leaving the connection to the pool's reset."""
    with CancelScope(shield=True):
        await run_in_threadpool(end)


_bearer = HTTPBearer(auto_error=False, description="An API key created with `ccm keys create --role ROLE`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_caller(session: ReadSessionDep, credentials: Credentials) -> ApiKey:
    """The caller, looked up in a read-only session (a handler that only reads never takes a write lock)."""
    return _authenticated(session, credentials)


def get_writing_caller(session: SessionDep, credentials: Credentials) -> ApiKey:
    """The caller, looked up in the request's own unit of work, for a handler that writes through
    `SessionDep`: one connection checkout and one transaction per request instead of two. Still a query per
    request, so a key revoked by any process is refused on its next request."""
    return _authenticated(session, credentials)


Caller = Annotated[ApiKey, Depends(get_caller)]
WritingCaller = Annotated[ApiKey, Depends(get_writing_caller)]


def _authenticated(session: Session, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
    if credentials is None:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    api_key = authenticate(session, credentials.credentials)
    if api_key is None:
        raise Unauthorized("invalid or revoked API key")
    return api_key


def require(permission: Permission, *, writes: bool = False) -> Callable[[ApiKey], Awaitable[ApiKey]]:
    """A dependency that lets the request through only when the caller's role grants `permission`.

    `writes=True` for routes whose handlers take `SessionDep`: the key is then checked in that same
    session (`get_writing_caller`); never for one that reads through `ReadSessionDep`, whose SQLite
    transaction must not take the write lock. The check itself is a coroutine: it never waits, so it needs
    no thread.
    """
    if writes:

        async def check_writer(caller: WritingCaller) -> ApiKey:
            return permitted(caller, permission)

        return check_writer

    async def check(caller: Caller) -> ApiKey:
        return permitted(caller, permission)

    return check


def permitted(caller: ApiKey, permission: Permission) -> ApiKey:
    """`caller`, if its role grants `permission`; 403 otherwise (`require`'s rule, for guards of its own)."""
    if not allows(caller.role, permission):
        raise Forbidden(f"role '{caller.role}' may not {permission.value.replace(':', ' ')}")
    return caller
