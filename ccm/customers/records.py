"""Customer records as the API shows them: with consent and engagement, read in bulk for a page of them."""

from __future__ import annotations

from sqlmodel import Session

from ccm.customers.models import Customer
from ccm.customers.schemas import Consent, CustomerOut
from ccm.customers.service import unsubscribed_channels_of
from ccm.engagement.schemas import EngagementSummary
from ccm.engagement.service import engagement_summaries


def customer_out(session: Session, customer: Customer) -> CustomerOut:
    """The record `PUT` and `GET /v1/customers/{id}` answer with."""
    return customers_out(session, [customer])[0]


def customers_out(session: Session, customers: list[Customer]) -> list[CustomerOut]:
    """Records as the API shows them, consent and engagement read in one query each for the lot."""
    ids = [customer.id for customer in customers if customer.id is not None]
    unsubscribed = unsubscribed_channels_of(session, ids)
    engagement = engagement_summaries(session, ids)
    return [_out(c, unsubscribed[c.id], engagement[c.id]) for c in customers if c.id is not None]


def _out(customer: Customer, unsubscribed: list[str], engagement: EngagementSummary) -> CustomerOut:
    return CustomerOut(
        external_id=customer.external_id,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        timezone=customer.timezone,
        attributes=customer.attributes,
        consent=Consent(unsubscribed_channels=unsubscribed),
        engagement=engagement,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )
