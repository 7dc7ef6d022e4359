"""Saved segments: named rule trees, checked on save, and the customers a rule selects (counted in SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from ccm.customers.models import Customer, Segment
from ccm.customers.segment_rules import Rule, SegmentError, parse_segment
from ccm.customers.segment_schemas import (
    PreviewOut,
    PreviewRequest,
    SampleCustomer,
    SegmentCreate,
    SegmentIn,
    SegmentOut,
)
from ccm.customers.segment_sql import dialect_of, segment_clause
from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable

SAMPLE_SIZE = 10


def check_rule(raw: dict[str, Any], path: str) -> Rule:
    """The parsed rule, or a 422 `invalid_segment` naming the bad part (`rule.all[1].op`)."""
    try:
        return parse_segment(raw, path)
    except SegmentError as error:
        raise Unprocessable(error.message, field=error.path, code="invalid_segment") from None


def where(session: Session, raw: dict[str, Any], now: datetime | None = None) -> ColumnElement[bool]:
    """The WHERE clause of a stored (already checked) rule, for this session's database."""
    return segment_clause(parse_segment(raw), dialect_of(session), now or utcnow())


def list_segments(session: Session) -> list[Segment]:
    return list(session.exec(select(Segment).order_by(col(Segment.key))).all())


def find_segment(session: Session, key: str) -> Segment | None:
    return session.exec(select(Segment).where(Segment.key == key)).first()


def get_segment(session: Session, key: str, *, field: str = "key") -> Segment:
    """The segment, or a 404 naming it (`field` says which part of the request named it)."""
    segment = find_segment(session, key)
    if segment is None:
        raise NotFound(f"segment '{key}' not found", field=field, code="segment_not_found")
    return segment


def create_segment(session: Session, request: SegmentCreate) -> Segment:
    check_rule(request.rule, "rule")
    if session.exec(select(Segment.id).where(Segment.key == request.key)).first() is not None:
        raise Conflict(f"segment '{request.key}' already exists", field="key", code="segment_exists")
    segment = Segment(key=request.key, name=request.name, description=request.description, rule=request.rule)
    session.add(segment)
    session.flush()
    return segment


def update_segment(session: Session, key: str, request: SegmentIn) -> Segment:
    segment = get_segment(session, key)
    check_rule(request.rule, "rule")
    segment.name, segment.description, segment.rule = request.name, request.description, request.rule
    segment.updated_at = utcnow()
    session.add(segment)
    session.flush()
    return segment


def delete_segment(session: Session, key: str) -> None:
    """Campaigns keep the rule they were created with, so deleting a segment changes no campaign."""
    session.delete(get_segment(session, key))


def preview_of(session: Session, request: PreviewRequest, *, path: str = "rule") -> PreviewOut:
    """The preview of a saved segment or of an unsaved rule, checked first (a bad part is a 422 naming it
    under `path`): one home for `POST /v1/segments:preview` and the campaign form's live count."""
    if request.segment_key is not None:
        rule = get_segment(session, request.segment_key, field="segment_key").rule
    else:
        rule = request.rule or {}
        check_rule(rule, path)
    return preview(session, rule)


def preview(session: Session, raw: dict[str, Any]) -> PreviewOut:
    """How many customers the (checked) rule selects now, and the first few by external id."""
    clause = where(session, raw)
    count = session.exec(select(func.count()).select_from(Customer).where(clause)).one()
    sample = session.exec(
        select(Customer).where(clause).order_by(col(Customer.external_id)).limit(SAMPLE_SIZE)
    ).all()
    return PreviewOut(
        count=count,
        sample=[
            SampleCustomer(external_id=c.external_id, email=c.email, phone=c.phone, locale=c.locale)
            for c in sample
        ],
    )


def segment_out(segment: Segment) -> SegmentOut:
    return SegmentOut(
        key=segment.key,
        name=segment.name,
        description=segment.description,
        rule=segment.rule,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )
