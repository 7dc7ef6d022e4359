"""The survey's answer page (`/f/{token}`): the link of one score of one message's question.

A GET shows the score chosen, an optional comment box (the second question) and a button; only the
button's POST records the answer, so a link scanner (which only fetches) answers nothing. A later answer
to the same message replaces the earlier one in the figures; both stay on the customer's timeline.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep
from ccm.engagement.feedback import MAX_COMMENT, record_answer, valid_answer
from ccm.engagement.tokens import TokenPurpose, TokensDep, TokenSigner
from ccm.errors import NotFound
from ccm.web.public_text import wording_for
from ccm.web.rendering import render_page

router = APIRouter(tags=["engagement"])
Token = Annotated[str, Path(min_length=10, max_length=4096)]
Comment = Annotated[str, Form(max_length=MAX_COMMENT)]
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex"}
SOURCE = "email-link"


def _answer_for(tokens: TokenSigner, session: Session, token: str) -> tuple[Message, str, int]:
    payload = tokens.verify(TokenPurpose.FEEDBACK, token) or {}
    message = session.get(Message, str(payload.get("m", ""))[:36]) if payload else None
    kind, score = payload.get("k"), payload.get("s")
    if message is None or not valid_answer(kind, score):
        raise NotFound("link not found", code="link_not_found")
    return message, str(kind), int(str(score))


@router.get("/f/{token}", response_class=HTMLResponse, responses={404: {}})
def feedback_page(token: Token, request: Request, tokens: TokensDep, session: SessionDep) -> HTMLResponse:
    """The score chosen, a comment box and the button that answers; fetching it records nothing."""
    message, kind, score = _answer_for(tokens, session, token)
    return _page(request, session, message, kind, score, done=False)


@router.post("/f/{token}", response_class=HTMLResponse, responses={404: {}, 422: {}})
def answer(
    token: Token, request: Request, tokens: TokensDep, session: SessionDep, comment: Comment = ""
) -> HTMLResponse:
    """Record the answer (with the comment) on the customer's record and as `feedback.received`."""
    message, kind, score = _answer_for(tokens, session, token)
    record_answer(session, message, kind, score, comment, SOURCE)
    return _page(request, session, message, kind, score, done=True)


def _page(
    request: Request, session: Session, message: Message, kind: str, score: int, *, done: bool
) -> HTMLResponse:
    customer = session.get(Customer, message.customer_id)
    context = {
        "kind": kind,
        "score": score,
        "done": done,
        "max_comment": MAX_COMMENT,
        "t": wording_for(customer.locale if customer else None),
    }
    return render_page(request, "public/feedback.html", context, headers=NO_STORE)
