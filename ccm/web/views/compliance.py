"""Compliance pages: search the archive, see exactly what a customer received and whether it verifies,
download originals and exports, read the audit log. Every search, view and download is audited, and so is
every refusal (403), as the API audits its own (`ccm.compliance.routes.log_refusal`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam

from ccm.access.permissions import Permission
from ccm.archiving.vault import VaultDep
from ccm.channels import channel_keys, file_extension
from ccm.channels.parts import ChannelKey
from ccm.compliance import audit, search
from ccm.compliance.export import MAX_ENTRIES, build_export, file_name
from ccm.compliance.routes import entry_detail, log_refusal, read_archived
from ccm.compliance.search import ArchiveQuery
from ccm.database import utcnow
from ccm.dependencies import EngineDep, SessionDep
from ccm.errors import Unprocessable
from ccm.web.auth import MaybeViewer, PageForbidden, Viewer, page_viewer
from ccm.web.errors import PageRoute
from ccm.web.payloads import payload_view, view_name
from ccm.web.rendering import content_security_policy, ui_page
from ccm.web.views.params import PageQuery


def audited_viewer(permission: Permission) -> Callable[..., Viewer]:
    """`page_viewer(permission)`, with each refusal audited: who tried to reach the archive matters too."""
    admit = page_viewer(permission)

    def check(request: Request, session: SessionDep, engine: EngineDep, viewer: MaybeViewer) -> Viewer:
        try:
            return admit(request, viewer)
        except PageForbidden as refused:
            log_refusal(request, session, engine, refused.viewer.actor)
            raise

    return check


router = APIRouter(route_class=PageRoute)
Reader = Annotated[Viewer, Depends(audited_viewer(Permission.ARCHIVE_READ))]
Auditor = Annotated[Viewer, Depends(audited_viewer(Permission.AUDIT_READ))]
MessageIdPath = Annotated[str, PathParam(min_length=1, max_length=36)]
Field = Annotated[str, Query(max_length=320)]
DateField = Annotated[str, Query(max_length=10, pattern=r"^(|\d{4}-\d{2}-\d{2})$")]
PAGE_SIZE = 25
FILTERS = ("customer_id", "email", "phone", "message_id", "channel", "template", "category", "from", "to")


def form_query(
    customer_id: Field = "",
    email: Field = "",
    phone: Field = "",
    message_id: Field = "",
    channel: Annotated[ChannelKey | Literal[""], Query()] = "",
    template: Field = "",
    category: Field = "",
    from_: Annotated[str, Query(alias="from", max_length=10, pattern=r"^(|\d{4}-\d{2}-\d{2})$")] = "",
    to: DateField = "",
) -> ArchiveQuery:
    """The search form's fields (blank means any); dates are whole UTC days, `to` inclusive."""
    return ArchiveQuery(
        customer_id=customer_id.strip() or None,
        email=email.strip() or None,
        phone=phone.strip() or None,
        message_id=message_id.strip() or None,
        channel=channel or None,
        template=template.strip() or None,
        category=category.strip() or None,
        start=_day(from_),
        end=_day(to, end=True),
    )


def _day(value: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value).date()
    except ValueError:
        raise Unprocessable(f"not a date: {value}") from None
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=utcnow().tzinfo)
    return moment


FormQuery = Annotated[ArchiveQuery, Depends(form_query)]


def stored_location(store_url: str, object_key: str) -> str:
    """Where the object is, as an operator would look for it: the file's path, or its `s3://` URL."""
    parts = urlsplit(store_url)
    if parts.scheme == "file":
        return str(Path(unquote(parts.path)) / object_key)
    return f"{store_url.rstrip('/')}/{object_key}"


def detail_rows(detail: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """An event's detail as (key, value) rows in the writer's order; nested objects get dotted keys."""
    rows: list[tuple[str, str]] = []
    for key, value in detail.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(detail_rows(value, f"{name}."))
        else:
            rows.append((name, _shown(value)))
    return rows


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _query_string(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in request.query_params.items() if k in FILTERS and v)


@router.get("/ui/archive")
def archive_search(
    request: Request, session: SessionDep, viewer: Reader, query: FormQuery, page: PageQuery = 1
) -> Response:
    hits, total = search.search(session, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    audit.log_access(session, viewer.actor, "search", query.as_record(), [e.message_id for e, _ in hits])
    filters = _query_string(request)
    context: dict[str, Any] = {
        "viewer": viewer,
        "hits": hits,
        "total": total,
        "form": dict(request.query_params),
        "channels": channel_keys(),
        "page": page,
        "has_next": page * PAGE_SIZE < total,
        "base": f"/ui/archive?{filters}&" if filters else "/ui/archive?",
        "export_url": f"/ui/archive/export?{filters}",
        "can_export": total <= MAX_ENTRIES and total > 0,
    }
    return ui_page(request, "compliance/archive_list.html", context)


@router.get("/ui/archive/export")
def archive_export(session: SessionDep, vault: VaultDep, viewer: Reader, query: FormQuery) -> Response:
    hits, total = search.search(session, query, limit=MAX_ENTRIES)
    if total > MAX_ENTRIES:
        raise Unprocessable(f"{total} entries match; narrow the search to at most {MAX_ENTRIES}")
    entries = [entry for entry, _ in hits]
    data = build_export(session, vault, entries, query.as_record())
    audit.log_access(session, viewer.actor, "export", query.as_record(), [e.message_id for e in entries])
    headers = {
        "Content-Disposition": 'attachment; filename="ccm-archive-export.zip"',
        "Cache-Control": "no-store",
    }
    return Response(data, media_type="application/zip", headers=headers)


@router.get("/ui/archive/{message_id}")
def archive_entry(
    request: Request, message_id: MessageIdPath, session: SessionDep, vault: VaultDep, viewer: Reader
) -> Response:
    entry = search.get_entry(session, message_id)
    detail = entry_detail(session, vault, entry)
    readable = entry.purged_at is None and not detail.issues
    data = read_archived(vault, entry) if readable else None
    shown = payload_view(entry.channel)
    view = shown.parse(data) if data is not None else None
    audit.log_access(session, viewer.actor, "view", {"message_id": message_id}, [message_id])
    context = {
        "viewer": viewer,
        "entry": detail,
        "location": stored_location(entry.store_url, entry.object_key),
        "events": [(event, detail_rows(event.detail)) for event in detail.events],
        "view_name": view_name(entry.channel),
        "view": view,
        "title": shown.summary(data) if data is not None else "",
        "readable": readable,
        "original_label": f"{entry.channel} payload (.{file_extension(entry.channel)})",
    }
    return ui_page(
        request, "compliance/archive_detail.html", context, csp=content_security_policy(images="data:")
    )


@router.get("/ui/archive/{message_id}/original")
def archive_original(
    message_id: MessageIdPath, session: SessionDep, vault: VaultDep, viewer: Reader, inline: bool = False
) -> Response:
    """The original bytes as a download (a PDF may be shown inline, nothing else is ever rendered by us)."""
    entry = search.get_entry(session, message_id)
    data = read_archived(vault, entry)
    audit.log_access(session, viewer.actor, "download", {"message_id": message_id}, [message_id])
    show = inline and entry.content_type == "application/pdf"
    name = file_name(entry).rsplit("/", 1)[-1]
    headers = {
        "Content-Disposition": f'{"inline" if show else "attachment"}; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Content-SHA256": entry.sha256,
    }
    return Response(
        data, media_type=entry.content_type if show else "application/octet-stream", headers=headers
    )


@router.get("/ui/audit")
def audit_page(request: Request, session: SessionDep, viewer: Auditor, page: PageQuery = 1) -> Response:
    records = audit.list_records(session, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    count, problems = audit.verify_log(session)
    context = {
        "viewer": viewer,
        "records": records[:PAGE_SIZE],
        "page": page,
        "has_next": len(records) > PAGE_SIZE,
        "base": "/ui/audit?",
        "count": count,
        "problems": problems,
    }
    return ui_page(request, "compliance/audit_list.html", context)
