"""HTTP for the archive: search, view, verify, export, legal hold, the audit log, and customer erasure.

Every read of the archive is written to the audit log in the same transaction as the response's data;
every refused attempt (403) is written too, in a transaction of its own (see `audited`).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from archive import ArchiveError, ArchiveIntegrityError, ObjectNotFound
from ccm.access.models import ApiKey, User
from ccm.access.permissions import Permission
from ccm.archiving.crypto import KeyDestroyed
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import read_payload, read_snapshot
from ccm.archiving.vault import ArchiveVault, VaultDep
from ccm.channels import file_extension
from ccm.channels.parts import ChannelKey
from ccm.compliance import audit, search
from ccm.compliance.erasure import erase_customer
from ccm.compliance.export import MAX_ENTRIES, build_export
from ccm.compliance.models import AuditRecord
from ccm.compliance.schemas import (
    ArchiveEntryDetail,
    ArchiveEntryOut,
    ArchivePage,
    AuditPage,
    AuditRecordOut,
    AuditVerifyOut,
    ErasureOut,
    EventOut,
    IssueOut,
    LegalHoldIn,
    VerifyReportOut,
)
from ccm.compliance.search import ArchiveQuery
from ccm.compliance.verify import Issue, verify_archive, verify_entry
from ccm.customers.service import get_customer
from ccm.database import session_scope
from ccm.dependencies import EngineDep, SessionDep, SettingsDep, get_caller, permitted
from ccm.engagement.models import Event
from ccm.errors import ApiError, Forbidden, Gone, ServiceUnavailable, Unprocessable

DENIED_ACTIONS = {
    "search_archive": "search",
    "verify": "verify",
    "export": "export",
    "get_entry": "view",
    "get_content": "download",
    "legal_hold": "legal_hold",
    "audit_log": "audit_read",
    "audit_verify": "audit_verify",
    "audit_export": "audit_export",
    "erase": "erase_customer",
    "delete_customer": "erase_customer",
    # the web UI's pages over the same data (ccm.web.views.compliance)
    "archive_search": "search",
    "archive_export": "export",
    "archive_entry": "view",
    "archive_original": "download",
    "audit_page": "audit_read",
}
"""What a refused request is logged as (`denied:<action>`), by route handler (others: the handler's name)."""


def log_refusal(request: Request, session: Session, engine: Engine, caller: ApiKey | User) -> None:
    """Append `denied:<action>` to the audit log in a short transaction of its own.

    The request's transaction will be rolled back with the 403, and on SQLite it has held the write lock
    since the key was read, so it is ended first; the caller is detached beforehand so that the rollback
    does not expire the fields the record needs.
    """
    endpoint = getattr(request.scope.get("endpoint"), "__name__", "archive")
    action = f"denied:{DENIED_ACTIONS.get(endpoint, endpoint)}"[:40]
    message_id = str(request.path_params.get("message_id", ""))
    message_ids = [message_id] if 0 < len(message_id) <= 36 else []
    if caller in session:
        session.expunge(caller)
    session.rollback()
    with session_scope(engine) as audit_session:
        audit.log_access(audit_session, caller, action, {"path": request.url.path[:500]}, message_ids)


def audited(permission: Permission) -> Callable[..., ApiKey]:
    """`require(permission)`, with each refusal audited: who tried to reach the archive matters too."""

    def guard(
        request: Request,
        session: SessionDep,
        engine: EngineDep,
        caller: Annotated[ApiKey, Depends(get_caller)],
    ) -> ApiKey:
        try:
            return permitted(caller, permission)
        except Forbidden:
            log_refusal(request, session, engine, caller)
            raise

    return guard


router = APIRouter(tags=["archive"])
Compliance = Annotated[ApiKey, Depends(audited(Permission.ARCHIVE_READ))]
HoldKeeper = Annotated[ApiKey, Depends(audited(Permission.ARCHIVE_HOLD))]
Auditor = Annotated[ApiKey, Depends(audited(Permission.AUDIT_READ))]
Eraser = Annotated[ApiKey, Depends(audited(Permission.CUSTOMERS_ERASE))]
MessageId = Annotated[str, Path(min_length=1, max_length=36)]
Text = Annotated[str | None, Query(min_length=1, max_length=320)]
ExternalId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]*$")]


def archive_query(
    customer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    email: Text = None,
    phone: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    message_id: Annotated[str | None, Query(min_length=1, max_length=36)] = None,
    channel: ChannelKey | None = None,
    template: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
) -> ArchiveQuery:
    """The search filters shared by the search, the export and the web page."""
    if from_ is not None and to is not None and to < from_:
        raise ApiError("'to' must not be before 'from'", field="to", code="invalid_range")
    return ArchiveQuery(
        customer_id=customer_id,
        email=email,
        phone=phone,
        message_id=message_id,
        channel=channel,
        template=template,
        category=category,
        start=from_,
        end=to,
    )


QueryDep = Annotated[ArchiveQuery, Depends(archive_query)]


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
        version_id=entry.version_id,
        context_sha256=entry.context_sha256,
        archived_at=entry.created_at,
        retain_until=entry.retain_until,
        lock_mode=entry.lock_mode,
        legal_hold=entry.legal_hold,
        purged_at=entry.purged_at,
        chain_position=entry.chain_seq,
        content_url=f"/v1/archive/{entry.message_id}/content",
    )


def issue_out(issue: Issue) -> IssueOut:
    return IssueOut(
        message_id=issue.message_id, problem=issue.problem, detail=issue.detail, chain_position=issue.seq
    )


def read_archived(vault: ArchiveVault, entry: ArchiveEntry) -> bytes:
    """The archived bytes, with each way of failing as the right HTTP error."""
    try:
        return read_payload(vault, entry)
    except ArchiveIntegrityError as error:
        raise ApiError(
            f"archived content failed its integrity check: {error}", code="integrity_error"
        ) from error
    except (KeyDestroyed, ObjectNotFound) as error:
        raise Gone(f"archived content no longer exists: {error}") from error
    except ArchiveError as error:
        raise ServiceUnavailable(f"archive store unavailable: {error}") from error


@router.get("/v1/archive", response_model=ArchivePage)
def search_archive(
    session: SessionDep,
    caller: Compliance,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ArchivePage:
    hits, total = search.search(session, query, limit=limit, offset=offset)
    audit.log_access(session, caller, "search", query.as_record(), [e.message_id for e, _ in hits])
    return ArchivePage(items=[entry_out(e, x) for e, x in hits], total=total, limit=limit, offset=offset)


@router.get("/v1/archive/verify", response_model=VerifyReportOut)
def verify(session: SessionDep, vault: VaultDep, caller: Compliance) -> VerifyReportOut:
    """Walk the whole chain and read every stored object: slow on a large archive, by design thorough."""
    report = verify_archive(session, vault)
    audit.log_access(session, caller, "verify", {"store": report.store_url}, [])
    return VerifyReportOut(
        ok=report.ok,
        store_url=report.store_url,
        records=report.records,
        objects_checked=report.objects_checked,
        tombstones=report.tombstones,
        checkpoint_position=report.checkpoint_seq,
        issues=[issue_out(i) for i in report.issues],
    )


@router.get(
    "/v1/archive/export", response_class=Response, responses={200: {"content": {"application/zip": {}}}}
)
def export(session: SessionDep, vault: VaultDep, caller: Compliance, query: QueryDep) -> Response:
    """A zip of the matching messages that verifies with `sha256sum -c` and the enclosed script."""
    hits, total = search.search(session, query, limit=MAX_ENTRIES)
    if total > MAX_ENTRIES:
        raise Unprocessable(f"{total} entries match; narrow the query to at most {MAX_ENTRIES}")
    entries = [entry for entry, _ in hits]
    try:
        data = build_export(session, vault, entries, query.as_record())
    except ArchiveIntegrityError as error:
        raise ApiError(
            f"an archived item failed its integrity check: {error}", code="integrity_error"
        ) from error
    except ArchiveError as error:
        raise ServiceUnavailable(f"archive store unavailable: {error}") from error
    audit.log_access(session, caller, "export", query.as_record(), [e.message_id for e in entries])
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="ccm-archive-export.zip"',
            "Cache-Control": "no-store",
        },
    )


def entry_detail(session: Session, vault: ArchiveVault, entry: ArchiveEntry) -> ArchiveEntryDetail:
    """The entry, its decrypted data snapshot, its delivery events and its own verification."""
    try:
        context = read_snapshot(vault, session, entry).get("context", {})
    except KeyDestroyed:
        context = {}
    issues = verify_entry(session, vault, entry)
    events = session.exec(
        select(Event)
        .where(col(Event.message_id) == entry.message_id)
        .order_by(col(Event.occurred_at), col(Event.id))
    ).all()
    out = entry_out(entry, search.external_id_of(session, entry))
    return ArchiveEntryDetail(
        **out.model_dump(),
        context=context,
        verified=not issues,
        issues=[issue_out(i) for i in issues],
        events=[EventOut(type=str(e.type), occurred_at=e.occurred_at, detail=e.detail) for e in events],
    )


@router.get("/v1/archive/{message_id}", response_model=ArchiveEntryDetail)
def get_entry(
    message_id: MessageId, session: SessionDep, vault: VaultDep, caller: Compliance
) -> ArchiveEntryDetail:
    entry = search.get_entry(session, message_id)
    detail = entry_detail(session, vault, entry)
    audit.log_access(session, caller, "view", {"message_id": message_id}, [message_id])
    return detail


@router.get(
    "/v1/archive/{message_id}/content",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}, "application/json": {}, "application/pdf": {}}}},
)
def get_content(message_id: MessageId, session: SessionDep, vault: VaultDep, caller: Compliance) -> Response:
    """The exact bytes handed to the provider, checked against their SHA-256 before they are served."""
    entry = search.get_entry(session, message_id)
    data = read_archived(vault, entry)
    audit.log_access(session, caller, "download", {"message_id": message_id}, [message_id])
    filename = f"{entry.message_id}.{file_extension(entry.channel)}"
    return Response(
        data,
        media_type=entry.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-SHA256": entry.sha256,
            "Cache-Control": "no-store",
        },
    )


@router.put("/v1/archive/{message_id}/legal-hold", response_model=ArchiveEntryOut)
def legal_hold(
    message_id: MessageId, body: LegalHoldIn, session: SessionDep, vault: VaultDep, caller: HoldKeeper
) -> ArchiveEntryOut:
    """Set or release a legal hold: the store refuses deletion while it is on, whatever the retention."""
    entry = search.get_entry(session, message_id)
    if entry.version_id is None or entry.purged_at is not None:
        raise Gone(f"message {message_id} has no write-once object to hold")
    try:
        vault.store.set_legal_hold(entry.object_key, entry.version_id, on=body.on)
    except ArchiveError as error:
        raise ServiceUnavailable(f"archive store refused the legal hold: {error}") from error
    entry.legal_hold = body.on
    session.add(entry)
    action = "legal_hold_set" if body.on else "legal_hold_released"
    audit.log_access(session, caller, action, {"message_id": message_id, "reason": body.reason}, [message_id])
    return entry_out(entry, search.external_id_of(session, entry))


def audit_out(record: AuditRecord) -> AuditRecordOut:
    return AuditRecordOut(
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        role=record.role,
        action=record.action,
        query=record.query,
        message_ids=record.message_ids,
        prev_hash=record.prev_hash,
        record_hash=record.record_hash,
    )


@router.get("/v1/audit", response_model=AuditPage, tags=["audit"])
def audit_log(
    session: SessionDep,
    _caller: Auditor,
    action: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    """Newest first. Reading the log is not itself logged (it would only ever grow)."""
    records = audit.list_records(session, action=action, limit=limit, offset=offset)
    return AuditPage(items=[audit_out(r) for r in records], limit=limit, offset=offset)


@router.get("/v1/audit/verify", response_model=AuditVerifyOut, tags=["audit"])
def audit_verify(session: SessionDep, _caller: Auditor) -> AuditVerifyOut:
    count, problems = audit.verify_log(session)
    return AuditVerifyOut(
        ok=not problems, records=count, problems=[f"#{p.seq}: {p.problem}" for p in problems]
    )


@router.get(
    "/v1/audit/export",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
    tags=["audit"],
)
def audit_export(session: SessionDep, caller: Auditor) -> Response:
    """The whole log as JSON lines (each with its hashes), oldest first, for keeping outside ccm."""
    audit.log_access(session, caller, "audit_export", {}, [])
    lines = [
        audit_out(r).model_dump_json() + "\n" for r in reversed(audit.list_records(session, limit=10**9))
    ]
    return Response(
        "".join(lines),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": 'attachment; filename="ccm-audit-log.jsonl"',
            "Cache-Control": "no-store",
        },
    )


def _erase(external_id: str, session: Session, caller: ApiKey, outbox_dir: pathlib.Path) -> ErasureOut:
    result = erase_customer(session, get_customer(session, external_id), outbox_dir=outbox_dir)
    audit.log_access(session, caller, "erase_customer", {"customer_id": external_id}, [])
    completes = (
        "now: no archived item remains and the data key is destroyed"
        if result.data_key_destroyed or not result.archived_items_retained
        else f"when the last retention ends ({result.retained_until}); the data key is destroyed then"
    )
    return ErasureOut(
        external_id=result.external_id,
        erased_at=result.erased_at,
        archived_items_retained=result.archived_items_retained,
        retained_until=result.retained_until,
        data_key_destroyed=result.data_key_destroyed,
        completes=completes,
    )


@router.post("/v1/customers/{external_id}/erase", response_model=ErasureOut, tags=["customers"])
def erase(external_id: ExternalId, session: SessionDep, settings: SettingsDep, caller: Eraser) -> ErasureOut:
    """GDPR erasure (admin only): see the README's data-protection section for what stays and for how long."""
    return _erase(external_id, session, caller, settings.outbox_dir)


@router.delete("/v1/customers/{external_id}", response_model=ErasureOut, tags=["customers"])
def delete_customer(
    external_id: ExternalId, session: SessionDep, settings: SettingsDep, caller: Eraser
) -> ErasureOut:
    """The same erasure as `POST .../erase`: personal data goes, a pseudonymous row stays for the archive."""
    return _erase(external_id, session, caller, settings.outbox_dir)
