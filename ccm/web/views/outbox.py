"""The local provider's outbox: what would have reached customers, exactly as it was handed over."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.channels import channel_keys, file_extension
from ccm.channels.parts import ChannelKey
from ccm.communications.models import Message
from ccm.communications.service import get_message
from ccm.customers.models import Customer
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import NotFound
from ccm.web.auth import Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.payloads import (
    canonical_uuid,
    no_summary,
    payload_view,
    view_name,
)
from ccm.web.rendering import content_security_policy, ui_page
from ccm.web.views.params import PageQuery
from delivery.outbox import OutboxEntry, list_outbox, read_outbox

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(page_viewer(Permission.OUTBOX_READ))]
MessageIdPath = Annotated[str, PathParam(max_length=36)]
PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxRow:
    entry: OutboxEntry
    subject: str


def _read(directory: Path, message_id: str) -> tuple[OutboxEntry, bytes]:
    """The entry and payload; ids that are not canonical UUIDs never reach the filesystem."""
    checked = canonical_uuid(message_id)
    try:
        if checked is None:
            raise KeyError(message_id)
        return read_outbox(directory, checked)
    except KeyError:
        raise NotFound(f"the outbox holds no message '{message_id}'") from None


def _row(directory: Path, entry: OutboxEntry) -> OutboxRow:
    """The entry with its payload's one-line summary (an email's subject), read only where there is one."""
    view = payload_view(entry.channel)
    if view.summary is no_summary:
        return OutboxRow(entry, "")
    try:
        return OutboxRow(entry, view.summary(read_outbox(directory, entry.message_id)[1]))
    except KeyError:
        return OutboxRow(entry, "(payload missing)")


def _message_and_customer(session: Session, message_id: str) -> tuple[Message | None, Customer | None]:
    """The queued message behind an outbox entry, if this database still has it."""
    try:
        message = get_message(session, message_id)
    except NotFound:
        return None, None
    return message, session.get(Customer, message.customer_id)


def _download(data: bytes, content_type: str, filename: str, *, inline: bool) -> Response:
    """Stored bytes served so a browser never runs them as a page of ours: only PDFs inline, the rest as
    opaque downloads (an HTML attachment served with its own type would be script on our origin)."""
    safe_name = "".join(c for c in filename if c.isalnum() or c in "._-")[:100] or "download"
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{safe_name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=content_type if inline else "application/octet-stream", headers=headers)


@router.get("/ui/outbox")
def outbox_list(
    request: Request,
    settings: SettingsDep,
    viewer: Reader,
    channel: Annotated[ChannelKey | Literal[""], Query()] = "",
    page: PageQuery = 1,
) -> Response:
    directory = settings.outbox_dir
    entries = list_outbox(
        directory,
        channel=channel or None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    context = {
        "viewer": viewer,
        "rows": [_row(directory, entry) for entry in entries[:PAGE_SIZE]],
        "channel": channel,
        "channels": channel_keys(),
        "page": page,
        "has_next": len(entries) > PAGE_SIZE,
    }
    return ui_page(request, "ui/outbox_list.html", context)


@router.get("/ui/outbox/{message_id}")
def outbox_detail(
    request: Request, message_id: MessageIdPath, session: SessionDep, settings: SettingsDep, viewer: Reader
) -> Response:
    entry, data = _read(settings.outbox_dir, message_id)
    message, customer = _message_and_customer(session, entry.message_id)
    context = {
        "viewer": viewer,
        "entry": entry,
        "message": message,
        "customer": customer,
        "view_name": view_name(entry.channel),
        "view": payload_view(entry.channel).parse(data),
        "title": payload_view(entry.channel).summary(data),
        "inline": payload_view(entry.channel).inline,
        "size": len(data),
    }
    origin = str(request.base_url).rstrip("/")
    csp = content_security_policy(images="data:", frames=f"{origin}/ui/outbox/{entry.message_id}/")
    return ui_page(request, "ui/outbox_detail.html", context, csp=csp)


@router.get("/ui/outbox/{message_id}/attachments/{index}")
def outbox_attachment(
    message_id: MessageIdPath,
    index: Annotated[int, PathParam(ge=0, le=1000)],
    settings: SettingsDep,
    _viewer: Reader,
) -> Response:
    entry, data = _read(settings.outbox_dir, message_id)
    extract = payload_view(entry.channel).attachment
    found = extract(data, index) if extract is not None else None
    if found is None:
        raise NotFound(f"message '{message_id}' has no attachment {index}")
    attachment, payload = found
    return _download(payload, attachment.content_type, attachment.filename, inline=attachment.is_pdf)


@router.get("/ui/outbox/{message_id}/raw")
def outbox_raw(message_id: MessageIdPath, settings: SettingsDep, _viewer: Reader) -> Response:
    """The payload as sent: a PDF document inline, anything else (an .eml, SMS JSON) as a download."""
    entry, data = _read(settings.outbox_dir, message_id)
    name = f"{entry.message_id}.{file_extension(entry.channel)}"
    if payload_view(entry.channel).inline:
        return _download(data, entry.content_type, name, inline=True)
    return _download(data, "", name, inline=False)
