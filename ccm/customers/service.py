"""Customer records: upsert from the CRM, look up, and the consent a send must honour."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.customers.models import Customer, Unsubscription
from ccm.customers.schemas import CustomerUpsert
from ccm.database import utcnow
from ccm.errors import NotFound


def upsert_customer(session: Session, external_id: str, request: CustomerUpsert) -> tuple[Customer, bool]:
    """Create or replace the record; returns it and whether it was created."""
    customer = find_customer(session, external_id)
    created = customer is None
    if customer is None:
        customer = Customer(external_id=external_id)
    customer.email = str(request.email).lower() if request.email else None
    customer.phone = request.phone
    customer.locale = request.locale
    customer.timezone = request.timezone
    customer.attributes = request.attributes
    customer.updated_at = utcnow()
    session.add(customer)
    session.flush()
    return customer, created


def find_customer(session: Session, external_id: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.external_id == external_id)).first()


def get_customer(session: Session, external_id: str) -> Customer:
    customer = find_customer(session, external_id)
    if customer is None:
        raise NotFound(f"customer '{external_id}' not found", field="customer_id", code="customer_not_found")
    return customer


def list_customers(session: Session, *, limit: int = 100, offset: int = 0) -> list[Customer]:
    statement = select(Customer).order_by(col(Customer.external_id)).limit(limit).offset(offset)
    return list(session.exec(statement).all())


def unsubscribed_channels(session: Session, customer: Customer) -> list[str]:
    statement = select(Unsubscription.channel).where(Unsubscription.customer_id == customer.id)
    return sorted(session.exec(statement).all())


def unsubscribe(
    session: Session, customer: Customer, channel: str, *, source: str, message_id: str | None = None
) -> bool:
    """Record an opt-out; returns False when the customer had already opted out (idempotent)."""
    existing = session.exec(
        select(Unsubscription).where(
            Unsubscription.customer_id == customer.id, Unsubscription.channel == channel
        )
    ).first()
    if existing is not None:
        return False
    assert customer.id is not None
    try:
        with session.begin_nested():
            session.add(
                Unsubscription(customer_id=customer.id, channel=channel, source=source, message_id=message_id)
            )
    except IntegrityError:
        return False  # a concurrent click recorded it first
    return True
