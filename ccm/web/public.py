"""Customer-facing endpoints reached from inside communications: tracked clicks, the open pixel, unsubscribe
and the document link. Every one needs a valid signed token; a token that fails verification is a plain
404: no redirect, no hint, nothing recorded. What they record goes onto the customer's timeline through
`ccm.engagement`; they live in the web layer because they resolve messages and serve archived documents.
Documents are archive data: their links expire, stop working once the customer is erased (410, since the
link was genuine), and every fetch is written to the compliance audit log. The pages a customer reads are
worded in their locale (`ccm.web.public_text`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import and_, bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from archive import ObjectNotFound
from ccm.archiving.crypto import KeyDestroyed
from ccm.archiving.service import find_entry, read_payload
from ccm.archiving.vault import ArchiveVault, VaultDep
from ccm.channels import get_channel, is_channel
from ccm.communications.models import Message
from ccm.compliance.audit import log_access
from ccm.compliance.erasure import is_erased
from ccm.customers.models import Customer
from ccm.customers.service import unsubscribe
from ccm.database import session_scope, utcnow
from ccm.dependencies import EngineDep, SessionDep, SettingsDep
from ccm.engagement.links import LinksDep
from ccm.engagement.machines import Hit
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import record_message_event
from ccm.engagement.tokens import TokenPurpose, TokensDep, TokenSigner
from ccm.engagement.tracking import (
    TrackedMessage,
    burst_start,
    is_recent_click,
    judge_for,
    record_click,
    record_open,
)
from ccm.errors import Gone, NotFound, ServiceUnavailable
from ccm.operations.metrics import TRACKED
from ccm.settings import Settings
from ccm.web.public_text import wording_for
from ccm.web.rendering import render_page
from ccm.web.tracking_route import tracking

router = APIRouter(tags=["engagement"])
Token = Annotated[str, Path(min_length=10, max_length=4096)]
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}
DOCUMENT_READER = "customer-link"
"""The audit log's actor for a document fetched through its signed link (no API key involved)."""


def _message_for(
    tokens: TokenSigner, session: Session, purpose: TokenPurpose, token: str
) -> tuple[Message, dict[str, Any]]:
    payload = tokens.verify(purpose, token)
    message = session.get(Message, str(payload.get("m", ""))[:36]) if payload else None
    if payload is None or message is None:
        raise NotFound("link not found", code="link_not_found")
    return message, payload


@dataclass(slots=True)
class _Tracked:
    """What tracking reads of a message (`TrackedMessage`): four columns, not the whole row with its
    context, which the busiest paths of the service would load for nothing."""

    id: str
    customer_id: int
    channel: str
    sent_at: datetime | None


_TRACKED_COLUMNS = (col(Message.id), col(Message.customer_id), col(Message.channel), col(Message.sent_at))
_TRACKED_MESSAGE = select_columns(*_TRACKED_COLUMNS).where(col(Message.id) == bindparam("message_id"))
_MESSAGE_WITH_CLICKS = (
    select_columns(*_TRACKED_COLUMNS, Event)
    .outerjoin(Event, and_(col(Event.message_id) == col(Message.id), is_recent_click(bindparam("since"))))
    .where(col(Message.id) == bindparam("message_id"))
)
"""The tracking statements are built once, their values parameters: a statement built per request pays for
its cache key every time."""


def _counted(kind: EventType, machine_reason: str | None) -> None:
    """Operators see how much of the tracked traffic is machines' (`ccm_tracked_total`)."""
    TRACKED.labels(kind, machine_reason or "human").inc()


def _hit(request: Request, message: TrackedMessage, at: datetime | None = None) -> Hit:
    """What the machine rules read of a request (`ccm.engagement.machines`), made at `at` (default: now)."""
    address = request.client.host if request.client else None
    agent = request.headers.get("user-agent", "")
    return Hit(request.method, agent, address, at or utcnow(), message.sent_at)


# The tracking endpoints open their unit of work themselves (`session_scope`: committed before the answer,
# rolled back on any error, as `SessionDep` would) rather than take `SessionDep`: that dependency is a
# generator FastAPI enters and leaves in two more trips through its thread pool, which on these, the
# busiest paths of the service, cost about as much CPU as the click's own statements. They are served by
# `TrackingRoute` (`ccm.web.tracking_route`): documented and validated as declared, but called without
# FastAPI's dependency solver, so they may take only the token, the request and runtime parts.


@tracking(
    router, "GET", "/t/c/{token}", response_class=RedirectResponse, status_code=302, responses={404: {}}
)
def click(
    token: Token, request: Request, tokens: TokensDep, engine: EngineDep, settings: SettingsDep
) -> RedirectResponse:
    """Record the click (committed), then send the customer to the URL the token was signed for (and only
    there)."""
    with session_scope(engine) as session:
        url = _record_click(tokens, session, settings, token, request)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@tracking(router, "HEAD", "/t/c/{token}", response_class=Response, responses={404: {}})
def click_probe(
    token: Token, request: Request, tokens: TokensDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """A link scanner's check: 200 without a redirect, recorded as a machine's click, never a person's."""
    with session_scope(engine) as session:
        _record_click(tokens, session, settings, token, request)
    return Response(status_code=200, headers=NO_STORE)


def _record_click(
    tokens: TokenSigner, session: Session, settings: Settings, token: str, request: Request
) -> str:
    """Verify the token, load its message with its clicks of the burst window (one query), record the
    click judged; the URL the token was signed for."""
    judge, at = judge_for(settings), utcnow()
    message, url, earlier = _click_target(tokens, session, token, burst_start(at, judge))
    reason = record_click(session, message, url, _hit(request, message, at), judge, earlier)
    _counted(EventType.CLICKED, reason)
    return url


def _click_target(
    tokens: TokenSigner, session: Session, token: str, since: datetime
) -> tuple[_Tracked, str, list[Event]]:
    payload = tokens.verify(TokenPurpose.CLICK, token)
    if payload is None:
        raise NotFound("link not found", code="link_not_found")
    rows = _message_with_clicks(session, str(payload.get("m", ""))[:36], since)
    url = str(payload.get("u", ""))
    if not rows or not url.lower().startswith(("https://", "http://")) or any(c in url for c in "\r\n\x00"):
        raise NotFound("link not found", code="link_not_found")
    return rows[0][0], url, [event for _, event in rows if event is not None]


def _message_with_clicks(
    session: Session, message_id: str, since: datetime
) -> list[tuple[_Tracked, Event | None]]:
    """The message and each of its clicks since `since` (none: one row with None), in one statement."""
    rows = session.execute(_MESSAGE_WITH_CLICKS, {"message_id": message_id, "since": since})
    return [(_Tracked(*row[:4]), row[4]) for row in rows]


def _tracked_for(tokens: TokenSigner, session: Session, purpose: TokenPurpose, token: str) -> _Tracked:
    """`_message_for`'s check and 404, loading only what tracking reads of the message."""
    payload = tokens.verify(purpose, token)
    if payload is None:
        raise NotFound("link not found", code="link_not_found")
    row = session.execute(_TRACKED_MESSAGE, {"message_id": str(payload.get("m", ""))[:36]}).first()
    if row is None:
        raise NotFound("link not found", code="link_not_found")
    return _Tracked(*row)


@tracking(
    router,
    "GET",
    "/t/o/{token}",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}}}, 404: {}},
)
def open_pixel(
    token: Token, request: Request, tokens: TokensDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Record the open (an image proxy's or Apple's prefetch as a machine's), and answer with the pixel."""
    with session_scope(engine) as session:
        message = _tracked_for(tokens, session, TokenPurpose.OPEN, token)
        _counted(EventType.OPENED, record_open(session, message, _hit(request, message), judge_for(settings)))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/u/{token}", response_class=HTMLResponse, responses={404: {}})
def unsubscribe_page(
    token: Token, request: Request, tokens: TokensDep, session: SessionDep, links: LinksDep
) -> HTMLResponse:
    message, payload = _message_for(tokens, session, TokenPurpose.UNSUBSCRIBE, token)
    customer = session.get(Customer, message.customer_id)
    channel = str(payload.get("ch", message.channel))
    return _unsubscribe_page(request, customer, channel, links.preferences_url(message.id), done=False)


@router.post("/u/{token}", response_class=HTMLResponse, responses={404: {}})
def unsubscribe_one_click(
    token: Token, request: Request, tokens: TokensDep, session: SessionDep, links: LinksDep
) -> HTMLResponse:
    """RFC 8058 one-click: any POST to a valid link opts out; repeating it changes nothing; no redirect."""
    message, payload = _message_for(tokens, session, TokenPurpose.UNSUBSCRIBE, token)
    customer = session.get(Customer, message.customer_id)
    assert customer is not None
    channel = str(payload.get("ch", message.channel))
    if unsubscribe(session, customer, channel, source="one-click", message_id=message.id):
        record_message_event(session, message, EventType.UNSUBSCRIBED, channel=channel)
    return _unsubscribe_page(request, customer, channel, links.preferences_url(message.id), done=True)


def _unsubscribe_page(
    request: Request, customer: Customer | None, channel: str, preferences_url: str, *, done: bool
) -> HTMLResponse:
    """The page names the address being opted out, on channels where opting out exists (email, SMS), and
    links to the preference centre, where the customer may keep some topics instead."""
    spec = get_channel(channel) if is_channel(channel) else None
    address = spec.recipient(customer) if spec and spec.marketing_consent and customer else ""
    wording = wording_for(customer.locale if customer else None)
    context = {
        "channel": channel,
        "address": address,
        "done": done,
        "t": wording,
        "preferences_url": preferences_url,
    }
    return render_page(request, "public/unsubscribe.html", context, headers=NO_STORE)


@router.get(
    "/d/{token}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {}, 410: {}},
)
def document(
    token: Token,
    request: Request,
    tokens: TokensDep,
    vault: VaultDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The archived PDF itself, so the customer sees exactly the document that was issued; while the link
    is current and the customer not erased, and audited like any other read of the archive. A browser
    whose link no longer works gets a page saying so in the customer's language; other clients the 410."""
    message, payload = _message_for(tokens, session, TokenPurpose.DOCUMENT, token)
    try:
        return _document(message, payload, vault, session, settings)
    except Gone as error:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        customer = session.get(Customer, message.customer_id)
        reason = "document.expired" if error.code == "link_expired" else "document.gone"
        context = {"reason": reason, "t": wording_for(customer.locale if customer else None)}
        return render_page(
            request, "public/document_unavailable.html", context, status_code=410, headers=NO_STORE
        )


def _document(
    message: Message, payload: dict[str, Any], vault: ArchiveVault, session: Session, settings: Settings
) -> Response:
    if utcnow().timestamp() >= _document_expiry(payload, message, settings.document_link_days):
        raise Gone("this document link has expired", code="link_expired")
    if is_erased(session, message.customer_id):
        raise Gone("this document is no longer available")
    entry = find_entry(session, message.id)
    if entry is None or entry.content_type != "application/pdf":
        raise NotFound("document not found", code="link_not_found")
    try:
        data = read_payload(vault, entry)
    except (KeyDestroyed, ObjectNotFound) as error:  # purged at the end of its retention
        raise Gone("this document is no longer available") from error
    except Exception as error:
        raise ServiceUnavailable("document temporarily unavailable") from error
    record_message_event(session, message, EventType.DOCUMENT_VIEWED)
    log_access(
        session, None, "document", {"template": message.template_key}, [message.id], anonymous=DOCUMENT_READER
    )
    headers = {**NO_STORE, "Content-Disposition": f'inline; filename="{message.template_key}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


def _document_expiry(payload: dict[str, Any], message: Message, days: int) -> float:
    """The link's signed `exp` (Unix seconds); links signed before links expired count as issued when the
    message was created, so none of them lives forever."""
    expires = payload.get("exp")
    if expires is None:
        return message.created_at.timestamp() + days * 86_400
    if isinstance(expires, bool) or not isinstance(expires, int | float):  # we never sign one: refuse it
        raise NotFound("link not found", code="link_not_found")
    return float(expires)
