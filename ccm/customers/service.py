"""Customer records: upsert from the CRM, look up, and the consent a send must honour."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.customers.attribute_types import Declarations, check_attributes
from ccm.customers.attributes import declarations
from ccm.customers.consent_log import ConsentState, record_change
from ccm.customers.models import Customer, Unsubscription
from ccm.customers.schemas import CustomerUpsert
from ccm.database import utcnow
from ccm.errors import NotFound


def upsert_customer(
    session: Session, external_id: str, request: CustomerUpsert, declared: Declarations | None = None
) -> tuple[Customer, bool]:
    """Create or replace the record; returns it and whether it was created.

    `declared` (the attribute declarations) is loaded when not given; a batch passes it once for all items.
    """
    values = stored_values(declarations(session) if declared is None else declared, request)
    customer = find_customer(session, external_id)
    created = customer is None
    if customer is None:
        customer = Customer(external_id=external_id)
    for name, value in values.items():
        setattr(customer, name, value)
    session.add(customer)
    session.flush()
    return customer, created


def stored_values(declared: Declarations, request: CustomerUpsert) -> dict[str, Any]:
    """The columns an upsert writes, its declared attributes checked: one definition for a single write and
    a bulk import (`ccm.customers.bulk`)."""
    return stored_columns(
        declared, request.email, request.phone, request.locale, request.timezone, request.attributes
    )


def stored_columns(
    declared: Declarations,
    email: str | None,
    phone: str | None,
    locale: str,
    timezone: str,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    """`stored_values` of fields already validated, for an import's fast path (`import_fast`)."""
    check_attributes(declared, attributes)
    return {
        "email": str(email).lower() if email else None,
        "phone": phone,
        "locale": locale,
        "timezone": timezone,
        "attributes": attributes,
        "updated_at": utcnow(),
    }


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
    """The channels this customer opted out of marketing on, by name."""
    if customer.id is None:
        return []
    return unsubscribed_channels_of(session, [customer.id])[customer.id]


def unsubscribed_channels_of(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """`unsubscribed_channels` of many customers in one query, for a page of a customer list."""
    statement = select(Unsubscription.customer_id, Unsubscription.channel).where(
        col(Unsubscription.customer_id).in_(customer_ids)
    )
    channels: dict[int, list[str]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id, channel in session.exec(statement).all():
        channels[customer_id].append(channel)
    return {customer_id: sorted(names) for customer_id, names in channels.items()}


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
    detail = {"message_id": message_id} if message_id else None
    record_change(session, customer.id, channel, "", ConsentState.REVOKED, source=source, detail=detail)
    return True
