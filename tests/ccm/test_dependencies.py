"""The request's unit of work ends before its response starts: a client that hears 201 can read its write at
once, and a failed commit is never a success (FastAPI's default scope would commit after the response)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.ccm.conftest import Service


class ResponseStartRecorder:
    """ASGI wrapper noting, in the shared log, when the response's status line leaves the app."""

    def __init__(self, app: ASGIApp, log: list[str]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.log.append(f"response {message['status']}")
            await send(message)

        await self.app(scope, receive, recording)


@pytest.fixture
def log() -> Iterator[list[str]]:
    entries: list[str] = []

    def committed(_session: Session) -> None:
        entries.append("commit")

    event.listen(Session, "after_commit", committed)
    yield entries
    event.remove(Session, "after_commit", committed)


def test_a_write_is_committed_before_its_response_starts(service: Service, log: list[str]) -> None:
    client = TestClient(ResponseStartRecorder(service.client.app, log))
    rule = {"all": [{"attribute": "tier", "op": "eq", "value": "gold"}]}
    body = {"key": "vip", "name": "VIP", "rule": rule}
    response = client.post("/v1/segments", json=body, headers=service.headers())
    assert response.status_code == 201, response.text
    assert "commit" in log and "response 201" in log
    assert log.index("commit") < log.index("response 201"), log
