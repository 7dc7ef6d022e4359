"""A number texted back answers a survey SMS: the newest one sent to that number in the last week.

A survey SMS is one whose template asks `{{ survey.nps }}` or `{{ survey.csat }}` (`ccm.engagement.feedback`);
the reply is its score, optionally followed by a comment ("9 quick and kind"). A number that is not a score
of that survey, or that no survey SMS was sent to lately, is no answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from ccm.communications.models import Message
from ccm.customers.models import Customer
from ccm.database import utcnow
from ccm.engagement.feedback import parse_reply, record_answer, survey_kind
from ccm.engagement.models import Event
from ccm.registry.models import TemplateVersion

WINDOW = timedelta(days=7)
CANDIDATES = 20
"""How many of the number's recent SMS are looked at for a survey (newest first)."""
SOURCE = "sms-reply"


def answer_survey(session: Session, customers: list[Customer], body: str) -> Event | None:
    """Record `body` as the answer to the newest survey SMS sent to these customers, if it is one."""
    found = newest_survey(session, [c.id for c in customers if c.id is not None])
    parsed = parse_reply(body, found[1]) if found else None
    if found is None or parsed is None:
        return None
    message, kind = found
    return record_answer(session, message, kind, parsed[0], parsed[1], SOURCE)


def newest_survey(session: Session, customer_ids: list[int]) -> tuple[Message, str] | None:
    """The newest SMS with a survey sent to any of `customer_ids` within `WINDOW`, and its survey's kind."""
    recent = session.exec(
        select(Message, TemplateVersion.parts, TemplateVersion.locales)
        .join(TemplateVersion, col(TemplateVersion.id) == Message.template_version_id)
        .where(
            col(Message.customer_id).in_(customer_ids),
            Message.channel == "sms",
            col(Message.sent_at) >= utcnow() - WINDOW,
        )
        .order_by(col(Message.sent_at).desc())
        .limit(CANDIDATES)
    ).all()
    for message, parts, locales in recent:
        kind = _kind_of([parts, *locales.values()])
        if kind is not None:
            return message, kind
    return None


def _kind_of(variants: list[Any]) -> str | None:
    """The survey an SMS template asks, in its base parts or any language's (`locales`)."""
    texts = [str((parts.get("sms") or {}).get("text", "")) for parts in variants if isinstance(parts, dict)]
    return next((kind for kind in map(survey_kind, texts) if kind is not None), None)
