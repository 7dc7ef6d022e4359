"""Leased claims: how every table of due work (messages, webhook deliveries, journey runs) is shared by
workers.

A worker selects due rows whose lease is free or lapsed, locks them with `FOR UPDATE SKIP LOCKED` (on
PostgreSQL another worker skips them instead of waiting; SQLite has one writer anyway), and stamps its name
and a lease end in the same transaction. A worker that dies leaves the lease to lapse and the row is claimed
again, which is why every step taken under a lease must be idempotent. One statement builder, so a fix to
the claim (ordering, lock mode, the lapsed-lease test) reaches every queue at once; `claim_rows` returns the
claimed rows themselves, in one statement (the outbox worker reads nothing else before rendering).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

M = TypeVar("M", bound=SQLModel)


def claim_due(
    session: Session,
    model: type[SQLModel],
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    values: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The ids of up to `limit` rows of `model` matching `due` whose lease is free or lapsed at `now`, first
    by `order_by`, now leased to `owner` until `lease_until` (with `values` set too). The caller commits."""
    row_id: Any = col(model.id)  # type: ignore[attr-defined]
    ids = list(session.exec(_due_ids(model, due, order_by, limit, now)).all())
    if ids:
        session.exec(
            update(model)
            .where(row_id.in_(ids))
            .values(lease_until=lease_until, locked_by=owner, **dict(values or {}))
        )
    return ids


def claim_rows(
    session: Session,
    model: type[M],
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    values: Mapping[str, Any] | None = None,
) -> list[M]:
    """What `claim_due` claims, as rows, in one statement: `UPDATE ... WHERE id IN (the due ids, locked,
    skipping locked ones) RETURNING` the rows as they are after the update (in no particular order)."""
    row_id: Any = col(model.id)  # type: ignore[attr-defined]
    statement = (
        update(model)
        .where(row_id.in_(_due_ids(model, due, order_by, limit, now)))
        .values(lease_until=lease_until, locked_by=owner, **dict(values or {}))
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement).all())


def _due_ids(
    model: type[SQLModel],
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    now: datetime,
) -> Any:
    row_id: Any = col(model.id)  # type: ignore[attr-defined]
    lease: Any = col(model.lease_until)  # type: ignore[attr-defined]
    return (
        select(row_id)
        .where(*due, or_(lease.is_(None), lease < now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
