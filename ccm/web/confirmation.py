"""Double opt-in's landing page (`/c/{token}`): a GET shows one button (so a link scanner confirms
nothing), its POST records the customer's consent to marketing email with the source `double-opt-in`.
The signed link names the customer and the address it was sent to; once the address changes it is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from ccm.customers.consent import set_channel
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep
from ccm.engagement.tokens import TokenPurpose, TokensDep, TokenSigner
from ccm.errors import NotFound
from ccm.web.public_text import wording_for
from ccm.web.rendering import render_page

router = APIRouter(tags=["engagement"])
Token = Annotated[str, Path(min_length=10, max_length=4096)]
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}


def _customer_for(tokens: TokenSigner, session: Session, token: str) -> Customer:
    payload = tokens.verify(TokenPurpose.CONFIRM, token) or {}
    customer_id = payload.get("c")
    customer = session.get(Customer, customer_id) if isinstance(customer_id, int) else None
    if customer is None or not customer.email or customer.email != payload.get("e"):
        raise NotFound("link not found", code="link_not_found")
    return customer


@router.get("/c/{token}", response_class=HTMLResponse, responses={404: {}})
def confirm_page(token: Token, request: Request, tokens: TokensDep, session: SessionDep) -> HTMLResponse:
    customer = _customer_for(tokens, session, token)
    return _page(request, customer, done=False)


@router.post("/c/{token}", response_class=HTMLResponse, responses={404: {}})
def confirm(token: Token, request: Request, tokens: TokensDep, session: SessionDep) -> HTMLResponse:
    """Record the confirmation; repeating it changes nothing."""
    customer = _customer_for(tokens, session, token)
    set_channel(session, customer, "email", True, source="double-opt-in")
    return _page(request, customer, done=True)


def _page(request: Request, customer: Customer, *, done: bool) -> HTMLResponse:
    context = {"address": customer.email, "done": done, "t": wording_for(customer.locale)}
    return render_page(request, "public/confirm.html", context, headers=NO_STORE)
