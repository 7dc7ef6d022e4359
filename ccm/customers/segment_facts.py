"""Segment facts: rules about rows beside the customer, each an EXISTS subquery correlated to `customers`.

A kind is registered in `FACT_KINDS` with a parser (checks `{"<kind>": {...}}` and names the bad path) and a
clause builder; a new kind is one more `FactKind` registered with `register_fact_kind` (as
`ccm.customers.segment_nps` registers `{"nps": ...}`), and the rule parser, the API and campaigns accept it
with no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, column, exists, not_, or_, select, table
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from ccm.customers.consent import consent_channels
from ccm.customers.consent_log import CHANNEL, ConsentState
from ccm.customers.models import Consent, Customer, Unsubscription
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import HUMAN

Spec = dict[str, Any]
ENGAGEMENT_EVENTS = tuple(
    t.value
    for t in (
        EventType.SENT,
        EventType.DELIVERED,
        EventType.OPENED,
        EventType.CLICKED,
        EventType.BOUNCED,
        EventType.COMPLAINED,
        EventType.UNSUBSCRIBED,
        EventType.FAILED,
        EventType.DOCUMENT_VIEWED,
    )
)
MESSAGES = table("messages", column("id"), column("template_key"))
"""Only the two columns a template filter reads: `customers` sits below `communications` (import-linter)."""


@dataclass(frozen=True)
class FactKind:
    parse: Callable[[Any, str], Spec]
    """The checked spec, or `SegmentError(path, message)`."""
    clause: Callable[[Spec, datetime], ColumnElement[bool]]
    """The WHERE clause over `Customer` at `now`."""


def fact_error(path: str, message: str) -> Exception:
    from ccm.customers.segment_rules import SegmentError  # here: the rules import this module

    return SegmentError(path, message)


def fact_object(raw: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise fact_error(path, "must be an object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise fact_error(f"{path}.{unknown[0]}", "unknown key")
    return raw


def optional_key(raw: Any, path: str, *, required: bool) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not 1 <= len(raw) <= 100:
        raise fact_error(path, "must be a key of 1-100 characters")
    return raw


def parse_consent(raw: Any, path: str) -> Spec:
    """`{"channel": "email", "topic": "offers"?, "state": "granted|revoked|pending"}`."""
    spec = fact_object(raw, path, {"channel", "topic", "state"})
    channels = consent_channels()
    if spec.get("channel") not in channels:
        raise fact_error(f"{path}.channel", f"must be one of {', '.join(channels)}")
    states = [s.value for s in ConsentState]
    if spec.get("state") not in states:
        raise fact_error(f"{path}.state", f"must be one of {', '.join(states)}")
    topic = optional_key(spec.get("topic"), f"{path}.topic", required=False)
    return {"channel": spec["channel"], "topic": topic or CHANNEL, "state": spec["state"]}


def consent_clause(spec: Spec, _now: datetime) -> ColumnElement[bool]:
    """The state a send would see: a channel opt-out is `revoked`; no record at all is `granted` (marketing is
    opt-out by default, as the `topic_consent` send rule has it); otherwise the stored state."""
    channel, topic, state = spec["channel"], spec["topic"], spec["state"]
    mine = and_(col(Consent.customer_id) == Customer.id, Consent.channel == channel, Consent.topic == topic)
    stored = exists(select(col(Consent.id)).where(mine, Consent.state == state))
    recorded = exists(select(col(Consent.id)).where(mine))
    opted_out = (
        exists(
            select(col(Unsubscription.id)).where(
                col(Unsubscription.customer_id) == Customer.id, Unsubscription.channel == channel
            )
        )
        if topic == CHANNEL
        else None
    )
    if state == ConsentState.REVOKED:
        return stored if opted_out is None else or_(opted_out, stored)
    found = or_(stored, not_(recorded)) if state == ConsentState.GRANTED else stored
    return found if opted_out is None else and_(not_(opted_out), found)


def parse_engagement(raw: Any, path: str) -> Spec:
    """`{"event": "opened", "template": "promo"?, "within_days": 30?}`."""
    spec = fact_object(raw, path, {"event", "template", "within_days"})
    if spec.get("event") not in ENGAGEMENT_EVENTS:
        raise fact_error(f"{path}.event", f"must be one of {', '.join(ENGAGEMENT_EVENTS)}")
    days = within_days(spec.get("within_days"), f"{path}.within_days")
    template = optional_key(spec.get("template"), f"{path}.template", required=False)
    return {"event": spec["event"], "template": template, "within_days": days}


def within_days(raw: Any, path: str) -> int | None:
    """An optional look-back window of 1-3650 whole days (`true` is not a number)."""
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 3650):
        raise fact_error(path, "must be a whole number of days from 1 to 3650")
    return raw


def engagement_clause(spec: Spec, now: datetime) -> ColumnElement[bool]:
    """At least one such event of a person's (a scanner's click or a proxy's open does not count)."""
    where: list[ColumnElement[bool]] = [
        col(Event.customer_id) == Customer.id,
        col(Event.type) == spec["event"],
        HUMAN,
    ]
    if spec["within_days"] is not None:
        where.append(col(Event.occurred_at) >= now - timedelta(days=spec["within_days"]))
    if spec["template"] is not None:
        where.append(
            exists(
                select(MESSAGES.c.id).where(
                    MESSAGES.c.id == col(Event.message_id), MESSAGES.c.template_key == spec["template"]
                )
            )
        )
    return exists(select(col(Event.id)).where(*where))


FACT_KINDS: dict[str, FactKind] = {
    "consent": FactKind(parse_consent, consent_clause),
    "engagement": FactKind(parse_engagement, engagement_clause),
}


def register_fact_kind(key: str, kind: FactKind) -> None:
    """Add a kind of fact (`{"nps": ...}`); refuses a key already taken."""
    if key in FACT_KINDS or key in ("all", "any", "not"):
        raise ValueError(f"segment fact '{key}' is already defined")
    FACT_KINDS[key] = kind


from ccm.customers import segment_nps  # noqa: E402, F401  (last: it registers `{"nps": ...}` with the above)
