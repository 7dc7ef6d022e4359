"""The `{"nps": {"lte": 6}}` segment fact: the customer's latest NPS answer lies within the given bounds.

`gte`, `lte` and `eq` are whole scores 0-10 (at least one); `within_days` looks only at answers of that
window and `template` only at answers to that template's survey. The latest of the answers so narrowed is
the one judged (a detractor who since answered 9 is a promoter now); a customer without one matches no
bound, so `{"not": {"nps": ...}}` selects them. Answers are the `feedback` events of
`ccm.engagement.feedback`, read with the same expressions the NPS figures use.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from ccm.customers.models import Customer
from ccm.customers.segment_facts import (
    FactKind,
    Spec,
    fact_error,
    fact_object,
    optional_key,
    register_fact_kind,
    within_days,
)
from ccm.engagement.feedback import SCORES
from ccm.engagement.feedback_figures import GROUPS, KIND, SCORE
from ccm.engagement.models import Event, EventType

BOUNDS: dict[str, Callable[[Any, int], ColumnElement[bool]]] = {
    "gte": operator.ge,
    "lte": operator.le,
    "eq": operator.eq,
}
NPS_SCORES = SCORES["nps"]


def parse_nps(raw: Any, path: str) -> Spec:
    """`{"gte"?, "lte"?, "eq"?: 0-10, "within_days"?: 1-3650, "template"?: key}` with at least one bound."""
    spec = fact_object(raw, path, {*BOUNDS, "within_days", "template"})
    bounds = {name: _score(spec[name], f"{path}.{name}") for name in BOUNDS if name in spec}
    if not bounds:
        raise fact_error(path, f"needs at least one of {', '.join(BOUNDS)}")
    return {
        **bounds,
        "within_days": within_days(spec.get("within_days"), f"{path}.within_days"),
        "template": optional_key(spec.get("template"), f"{path}.template", required=False),
    }


def _score(raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in NPS_SCORES:
        raise fact_error(path, f"must be a whole score from {NPS_SCORES[0]} to {NPS_SCORES[-1]}")
    return raw


def nps_clause(spec: Spec, now: datetime) -> ColumnElement[bool]:
    """The latest matching answer's score against each bound: NULL (no answer) is made false by the caller."""
    latest = _latest_score(spec, now)
    return and_(*(compare(latest, spec[name]) for name, compare in BOUNDS.items() if name in spec))


def _latest_score(spec: Spec, now: datetime) -> Any:
    """The score of the customer's newest NPS answer among those the spec looks at (a scalar subquery)."""
    where: list[ColumnElement[bool]] = [
        col(Event.customer_id) == Customer.id,
        col(Event.type) == EventType.FEEDBACK,
        KIND == "nps",
    ]
    if spec["within_days"] is not None:
        where.append(col(Event.occurred_at) >= now - timedelta(days=spec["within_days"]))
    if spec["template"] is not None:
        where.append(GROUPS["template"] == spec["template"])
    newest = (col(Event.occurred_at).desc(), col(Event.id).desc())
    return select(SCORE).where(*where).order_by(*newest).limit(1).scalar_subquery()


register_fact_kind("nps", FactKind(parse_nps, nps_clause))
