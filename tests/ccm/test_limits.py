"""Request limits: every over-size body is a 413 `payload_too_large` in the one error shape, whether it
declares its length or streams in chunks, whatever the endpoint does with the error, and never a 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session, func, select
from starlette.types import Message

from ccm.communications.models import Message as OutboxMessage
from ccm.errors import install_error_handlers
from ccm.limits import BodySizeLimit
from tests.ccm.conftest import INVOICE, Service

LIMIT = 1024


class Body(BaseModel):
    text: str


def limited_app() -> FastAPI:
    """Endpoints that read the body each way an endpoint can: a model, raw bytes, a form, a stream."""
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=LIMIT)

    @app.post("/model")
    def model(body: Body) -> dict[str, int]:
        return {"read": len(body.text)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        return {"read": len(await request.form())}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        return {"read": sum([len(chunk) async for chunk in request.stream()])}

    @app.post("/swallows")
    async def swallows(request: Request) -> dict[str, int]:
        try:
            await request.body()
        except Exception as error:
            raise RuntimeError("an endpoint that turns any read error into a crash") from error
        return {"read": 0}

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(limited_app()) as client:
        yield client


def chunked(size: int, *, chunk: int = 100) -> Iterator[bytes]:
    """A body with no Content-Length: httpx sends a generator with Transfer-Encoding: chunked."""
    sent = 0
    yield b'{"text": "'
    while sent < size:
        yield b"x" * min(chunk, size - sent)
        sent += chunk
    yield b'"}'


def assert_too_large(response: Any) -> None:
    assert response.status_code == 413, response.text
    assert response.json() == {
        "error": {"code": "payload_too_large", "message": f"request body is larger than {LIMIT} bytes"}
    }


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/model", "application/json"),
        ("/raw", "application/octet-stream"),
        ("/form", "application/x-www-form-urlencoded"),
        ("/stream", "application/octet-stream"),
        ("/swallows", "application/octet-stream"),
    ],
)
def test_a_chunked_body_over_the_limit_is_413(client: TestClient, path: str, content_type: str) -> None:
    response = client.post(path, content=chunked(LIMIT * 3), headers={"content-type": content_type})

    assert "content-length" not in response.request.headers
    assert_too_large(response)


@pytest.mark.parametrize("path", ["/model", "/raw", "/stream"])
def test_a_chunked_body_within_the_limit_is_read(client: TestClient, path: str) -> None:
    response = client.post(path, content=chunked(LIMIT // 2), headers={"content-type": "application/json"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("length", [str(LIMIT + 1), "12x"])
def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs(
    client: TestClient, length: str
) -> None:
    response = client.post("/swallows", content=b"{}", headers={"content-length": length})

    assert_too_large(response)


def test_chunks_are_counted_together_and_the_app_hears_no_more() -> None:
    """Straight ASGI: chunks each under the limit, together over it; the app's own answer is dropped."""
    chunks = [b"x" * (LIMIT // 2)] * 4
    reads: list[int] = []
    sent: list[Message] = []

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        try:
            while (message := await receive())["more_body"]:
                reads.append(len(message["body"]))
        finally:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"the app's own answer"})

    async def receive() -> Message:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodySizeLimit(app, max_bytes=LIMIT)(scope, receive, send))

    assert reads == [LIMIT // 2, LIMIT // 2]
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    assert b"payload_too_large" in sent[-1]["body"]


def test_a_chunked_send_over_the_limit_stores_nothing(service: Service, customer: dict[str, Any]) -> None:
    body = b'{"template": "invoice", "customer_id": "c-1", "data": {"blob": "' + b"x" * (1024 * 1024) + b'"}}'
    headers = {**service.headers(), "content-type": "application/json", "Idempotency-Key": "chunked"}

    response = service.client.post("/v1/messages", content=iter([body[:1000], body[1000:]]), headers=headers)

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    with Session(service.runtime.engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
    assert service.send(INVOICE, key="chunked").status_code == 202  # the key was not used up
