"""The demo's journey for `ccm seed-demo`: the issue's invoice chase (email, 48 hours, then an SMS reminder
unless a person opened the email), published live so an `invoice_issued` event enrols a demo customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from ccm.access.identity import SYSTEM_IDENTITY
from ccm.journeys import service, workflow
from ccm.journeys.definition import JourneyCreate
from ccm.journeys.models import Journey

INVOICE_CHASE: dict[str, Any] = {
    "key": "invoice-chase",
    "name": "Invoice chase",
    "category": "transactional",
    "trigger": {"event": "invoice_issued"},
    "reentry": "every_time",
    "goal": {"event": "invoice_paid", "match": "invoice.number"},
    "steps": [
        {"id": "mail", "send": {"template": "invoice", "channel": "email"}},
        {"id": "wait", "wait": {"duration": "PT48H"}},
        {"id": "check", "branch": {"if": {"opened": "mail"}, "then": "done", "else": "sms"}},
        {"id": "sms", "send": {"template": "invoice-reminder", "channel": "sms"}},
        {"id": "done", "exit": {}},
    ],
}
DEMO_JOURNEYS = (INVOICE_CHASE,)
"""Each needs the starter templates it sends (`invoice`, `invoice-reminder`) loaded first."""


def seed_demo_journeys(session: Session, *, now: datetime) -> list[str]:
    """Create and publish each demo journey the service does not have yet; returns the keys added. A journey
    of that key already there (the demo's, or one someone made) is left as it is."""
    added = []
    for definition in DEMO_JOURNEYS:
        key = str(definition["key"])
        if session.exec(select(Journey.id).where(Journey.key == key)).first() is not None:
            continue
        service.create_journey(session, JourneyCreate.model_validate(definition), author=SYSTEM_IDENTITY)
        workflow.publish(session, key, 1, approval_categories=(), now=now)
        added.append(key)
    return added
