"""Erasure's part in journeys: the customer's posted events lose their properties, their runs the data
they carried, and running ones exit (`customer_erased`), so nothing more is sent on their behalf."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from ccm.compliance.erasure import register_eraser
from ccm.database import utcnow
from ccm.journeys.models import CustomerEvent, Enrolment, RunStatus


@register_eraser
def erase_journey_data(session: Session, customer_id: int) -> None:
    """Called by `ccm.compliance.erasure.erase_customer` in its transaction."""
    now = utcnow()
    session.exec(
        update(CustomerEvent).where(col(CustomerEvent.customer_id) == customer_id).values(properties={})
    )
    session.exec(
        update(Enrolment)
        .where(col(Enrolment.customer_id) == customer_id, col(Enrolment.status) == RunStatus.ACTIVE)
        .values(
            status=RunStatus.EXITED, end_reason="customer_erased", ended_at=now, due_at=None, updated_at=now
        )
    )
    session.exec(
        update(Enrolment)
        .where(col(Enrolment.customer_id) == customer_id)
        .values(data={}, correlation=None, step_state={})
    )
