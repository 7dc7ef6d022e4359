"""What the worker writes about its messages, a batch at a time: hand-off records and outcomes.

`HandOff` is the record committed before a provider is called: the message is `sending` (one attempt
more), or `archived` for good when it is archive-only, with its archive index row and chain record when it
was rendered this time. `Outcome` is what the hand-off ended in. `OutboxWrites.write` turns a batch of each
into a few statements (see `ccm.communications.group_commit` for when batches are written):

- hand-offs: one UPDATE ... RETURNING of the messages this worker still holds (only those are handed
  off), then `record_archived_many` (the chain head, one INSERT of chain records, one of index rows);
- outcomes: one UPDATE executemany per shape of change (all alike when all were sent), one INSERT of their
  events (the `archived` event of a message rendered this attempt goes with its outcome: see the worker);
  the few kinds that are also webhooks (a bounce) go through `record_message_event` to queue them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session

from ccm.archiving.service import SealedPayload, record_archived_many
from ccm.communications.group_commit import Written
from ccm.communications.models import CLAIMABLE_STATUSES, Message, MessageStatus
from ccm.database import utcnow
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import WEBHOOK_EVENTS, record_message_event

MESSAGES: Table = Message.__table__  # type: ignore[attr-defined]
EVENTS: Table = Event.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HandOff:
    """Start the hand-off of `message` (a snapshot from its claim), with its archive when `stored`."""

    message: Message
    stored: SealedPayload | None


@dataclass(frozen=True)
class Outcome:
    """Set `values` on the message, record `events` about it, then run `extra` in the same transaction."""

    message: Message
    values: dict[str, Any]
    events: list[tuple[EventType, dict[str, Any]]] = field(default_factory=list)
    extra: Callable[[Session], None] | None = None


class OutboxWrites:
    """The write function of one worker's group commit; remembers the archive chain's head it last left.

    That head is passed on as a hint (`chain.append_many`) only while it keeps being right, i.e. while no
    other process appended between two of ours: with several worker processes the head has usually moved,
    and a stale hint costs a statement that waits for the head's row lock only to update nothing."""

    def __init__(self, owner: str, store_url: str) -> None:
        self.owner = owner
        self.store_url = store_url
        self.head: tuple[int, str] | None = None
        self.hint_holds = True
        """Whether the chain was, at our last append, where our append before had left it."""

    def write(self, session: Session, handoffs: Sequence[HandOff], outcomes: Sequence[Outcome]) -> Written:
        """Outcomes, then hand-off records, then their events, and the archive chain last: its head is the
        one row every worker process queues on, so it is locked for the fewest statements, and never before
        a message row (two processes never wait on each other in opposite orders)."""
        _finish(session, outcomes)
        owned = self._start(session, handoffs)
        events = [(o.message, kind, detail) for o in outcomes for kind, detail in o.events]
        events += [
            (h.message, EventType.ARCHIVED, {"sha256": h.stored.sha256, "size": h.stored.size})
            for h in handoffs
            if h.message.archive_only and h.stored is not None and h.message.id in owned
        ]
        _record_events(session, events)
        for outcome in outcomes:
            if outcome.extra is not None:
                outcome.extra(session)  # noqa: S610 (a callable, not Django's QuerySet.extra)
        on_commit = None
        archived = [(h.message, h.stored) for h in handoffs if h.message.id in owned and h.stored is not None]
        if archived:
            hint = self.head if self.hint_holds else None
            _, head = record_archived_many(session, archived, self.store_url, head_hint=hint)
            followed = self.head is not None and head[0] - len(archived) == self.head[0]

            def remember() -> None:
                self.head = head
                self.hint_holds = followed

            on_commit = remember
        return Written([h.message.id in owned for h in handoffs], on_commit)

    def _start(self, session: Session, handoffs: Sequence[HandOff]) -> set[str]:
        """Mark the messages this worker still holds `sending` (or `archived`); their ids."""
        now = utcnow()
        owned: set[str] = set()
        sending = [h.message.id for h in handoffs if not h.message.archive_only]
        finished = [h.message.id for h in handoffs if h.message.archive_only]
        changes: list[tuple[list[str], dict[str, Any]]] = [
            (
                sending,
                {
                    "status": MessageStatus.SENDING.value,
                    "attempts": MESSAGES.c.attempts + 1,
                    "handoff_started_at": now,
                    "updated_at": now,
                },
            ),
            (
                finished,
                {
                    "status": MessageStatus.ARCHIVED.value,
                    "last_error": None,
                    "lease_until": None,
                    "locked_by": None,
                    "updated_at": now,
                },
            ),
        ]
        for ids, values in changes:
            if ids:
                statement = (
                    update(MESSAGES)
                    .where(
                        MESSAGES.c.id.in_(ids),
                        MESSAGES.c.locked_by == self.owner,
                        MESSAGES.c.status.in_([s.value for s in CLAIMABLE_STATUSES]),
                    )
                    .values(values)
                    .returning(MESSAGES.c.id)
                )
                owned.update(session.execute(statement).scalars())
        return owned


def _finish(session: Session, outcomes: Sequence[Outcome]) -> None:
    """One UPDATE executemany per set of columns changed, then every event (one INSERT at flush)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        columns = tuple(sorted(outcome.values))
        row = {f"v_{name}": value for name, value in outcome.values.items()}
        shapes.setdefault(columns, []).append({"v_id": outcome.message.id, **row})
    for columns, rows in shapes.items():
        statement = (
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("v_id"))
            .values({name: bindparam(f"v_{name}") for name in columns})
        )
        session.execute(statement, rows)


def _record_events(session: Session, events: Sequence[tuple[Message, EventType, dict[str, Any]]]) -> None:
    """The events of a batch in one INSERT; the kinds that are also webhooks go through
    `record_message_event`, which queues their deliveries."""
    now = utcnow()
    rows = []
    for message, kind, detail in events:
        if kind in WEBHOOK_EVENTS:
            record_message_event(session, message, kind, detail)
            continue
        rows.append(
            {
                "customer_id": message.customer_id,
                "message_id": message.id,
                "type": kind.value,
                "channel": message.channel,
                "detail": detail,
                "occurred_at": now,
            }
        )
    if rows:
        session.execute(insert(EVENTS), rows)
