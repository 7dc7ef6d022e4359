"""The archive index: recording what was archived, and finding it again for compliance staff."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from ccm.compliance.models import ArchiveEntry
from ccm.customers.models import Customer
from ccm.errors import NotFound


def find_entry(session: Session, message_id: str) -> ArchiveEntry | None:
    return session.exec(select(ArchiveEntry).where(ArchiveEntry.message_id == message_id)).first()


def get_entry(session: Session, message_id: str) -> ArchiveEntry:
    entry = find_entry(session, message_id)
    if entry is None:
        raise NotFound(
            f"no archived communication for message '{message_id}'", code="archive_entry_not_found"
        )
    return entry


def search(
    session: Session,
    *,
    customer_external_id: str | None = None,
    channel: str | None = None,
    template: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[ArchiveEntry, str]]:
    """Archive entries with their customer's external id, newest first."""
    statement = select(ArchiveEntry, Customer.external_id).join(
        Customer, col(Customer.id) == col(ArchiveEntry.customer_id)
    )
    if customer_external_id is not None:
        statement = statement.where(Customer.external_id == customer_external_id)
    if channel is not None:
        statement = statement.where(ArchiveEntry.channel == channel)
    if template is not None:
        statement = statement.where(ArchiveEntry.template_key == template)
    if start is not None:
        statement = statement.where(col(ArchiveEntry.created_at) >= start)
    if end is not None:
        statement = statement.where(col(ArchiveEntry.created_at) < end)
    statement = statement.order_by(col(ArchiveEntry.created_at).desc(), col(ArchiveEntry.id).desc())
    return [
        (entry, external_id) for entry, external_id in session.exec(statement.limit(limit).offset(offset))
    ]
