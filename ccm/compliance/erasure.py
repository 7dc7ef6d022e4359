"""GDPR erasure: personal data leaves the live database now; archived copies under legal retention stay,
sealed with the customer's data key, which is destroyed when the last of them is purged. Local outbox
copies of the customer's messages are deleted, since the archive is the record and they are only copies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from ccm.archiving.models import ArchiveEntry, CustomerKey
from ccm.communications.models import Message
from ccm.compliance.purge import complete_erasures, live_items
from ccm.customers.models import Customer
from ccm.database import utcnow
from ccm.engagement.models import Event
from delivery.outbox import delete_outbox_entry

ERASED = "erased"
Eraser = Callable[[Session, int], None]
ERASERS: list[Eraser] = []
"""What higher layers keep about a customer and blank on erasure (journeys' events and runs), registered
with `register_eraser` so that compliance never imports them."""


def register_eraser(eraser: Eraser) -> Eraser:
    """Have every erasure from now on also call `eraser(session, customer_id)`, in its transaction."""
    if eraser not in ERASERS:
        ERASERS.append(eraser)
    return eraser


@dataclass(frozen=True)
class ErasureResult:
    external_id: str
    erased_at: datetime
    archived_items_retained: int
    retained_until: datetime | None
    data_key_destroyed: bool


def erase_customer(session: Session, customer: Customer, *, outbox_dir: Path) -> ErasureResult:
    """Blank the customer's record, message contexts and recipients, and event details, delete their
    outbox copies in `outbox_dir` (the caller's settings), and schedule the rest."""
    assert customer.id is not None
    now, original = utcnow(), customer.external_id
    customer.external_id = f"{ERASED}-{customer.id}"
    customer.email = customer.phone = None
    customer.attributes = {}
    customer.updated_at = now
    session.add(customer)
    session.exec(
        update(Message)
        .where(col(Message.customer_id) == customer.id)
        .values(context={}, recipient=ERASED, last_error=None, updated_at=now)
    )
    session.exec(update(Event).where(col(Event.customer_id) == customer.id).values(detail={}))
    session.exec(update(ArchiveEntry).where(col(ArchiveEntry.customer_id) == customer.id).values(context={}))
    for eraser in ERASERS:
        eraser(session, customer.id)
    key = session.get(CustomerKey, customer.id)
    if key is not None and key.erasure_requested_at is None:
        key.erasure_requested_at = now
        session.add(key)
    session.flush()
    for message_id in session.exec(select(Message.id).where(col(Message.customer_id) == customer.id)):
        delete_outbox_entry(outbox_dir, message_id)
    destroyed = customer.id in complete_erasures(session)
    until = session.exec(
        select(func.max(ArchiveEntry.retain_until)).where(
            col(ArchiveEntry.customer_id) == customer.id, col(ArchiveEntry.purged_at).is_(None)
        )
    ).one()
    return ErasureResult(original, now, live_items(session, customer.id), until, destroyed)


def is_erased(session: Session, customer_id: int) -> bool:
    """Whether the customer's erasure was requested: what they were sent must no longer be handed out."""
    key = session.get(CustomerKey, customer_id)
    if key is not None and key.erasure_requested_at is not None:
        return True
    customer = session.get(Customer, customer_id)
    return customer is None or customer.external_id == f"{ERASED}-{customer_id}"
