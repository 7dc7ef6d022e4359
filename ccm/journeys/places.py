"""Where runs are: a customer's, newest first, for their page and `GET /v1/customers/{id}/journeys`
(customers sit below journeys, so the query lives here), and how many each journey has going."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.customers.models import Customer
from ccm.journeys.models import Enrolment, Journey, JourneyVersion, RunStatus
from ccm.journeys.schemas import CustomerRun

RUNS_SHOWN = 20
"""A customer in an every-time journey may have a run per invoice: the newest this many are shown."""


def customer_runs(session: Session, customer: Customer, *, limit: int = RUNS_SHOWN) -> list[CustomerRun]:
    """The customer's runs, newest first: journey, version, status, the step they are at (or ended at)."""
    rows = session.exec(
        select(Enrolment, Journey, JourneyVersion)
        .join(Journey, col(Journey.id) == col(Enrolment.journey_id))
        .join(JourneyVersion, col(JourneyVersion.id) == col(Enrolment.version_id))
        .where(Enrolment.customer_id == customer.id)
        .order_by(col(Enrolment.created_at).desc(), col(Enrolment.id).desc())
        .limit(limit)
    ).all()
    return [
        CustomerRun(
            id=run.id,
            journey=journey.key,
            name=str(version.definition.get("name", journey.key)),
            version=version.number,
            status=run.status,
            step_id=run.step_id,
            wait_until=run.wait_until,
            entered_at=run.created_at,
            ended_at=run.ended_at,
            end_reason=run.end_reason,
        )
        for run, journey, version in rows
    ]


def running_counts(session: Session) -> dict[int, int]:
    """Runs still going, per journey id, for the list of journeys."""
    rows = session.exec(
        select(Enrolment.journey_id, func.count())
        .where(Enrolment.status == RunStatus.ACTIVE)
        .group_by(col(Enrolment.journey_id))
    ).all()
    return {journey_id: count for journey_id, count in rows}
