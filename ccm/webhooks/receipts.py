"""Inbound webhooks are applied once: each `webhook-id` is remembered for a day (replays of a signature
older than the 5-minute tolerance are refused anyway, so a day is ample)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ccm.database import utcnow
from ccm.webhooks.models import WebhookReceipt

RECEIPT_TTL = timedelta(days=1)


def first_receipt(session: Session, source: str, webhook_id: str) -> bool:
    """Record `webhook_id` in the caller's transaction; False when it was received before (a replay).
    A savepoint keeps a concurrent duplicate from spoiling the caller's transaction."""
    if session.get(WebhookReceipt, (source, webhook_id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(source=source, webhook_id=webhook_id))
    except IntegrityError:
        return False
    return True


def purge_receipts(session: Session) -> int:
    """Forget ids older than the TTL; returns how many."""
    cutoff = utcnow() - RECEIPT_TTL
    result = session.exec(delete(WebhookReceipt).where(col(WebhookReceipt.received_at) < cutoff))
    return int(result.rowcount or 0)
