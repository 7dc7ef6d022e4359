"""The route class of the tracking endpoints (`ccm.web.public`: tracked clicks and the open pixel), the
busiest paths of the service: documented and refused like any route, served without FastAPI's per-request
dependency solving.

Their parameters are a path token, the request and long-lived parts of the process (`runtime_part`), so
calling the endpoint needs no solver: the token is checked with its own declared constraints and the parts
are read off `app.state.runtime`. Solving them cost a tracked click more CPU than verifying its token and
judging it together. A token its constraints refuse goes to FastAPI's own handler, so the 422 is worded as
every other; errors the endpoint raises reach the app's error handlers as before. The route is checked
when it is built: an endpoint taking anything else is refused at startup rather than served wrongly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, get_args, get_type_hints

from fastapi.params import Depends
from fastapi.routing import APIRoute, APIRouter
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ccm.dependencies import EngineDep, SettingsDep
from ccm.engagement.tokens import TokensDep

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
PATH_NAME = "token"
"""The one path parameter a tracking endpoint takes."""


def _dependency(alias: Any) -> Callable[..., Any]:
    """The function behind an `Annotated[..., Depends(f)]` alias."""
    marker = next(arg for arg in get_args(alias) if isinstance(arg, Depends))
    assert marker.dependency is not None
    return marker.dependency


RUNTIME_PARTS = {
    _dependency(TokensDep): "tokens",
    _dependency(EngineDep): "engine",
    _dependency(SettingsDep): "settings",
}
"""The dependencies this route resolves itself, by the part of `app.state.runtime` each returns."""


class TrackingRoute(APIRoute):
    """An `APIRoute` (same OpenAPI, same 422s) whose endpoint is called without the dependency solver."""

    def get_route_handler(self) -> Handler:
        solved = super().get_route_handler()
        token, parts = _plan(self)
        endpoint = self.endpoint
        call_sync = not inspect.iscoroutinefunction(endpoint)
        request_name = self.dependant.request_param_name

        async def handler(request: Request) -> Response:
            try:
                value = token.validate_python(request.path_params[PATH_NAME])
            except ValidationError:
                return await solved(request)  # FastAPI's own 422
            runtime = request.app.state.runtime
            arguments = {name: getattr(runtime, part) for name, part in parts.items()}
            arguments[PATH_NAME] = value
            if request_name is not None:
                arguments[request_name] = request
            response = await (
                run_in_threadpool(endpoint, **arguments) if call_sync else endpoint(**arguments)
            )
            if not isinstance(response, Response):
                raise TypeError(f"{endpoint.__name__} must return a Response under TrackingRoute")
            return response

        return handler


def tracking(router: APIRouter, method: str, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """`@router.get(path, ...)` (or HEAD) for a tracking endpoint: the same operation, in the same place
    among the router's routes, served by `TrackingRoute` (a nested router would cost a second match)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=[method], route_class_override=TrackingRoute, **options)
        return endpoint

    return register


def _plan(route: APIRoute) -> tuple[TypeAdapter[Any], dict[str, str]]:
    """The token's validator and each runtime part by parameter name; TypeError for anything else."""
    dependant = route.dependant
    others = (dependant.query_params, dependant.header_params, dependant.cookie_params, dependant.body_params)
    names = [field.name for field in dependant.path_params]
    if names != [PATH_NAME] or any(others) or route.dependencies:
        raise TypeError(f"{route.path}: a TrackingRoute takes a path token, the request and runtime parts")
    parts: dict[str, str] = {}
    for sub in dependant.dependencies:
        part = RUNTIME_PARTS.get(sub.call) if sub.call is not None else None
        if sub.name is None or part is None:
            raise TypeError(f"{route.path}: a TrackingRoute resolves only {sorted(RUNTIME_PARTS.values())}")
        parts[sub.name] = part
    return TypeAdapter(get_type_hints(route.endpoint, include_extras=True)[PATH_NAME]), parts
