"""The preference centre (`/p/{token}`): a customer turns topics and channels on and off, or leaves all
marketing, from the signed link in every marketing email and on the unsubscribe page.

Like the unsubscribe page it needs no session and no CSRF token: the signed link is the credential, it is
bound to one message and so to one customer, and a POST without it (or with a forged one) is a plain 404.
A cross-site form could only post to a link its author already holds. The page is worded in the customer's
locale (`ccm.web.public_text`); changes are recorded with the source `preference-centre`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from ccm.channels import get_channel
from ccm.communications.models import Message
from ccm.customers.consent import consent_view, set_channel, set_topic
from ccm.customers.consent_log import ConsentState
from ccm.customers.models import Customer
from ccm.customers.topics import list_topics
from ccm.dependencies import SessionDep, SettingsDep
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from ccm.engagement.tokens import TokenPurpose, TokensDep
from ccm.errors import NotFound
from ccm.settings import Settings
from ccm.web.public_text import wording_for
from ccm.web.rendering import render_page

router = APIRouter(tags=["engagement"])
Token = Annotated[str, Path(min_length=10, max_length=4096)]
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}
SOURCE = "preference-centre"


def _customer_for(tokens: TokensDep, session: Session, token: str) -> tuple[Message, Customer]:
    payload = tokens.verify(TokenPurpose.PREFERENCES, token)
    message = session.get(Message, str(payload.get("m", ""))[:36]) if payload else None
    customer = session.get(Customer, message.customer_id) if message else None
    if message is None or customer is None:
        raise NotFound("link not found", code="link_not_found")
    return message, customer


@router.get("/p/{token}", response_class=HTMLResponse, responses={404: {}})
def preferences_page(
    token: Token, request: Request, tokens: TokensDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The customer's channels and topics as they stand, each a checkbox."""
    _, customer = _customer_for(tokens, session, token)
    return _page(request, session, settings, customer, saved=False)


@router.post("/p/{token}", response_class=HTMLResponse, responses={404: {}})
def save_preferences(
    token: Token,
    request: Request,
    tokens: TokensDep,
    session: SessionDep,
    settings: SettingsDep,
    choice: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006 - FastAPI copies defaults
    action: Annotated[str, Form(max_length=20)] = "save",
) -> HTMLResponse:
    """Each shown box unticked is an opt-out, each ticked one an opt-in; `all` leaves every channel."""
    message, customer = _customer_for(tokens, session, token)
    chosen = set(choice)
    for channel in _shown(session, settings, customer):
        wanted = action != "all" and channel["name"] in chosen
        if wanted != channel["on"]:
            _set_channel(session, message, customer, channel["key"], wanted)
        if action == "all":
            continue
        for topic in channel["topics"]:
            if topic["on"] != (topic["name"] in chosen):
                state = ConsentState.REVOKED if topic["on"] else ConsentState.GRANTED
                set_topic(session, customer, channel["key"], topic["key"], state, source=SOURCE)
    return _page(request, session, settings, customer, saved=True)


def _set_channel(session: Session, message: Message, customer: Customer, channel: str, on: bool) -> None:
    if set_channel(session, customer, channel, on, source=SOURCE) and not on:
        record_message_event(session, message, EventType.UNSUBSCRIBED, {"source": SOURCE}, channel=channel)


def _shown(session: Session, settings: Settings, customer: Customer) -> list[dict[str, Any]]:
    """The channels the customer has an address on, each with its topics: what the form shows and what a
    POST may change (a box not shown is never read as unticked)."""
    view = consent_view(session, customer, double_opt_in_email=settings.double_opt_in_email)
    titles = {topic.key: topic.name for topic in list_topics(session)}
    shown = []
    for consent in view.channels:
        address = get_channel(consent.channel).recipient(customer)
        if not address:
            continue
        topics = [
            {
                "key": t.topic,
                "title": titles[t.topic],
                "name": f"topic:{t.topic}:{t.channel}",
                "on": t.state == ConsentState.GRANTED.value,
            }
            for t in view.topics
            if t.channel == consent.channel
        ]
        on = consent.state == ConsentState.GRANTED.value
        shown.append(
            {
                "key": consent.channel,
                "name": f"channel:{consent.channel}",
                "address": address,
                "on": on,
                "topics": topics,
            }
        )
    return shown


def _page(
    request: Request, session: Session, settings: Settings, customer: Customer, *, saved: bool
) -> HTMLResponse:
    context = {
        "channels": _shown(session, settings, customer),
        "saved": saved,
        "t": wording_for(customer.locale),
    }
    return render_page(request, "public/preferences.html", context, headers=NO_STORE)
