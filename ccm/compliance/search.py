"""Archive search: finding archived communications again for compliance staff."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import find_entry
from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.errors import NotFound


@dataclass(frozen=True)
class ArchiveQuery:
    """A search of the archive; also what an export selects and what the audit log records."""

    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
    message_id: str | None = None
    channel: str | None = None
    template: str | None = None
    category: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def as_record(self) -> dict[str, Any]:
        """The query as the audit log stores it (JSON values only)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def get_entry(session: Session, message_id: str) -> ArchiveEntry:
    entry = find_entry(session, message_id)
    if entry is None:
        raise NotFound(
            f"no archived communication for message '{message_id}'", code="archive_entry_not_found"
        )
    return entry


def _filtered(statement: SelectOfScalar[Any], query: ArchiveQuery) -> SelectOfScalar[Any]:
    if query.customer_id is not None:
        statement = statement.where(Customer.external_id == query.customer_id)
    if query.email is not None:
        address = query.email.strip().lower()
        statement = statement.where(
            or_(func.lower(col(Customer.email)) == address, func.lower(col(Message.recipient)) == address)
        )
    if query.phone is not None:
        number = query.phone.strip()
        statement = statement.where(or_(col(Customer.phone) == number, col(Message.recipient) == number))
    if query.message_id is not None:
        statement = statement.where(col(ArchiveEntry.message_id) == query.message_id)
    if query.channel is not None:
        statement = statement.where(col(ArchiveEntry.channel) == query.channel)
    if query.template is not None:
        statement = statement.where(col(ArchiveEntry.template_key) == query.template)
    if query.category is not None:
        statement = statement.where(col(ArchiveEntry.category) == query.category)
    if query.start is not None:
        statement = statement.where(col(ArchiveEntry.created_at) >= query.start)
    if query.end is not None:
        statement = statement.where(col(ArchiveEntry.created_at) < query.end)
    return statement


def _joined(statement: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
    return statement.join(Customer, col(Customer.id) == col(ArchiveEntry.customer_id)).join(
        Message, col(Message.id) == col(ArchiveEntry.message_id)
    )


def search(
    session: Session, query: ArchiveQuery, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[ArchiveEntry, str]], int]:
    """One page of matching entries with their customer's external id, newest first, and the total."""
    statement = _filtered(_joined(select(ArchiveEntry, Customer.external_id)), query)  # type: ignore[arg-type]
    statement = statement.order_by(col(ArchiveEntry.created_at).desc(), col(ArchiveEntry.id).desc())
    rows = [
        (entry, external_id) for entry, external_id in session.exec(statement.limit(limit).offset(offset))
    ]
    count = _filtered(_joined(select(func.count(col(ArchiveEntry.id)))), query)
    total = int(session.exec(count).one())
    return rows, total


def external_id_of(session: Session, entry: ArchiveEntry) -> str:
    customer = session.get(Customer, entry.customer_id)
    return customer.external_id if customer else ""
