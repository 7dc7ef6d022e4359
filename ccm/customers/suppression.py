"""The suppression list: addresses that hard-bounced, complained, or an operator blocked.

Every send checks it (a 422 naming the reason); campaigns skip suppressed recipients.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.channels import get_channel
from ccm.customers.models import Suppression


def normalise_address(channel: str, address: str) -> str:
    return get_channel(channel).normalise_address(address)


def suppression_for(session: Session, channel: str, address: str) -> Suppression | None:
    statement = select(Suppression).where(
        Suppression.channel == channel, Suppression.address == normalise_address(channel, address)
    )
    return session.exec(statement).first()


def suppress(
    session: Session,
    *,
    channel: str,
    address: str,
    reason: str,
    detail: str = "",
    source: str = "",
    message_id: str | None = None,
) -> bool:
    """Add an address; False when it was already suppressed (the first reason is kept)."""
    if suppression_for(session, channel, address) is not None:
        return False
    row = Suppression(
        channel=channel,
        address=normalise_address(channel, address),
        reason=reason,
        detail=detail[:1000],
        source=source,
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def unsuppress(session: Session, channel: str, address: str) -> bool:
    row = suppression_for(session, channel, address)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def list_suppressions(
    session: Session, *, channel: str | None = None, limit: int = 100, offset: int = 0
) -> list[Suppression]:
    statement = select(Suppression)
    if channel is not None:
        statement = statement.where(Suppression.channel == channel)
    statement = statement.order_by(col(Suppression.id).desc()).limit(limit).offset(offset)
    return list(session.exec(statement).all())
