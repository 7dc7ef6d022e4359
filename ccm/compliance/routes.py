"""HTTP for the archive: find communications and fetch the exact bytes that went out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from archive import ArchiveError, ArchiveIntegrityError
from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.compliance import service
from ccm.compliance.archiving import read_payload
from ccm.compliance.models import ArchiveEntry
from ccm.compliance.schemas import ArchiveEntryDetail, ArchiveEntryOut, ArchivePage
from ccm.customers.models import Customer
from ccm.dependencies import RuntimeDep, SessionDep, require
from ccm.errors import ApiError, ServiceUnavailable
from delivery import Channel

router = APIRouter(prefix="/v1/archive", tags=["archive"])
Compliance = Annotated[ApiKey, Depends(require(Permission.ARCHIVE_READ))]
MessageId = Annotated[str, Path(min_length=1, max_length=36)]
EXTENSIONS = {"message/rfc822": "eml", "application/json": "json", "application/pdf": "pdf"}


def entry_out(entry: ArchiveEntry, external_id: str) -> ArchiveEntryOut:
    return ArchiveEntryOut(
        message_id=entry.message_id,
        customer_id=external_id,
        channel=entry.channel,
        category=entry.category,
        template=entry.template_key,
        template_version=entry.template_version,
        sha256=entry.sha256,
        size=entry.size,
        content_type=entry.content_type,
        store_url=entry.store_url,
        object_key=entry.object_key,
        context_sha256=entry.context_sha256,
        archived_at=entry.created_at,
        content_url=f"/v1/archive/{entry.message_id}/content",
    )


@router.get("", response_model=ArchivePage)
def search_archive(
    session: SessionDep,
    _caller: Compliance,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    channel: Channel | None = None,
    template: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ArchivePage:
    if from_ is not None and to is not None and to < from_:
        raise ApiError("'to' must not be before 'from'", field="to", code="invalid_range")
    hits = service.search(
        session,
        customer_external_id=customer_id,
        channel=channel.value if channel else None,
        template=template,
        start=from_,
        end=to,
        limit=limit,
        offset=offset,
    )
    return ArchivePage(items=[entry_out(e, x) for e, x in hits], limit=limit, offset=offset)


@router.get("/{message_id}", response_model=ArchiveEntryDetail)
def get_entry(message_id: MessageId, session: SessionDep, _caller: Compliance) -> ArchiveEntryDetail:
    entry = service.get_entry(session, message_id)
    customer = session.get(Customer, entry.customer_id)
    out = entry_out(entry, customer.external_id if customer else "")
    return ArchiveEntryDetail(**out.model_dump(), context=entry.context)


@router.get(
    "/{message_id}/content",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}, "application/json": {}, "application/pdf": {}}}},
)
def get_content(
    message_id: MessageId, session: SessionDep, runtime: RuntimeDep, _caller: Compliance
) -> Response:
    """The exact bytes handed to the provider, checked against their SHA-256 before they are served."""
    entry = service.get_entry(session, message_id)
    try:
        data = read_payload(runtime.archive, entry)
    except ArchiveIntegrityError as error:
        raise ApiError(
            f"archived content failed its integrity check: {error}", code="integrity_error"
        ) from error
    except ArchiveError as error:
        raise ServiceUnavailable(f"archive store unavailable: {error}") from error
    filename = f"{entry.message_id}.{EXTENSIONS.get(entry.content_type, 'bin')}"
    return Response(
        data,
        media_type=entry.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-SHA256": entry.sha256,
            "Cache-Control": "no-store",
        },
    )
