"""Finding customers by what a person remembers of them: external id, email, first or last name.

The template editor previews with a real customer's data by searching for them. Queries are bounded: at
most `MAX_TERMS` words of at most `MAX_QUERY` characters in all, `LIKE` wildcards in the input matched
literally, and at most `MAX_RESULTS` rows returned.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from ccm.customers.models import Customer

MAX_QUERY = 100
MAX_TERMS = 5
MAX_RESULTS = 20
NAME_ATTRIBUTES = ("first_name", "last_name")
ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`50%_off` matched as typed: the wildcards and the escape character itself escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _searched() -> list[Any]:
    attributes = col(Customer.attributes)
    names = [attributes[name].as_string() for name in NAME_ATTRIBUTES]
    return [col(Customer.external_id), col(Customer.email), *names]


def _matches(term: str) -> ColumnElement[bool]:
    """A customer one of whose searched fields contains the term, whatever the case."""
    pattern = f"%{escape_like(term.lower())}%"
    return or_(*(func.lower(column).like(pattern, escape=ESCAPE) for column in _searched()))


def find_customers(session: Session, query: str, *, limit: int = MAX_RESULTS) -> list[Customer]:
    """Customers matching every word of the query (`anna rossi`), by external id; none for no words."""
    terms = query[:MAX_QUERY].split()[:MAX_TERMS]
    if not terms:
        return []
    statement = select(Customer)
    for term in terms:
        statement = statement.where(_matches(term))
    statement = statement.order_by(col(Customer.external_id)).limit(min(limit, MAX_RESULTS))
    return list(session.exec(statement).all())
