"""Finding customers by what a person remembers of them: external id, email, phone, first or last name.

The template editor previews with a real customer's data by searching for them; `GET /v1/customers` and the
customers page list them, searched and paged the same way. Queries are bounded: at most `MAX_TERMS` words
of at most `MAX_QUERY` characters in all, `LIKE` wildcards in the input matched literally. Pages are keyset
pages by external id, so a customer added while someone pages is neither skipped nor shown twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ccm.customers.cursor import decode_cursor, encode_cursor
from ccm.customers.models import Customer

MAX_QUERY = 100
MAX_TERMS = 5
MAX_RESULTS = 20
MAX_PAGE = 200
NAME_ATTRIBUTES = ("first_name", "last_name")
ESCAPE = "\\"
_SEPARATORS = re.compile(r"[\s\x00]+")  # a NUL can match nothing stored, and PostgreSQL refuses it


@dataclass(frozen=True)
class CustomerSearch:
    """What a list asks for: words every match contains, and optionally one string attribute's exact value."""

    query: str = ""
    attribute: tuple[str, str] | None = None


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    next_cursor: str | None


class _IsJsonString(FunctionElement[bool]):
    """Whether a JSON value is a string: `true`, `5` and `{}` never equal the text `"true"`, `"5"`, `"{}"`."""

    type = Boolean()
    inherit_cache = True


@compiles(_IsJsonString, "sqlite")
def _is_json_string_sqlite(element: _IsJsonString, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_type({compiler.process(element.clauses, **kw)}) = 'text'"


@compiles(_IsJsonString, "postgresql")
def _is_json_string_postgresql(element: _IsJsonString, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_typeof({compiler.process(element.clauses, **kw)}) = 'string'"


def escape_like(text: str) -> str:
    """`50%_off` matched as typed: the wildcards and the escape character itself escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _searched() -> list[Any]:
    attributes = col(Customer.attributes)
    names = [attributes[name].as_string() for name in NAME_ATTRIBUTES]
    return [col(Customer.external_id), col(Customer.email), col(Customer.phone), *names]


def _matches(term: str) -> ColumnElement[bool]:
    """A customer one of whose searched fields contains the term, whatever the case."""
    pattern = f"%{escape_like(term.lower())}%"
    return or_(*(func.lower(column).like(pattern, escape=ESCAPE) for column in _searched()))


def _terms(query: str) -> list[str]:
    return [term for term in _SEPARATORS.split(query[:MAX_QUERY]) if term][:MAX_TERMS]


def _has_attribute(name: str, value: str) -> ColumnElement[bool]:
    """The attribute `name` is the string `value` exactly (a number or boolean never matches)."""
    element = col(Customer.attributes)[name]
    return and_(_IsJsonString(element), element.as_string() == value)


def _filtered(search: CustomerSearch) -> SelectOfScalar[Customer]:
    statement = select(Customer)
    for term in _terms(search.query):
        statement = statement.where(_matches(term))
    if search.attribute is not None:
        statement = statement.where(_has_attribute(*search.attribute))
    return statement.order_by(col(Customer.external_id))


def find_customers(session: Session, query: str, *, limit: int = MAX_RESULTS) -> list[Customer]:
    """Customers matching every word of the query (`anna rossi`), by external id; none for no words."""
    if not _terms(query):
        return []
    statement = _filtered(CustomerSearch(query)).limit(min(limit, MAX_RESULTS))
    return list(session.exec(statement).all())


def search_page(
    session: Session, search: CustomerSearch, *, cursor: str | None = None, limit: int = 50
) -> CustomerPage:
    """One page of the customers a search finds (all for an empty one), after the cursor's external id."""
    statement = _filtered(search)
    if cursor:
        statement = statement.where(col(Customer.external_id) > decode_cursor(cursor))
    size = max(1, min(limit, MAX_PAGE))
    found = list(session.exec(statement.limit(size + 1)).all())
    more = len(found) > size
    return CustomerPage(found[:size], encode_cursor(found[size - 1].external_id) if more else None)
