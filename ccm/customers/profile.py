"""The customer profile: what a marketer reads before the next decision about one customer, assembled
from engagement metrics, their newest survey answer and the saved segments they are in now."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from ccm.customers.engagement_metrics import engagement_metrics
from ccm.customers.membership import segments_of
from ccm.customers.models import Customer
from ccm.customers.profile_schemas import CustomerProfile, SegmentMembership
from ccm.database import utcnow
from ccm.engagement.service import last_feedback_of


def customer_profile(session: Session, customer: Customer, now: datetime | None = None) -> CustomerProfile:
    """The profile of `GET /v1/customers/{id}/profile` and the customer page, judged at `now`."""
    assert customer.id is not None
    now = now or utcnow()
    return CustomerProfile(
        external_id=customer.external_id,
        engagement=engagement_metrics(session, customer.id, now),
        last_feedback=last_feedback_of(session, [customer.id]).get(customer.id),
        segments=[
            SegmentMembership(key=segment.key, name=segment.name)
            for segment in segments_of(session, customer.id, now)
        ],
    )
