"""Refuse request bodies over the configured size before anything reads them (413, nothing lost)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccm.errors import error_body

logger = logging.getLogger(__name__)


class BodySizeLimit:
    """413 `payload_too_large` for any body over `max_bytes`, whether it says so or not.

    A Content-Length over the limit is refused before the app runs. A body without one (chunked) is
    counted as the app reads it, and reading past the limit raises inside the app. The app cannot be
    trusted to pass that on (FastAPI turns any error while parsing a body into its own 400), so whatever
    it answers or raises from then on is dropped, and the 413 is sent when it returns.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})
        """Paths (exact) allowed a larger body, as an upload page streamed to disk."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        guard = _CountingGuard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception as error:
            if not guard.refusing:
                raise
            logger.debug("over-size body: the app's %s is answered with 413", type(error).__name__)
        if guard.refusing:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            error_body("payload_too_large", f"request body is larger than {limit} bytes")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _CountingGuard:
    """The app's receive and send for one request: counts the body, and once it is over the limit keeps
    the app's own answer from the client (unless the app had already started answering, which a 413 can
    no longer replace)."""

    def __init__(self, receive: Receive, send: Send, max_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self._max_bytes = max_bytes
        self._received = 0
        self._started = False
        self.refusing = False

    async def receive(self) -> Message:
        if self.refusing:
            raise _TooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes:
                self.refusing = not self._started
                raise _TooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.refusing:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


class _TooLarge(Exception):
    """Raised into the app by `receive` when the body passes the limit."""


class RefuseNulInUrl:
    """A NUL byte in a path or query string is never meaningful, and PostgreSQL cannot store or compare it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = (scope.get("raw_path") or scope["path"].encode()) + b"?" + scope.get("query_string", b"")
            if b"%00" in raw or b"\x00" in raw or "\x00" in scope["path"]:
                body = json.dumps(error_body("invalid", "URL must not contain NUL characters")).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
