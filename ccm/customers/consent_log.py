"""The consent states and the one function that writes consent history, shared by every opt-out path."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlmodel import Session

from ccm.customers.models import ConsentEvent
from ccm.webhooks.events import emit_event

CHANNEL = ""
"""The `topic` of a consent about the channel as a whole."""


class ConsentState(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    PENDING = "pending"


def record_change(
    session: Session,
    customer_id: int,
    channel: str,
    topic: str,
    state: ConsentState,
    *,
    source: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry of the history, and the `consent.changed` webhook in the same transaction; channel
    opt-outs recorded elsewhere call this too."""
    session.add(
        ConsentEvent(
            customer_id=customer_id,
            channel=channel,
            topic=topic,
            state=state.value,
            source=source,
            detail=detail or {},
        )
    )
    change = {"customer_id": customer_id, "channel": channel, "topic": topic or None, "state": state.value}
    emit_event(session, "consent.changed", {**change, "source": source})
