"""Customer-facing endpoints reached from inside communications; every one needs a valid signed token.

A token that fails verification is a plain 404: no redirect, no hint, nothing recorded.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ccm.communications.models import Message
from ccm.compliance.archiving import read_payload
from ccm.compliance.service import find_entry
from ccm.customers.models import Customer
from ccm.customers.service import unsubscribe
from ccm.dependencies import RuntimeDep, SessionDep
from ccm.engagement.models import EventType
from ccm.engagement.service import record_event
from ccm.engagement.tokens import TokenPurpose
from ccm.errors import NotFound, ServiceUnavailable
from ccm.web.rendering import render_page

router = APIRouter(tags=["engagement"])
Token = Annotated[str, Path(min_length=10, max_length=4096)]
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}


def _message_for(
    runtime: RuntimeDep, session: SessionDep, purpose: TokenPurpose, token: str
) -> tuple[Message, dict]:  # type: ignore[type-arg]
    payload = runtime.tokens.verify(purpose, token)
    message = session.get(Message, str(payload.get("m", ""))[:36]) if payload else None
    if payload is None or message is None:
        raise NotFound("link not found", code="link_not_found")
    return message, payload


@router.get("/t/c/{token}", response_class=RedirectResponse, status_code=302, responses={404: {}})
def click(token: Token, runtime: RuntimeDep, session: SessionDep) -> RedirectResponse:
    """Record the click, then send the customer to the URL the token was signed for (and only there)."""
    message, payload = _message_for(runtime, session, TokenPurpose.CLICK, token)
    url = str(payload.get("u", ""))
    if not url.lower().startswith(("https://", "http://")) or any(c in url for c in "\r\n\x00"):
        raise NotFound("link not found", code="link_not_found")
    record_event(
        session,
        customer_id=message.customer_id,
        type=EventType.CLICKED,
        message_id=message.id,
        channel=message.channel,
        detail={"url": url},
    )
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get("/t/o/{token}", response_class=Response, responses={200: {"content": {"image/gif": {}}}, 404: {}})
def open_pixel(token: Token, runtime: RuntimeDep, session: SessionDep) -> Response:
    message, _ = _message_for(runtime, session, TokenPurpose.OPEN, token)
    record_event(
        session,
        customer_id=message.customer_id,
        type=EventType.OPENED,
        message_id=message.id,
        channel=message.channel,
    )
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/u/{token}", response_class=HTMLResponse, responses={404: {}})
def unsubscribe_page(
    token: Token, request: Request, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    message, payload = _message_for(runtime, session, TokenPurpose.UNSUBSCRIBE, token)
    customer = session.get(Customer, message.customer_id)
    return render_page(
        request,
        "public/unsubscribe.html",
        {"customer": customer, "channel": payload.get("ch", message.channel), "done": False},
        headers=NO_STORE,
    )


@router.post("/u/{token}", response_class=HTMLResponse, responses={404: {}})
def unsubscribe_one_click(
    token: Token, request: Request, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    """RFC 8058 one-click: any POST to a valid link opts out; repeating it changes nothing; no redirect."""
    message, payload = _message_for(runtime, session, TokenPurpose.UNSUBSCRIBE, token)
    customer = session.get(Customer, message.customer_id)
    assert customer is not None
    channel = str(payload.get("ch", message.channel))
    if unsubscribe(session, customer, channel, source="one-click", message_id=message.id):
        record_event(
            session,
            customer_id=message.customer_id,
            type=EventType.UNSUBSCRIBED,
            message_id=message.id,
            channel=channel,
        )
    return render_page(
        request,
        "public/unsubscribe.html",
        {"customer": customer, "channel": channel, "done": True},
        headers=NO_STORE,
    )


@router.get(
    "/d/{token}", response_class=Response, responses={200: {"content": {"application/pdf": {}}}, 404: {}}
)
def document(token: Token, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The archived PDF itself, so the customer sees exactly the document that was issued."""
    message, _ = _message_for(runtime, session, TokenPurpose.DOCUMENT, token)
    entry = find_entry(session, message.id)
    if entry is None or entry.content_type != "application/pdf":
        raise NotFound("document not found", code="link_not_found")
    try:
        data = read_payload(runtime.archive, entry)
    except Exception as error:
        raise ServiceUnavailable("document temporarily unavailable") from error
    record_event(
        session,
        customer_id=message.customer_id,
        type=EventType.DOCUMENT_VIEWED,
        message_id=message.id,
        channel=message.channel,
    )
    headers = {**NO_STORE, "Content-Disposition": f'inline; filename="{message.template_key}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)
