"""Recent messages and where each stands (status, attempts, last error); failed ones can be requeued."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session, col, select

from ccm.access.permissions import Permission
from ccm.communications.models import Message, MessageStatus
from ccm.communications.service import list_messages, requeue
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.web.auth import Viewer, form_viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.rendering import ui_page

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.MESSAGES_READ))]
Sender = Annotated[Viewer, Depends(form_viewer(Permission.MESSAGES_SEND))]
MessageIdPath = Annotated[str, Path(min_length=36, max_length=36)]
LIMIT = 100
StatusFilter = Annotated[MessageStatus | Literal[""], Query()]


def external_ids(session: Session, messages: Iterable[Message]) -> dict[int, str]:
    """Customer row id -> the CRM's id, in one query for the whole page (the service has no batch lookup)."""
    ids = {message.customer_id for message in messages}
    if not ids:
        return {}
    rows = session.exec(select(Customer.id, Customer.external_id).where(col(Customer.id).in_(ids))).all()
    return {row_id: external_id for row_id, external_id in rows if row_id is not None}


@router.get("/ui/messages")
def messages_list(
    request: Request, session: SessionDep, viewer: Reader, status: StatusFilter = ""
) -> Response:
    messages = list_messages(session, status=status or None, limit=LIMIT)
    context = {
        "viewer": viewer,
        "messages": messages,
        "customers": external_ids(session, messages),
        "status": status,
        "statuses": [s.value for s in MessageStatus],
        "can_see_outbox": viewer.may(Permission.OUTBOX_READ),
        "can_see_customers": viewer.may(Permission.CUSTOMERS_READ),
        "can_requeue": viewer.may(Permission.MESSAGES_SEND),
    }
    return ui_page(request, "ui/messages_list.html", context)


@router.post("/ui/messages/{message_id}/requeue")
def requeue_message(
    message_id: MessageIdPath, session: SessionDep, settings: SettingsDep, _viewer: Sender
) -> Response:
    """The dead-letter view's one action: send a failed message again, with a fresh deadline."""
    requeue(session, message_id, settings=settings)
    return RedirectResponse("/ui/messages?status=failed", status_code=303)
