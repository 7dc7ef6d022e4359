"""`TrackingRoute` (`ccm.web.tracking_route`): tracked clicks and opens are served without FastAPI's
dependency solver, refuse what the solver refused, and the route refuses endpoints it could not serve."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter, Request, Response
from fastapi import routing as fastapi_routing

from ccm.dependencies import SessionDep, SettingsDep
from ccm.web.tracking_route import TrackingRoute
from tests.ccm.conftest import Service
from tests.ccm.web.test_public import html_of, local, sent_welcome


def test_a_click_and_an_open_are_served_without_the_dependency_solver(
    service: Service, customer: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, message = sent_welcome(service)
    html = html_of(message)
    [click_url] = re.findall(r'href="(http://ccm\.test/t/c/[^"]+)"', html)
    [pixel_url] = re.findall(r'src="(http://ccm\.test/t/o/[^"]+)"', html)

    def no_solver(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the dependency solver ran for a tracking endpoint")

    monkeypatch.setattr(fastapi_routing, "solve_dependencies", no_solver)
    click = service.client.get(local(click_url), follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == "https://example.com/start?src=mail&x=1"
    assert service.client.get(local(pixel_url)).headers["content-type"] == "image/gif"
    assert service.client.head(local(click_url)).status_code == 200


@pytest.mark.parametrize("path", ["/t/c/short", "/t/o/short", "/t/c/" + "a" * 4097])
def test_a_token_outside_its_declared_length_gets_the_validation_error(service: Service, path: str) -> None:
    response = service.client.get(path, follow_redirects=False)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "token"


def _takes_a_query(token: str, request: Request, settings: SettingsDep, page: int = 1) -> Response:
    return Response()


def _takes_a_session(token: str, request: Request, session: SessionDep) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [_takes_a_query, _takes_a_session])
def test_an_endpoint_taking_more_than_a_token_and_runtime_parts_is_refused(endpoint: Any) -> None:
    router = APIRouter(route_class=TrackingRoute)
    with pytest.raises(TypeError, match="TrackingRoute"):
        router.add_api_route("/t/x/{token}", endpoint)
