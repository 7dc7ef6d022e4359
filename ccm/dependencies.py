"""FastAPI dependencies: the per-request session (the transaction boundary), settings and the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission, allows
from ccm.access.service import authenticate
from ccm.errors import Forbidden, Unauthorized
from ccm.runtime import Runtime
from ccm.settings import Settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="An API key created with `ccm keys create --role ROLE`.")


def get_caller(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
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
