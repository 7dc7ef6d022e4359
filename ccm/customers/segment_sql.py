"""A segment rule tree as one SQL WHERE clause over `customers`: the database picks the customers, on SQLite
and PostgreSQL alike, with the strict meaning of `ccm.customers.segment_rules` (no Python loop over rows).

Every condition is made two-valued (CASE WHEN ... THEN true ELSE false), so `not`, `ne` and `not_in` of a
missing attribute are true as they are in Python, not SQL NULL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from ccm.customers.json_sql import JsonValue, at_path, elements
from ccm.customers.models import Customer
from ccm.customers.segment_facts import FACT_KINDS
from ccm.customers.segment_rules import CUSTOMER_FIELDS, Condition, Fact, Group, Not, Rule

POSITIVE = {"ne": "eq", "not_in": "in"}


def dialect_of(session: Session) -> str:
    """`sqlite` or `postgresql`: the SQL a rule compiles to depends on it."""
    return session.get_bind().dialect.name


def segment_clause(rule: Rule, dialect: str, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause selecting exactly the customers `rule` matches (facts judged at `now`)."""
    if isinstance(rule, Group):
        parts = [segment_clause(r, dialect, now) for r in rule.rules]
        if rule.mode == "all":
            return and_(*parts) if parts else true()
        return or_(*parts) if parts else false()
    if isinstance(rule, Not):
        return not_(segment_clause(rule.rule, dialect, now))
    if isinstance(rule, Fact):
        return _definite(FACT_KINDS[rule.kind].clause(rule.spec, now))
    return _definite(_condition(rule, dialect))


def _definite(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """True or false, never NULL: NOT of a NULL would drop the row."""
    return case((clause, true()), else_=false())


def _condition(condition: Condition, dialect: str) -> ColumnElement[bool]:
    if condition.attribute in CUSTOMER_FIELDS:
        return _field(condition, getattr(Customer, condition.attribute), dialect)
    parts = condition.attribute.split(".")
    value = at_path(Customer.attributes, parts, dialect)
    op, expected = condition.op, condition.value
    if op == "exists":
        present = and_(value.kind().is_not(None), value.kind() != "null")
        return present if expected else not_(present)
    if op in ("ne", "not_in"):
        return not_(_definite(_condition(Condition(condition.attribute, POSITIVE[op], expected), dialect)))
    if op == "contains":
        return or_(_text_contains(value, expected, dialect), _array_contains(value, parts, expected))
    if op == "in":
        return _one_of(value, expected)
    if op == "eq":
        return _equals(value, expected)
    return _compare(value, op, expected)


def _equals(value: JsonValue, expected: Any) -> ColumnElement[bool]:
    """Strict: a boolean equals only a boolean, a number a number, a string a string; null never."""
    if expected is None:
        return false()
    if isinstance(expected, bool):
        return value.is_boolean(expected)
    if isinstance(expected, int | float):
        return and_(value.kind() == "number", value.number() == expected)
    return and_(value.kind() == "string", value.text() == expected)


def _one_of(value: JsonValue, items: list[Any]) -> ColumnElement[bool]:
    """`_equals` any of the items, as one `IN` list per kind: 1,000 ORed equalities would nest deeper than
    SQLite parses (an expression tree of depth 1,000) and bind twenty values each."""
    numbers = [i for i in items if isinstance(i, int | float) and not isinstance(i, bool)]
    strings = [i for i in items if isinstance(i, str)]
    parts = [value.is_boolean(flag) for flag in (True, False) if any(i is flag for i in items)]
    if numbers:
        parts.append(and_(value.kind() == "number", value.number().in_(numbers)))
    if strings:
        parts.append(and_(value.kind() == "string", value.text().in_(strings)))
    return or_(false(), *parts)


def _compare(value: JsonValue, op: str, expected: Any) -> ColumnElement[bool]:
    """gt/lt between two numbers or two strings; other pairs never match."""
    if isinstance(expected, str):
        kind, actual = "string", value.text()
    else:
        kind, actual = "number", value.number()
    return and_(value.kind() == kind, actual > expected if op == "gt" else actual < expected)


def _text_contains(value: JsonValue, expected: Any, dialect: str) -> ColumnElement[bool]:
    if not isinstance(expected, str):
        return false()
    return and_(value.kind() == "string", _position(value.text(), expected, dialect) > 0)


def _array_contains(value: JsonValue, parts: list[str], expected: Any) -> ColumnElement[bool]:
    table, element = elements(value, Customer.attributes, parts)
    found = select(1).select_from(table).where(_equals(element, expected)).exists()
    return and_(value.kind() == "array", found)


def _position(text: Any, needle: str, dialect: str) -> ColumnElement[Any]:
    """Where `needle` starts in `text` (1-based, 0 when absent), case-sensitive on both backends."""
    return func.strpos(text, needle) if dialect == "postgresql" else func.instr(text, needle)


def _field(condition: Condition, column: Any, dialect: str) -> ColumnElement[bool]:
    """A customer column: text, missing when NULL or empty, so only string values can match it."""
    op, expected = condition.op, condition.value
    present = and_(column.is_not(None), column != "")
    if op == "exists":
        return present if expected else not_(present)
    if op in ("ne", "not_in"):
        return not_(
            _definite(_field(Condition(condition.attribute, POSITIVE[op], expected), column, dialect))
        )
    text = column.collate("C") if dialect == "postgresql" else column
    if op == "in":
        strings = [item for item in expected if isinstance(item, str)]
        return and_(present, column.in_(strings)) if strings else false()
    if not isinstance(expected, str):
        return false()
    if op == "eq":
        return and_(present, column == expected)
    if op == "contains":
        return and_(present, _position(column, expected, dialect) > 0)
    return and_(present, text > expected if op == "gt" else text < expected)
