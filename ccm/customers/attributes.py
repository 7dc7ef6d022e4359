"""Declared custom attributes: declare, list, remove, and the declarations every customer write is checked
against. Declaring a type that stored customers already violate is refused with their count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, literal, not_, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from ccm.customers.attribute_schemas import AttributeDeclaration
from ccm.customers.attribute_types import AttributeType, Declarations, Declared, is_iso_date
from ccm.customers.models import Customer, CustomerAttribute
from ccm.errors import Conflict, NotFound

SCAN_BATCH = 1000


class _JsonKind(FunctionElement[str]):
    """The kind of one attribute's JSON value, named alike on both databases (string, number, boolean, null,
    object, array), NULL when the customer lacks it. Called as `_JsonKind(attributes column, name)`."""

    type = String()
    inherit_cache = True


@compiles(_JsonKind, "sqlite")
def _json_kind_sqlite(element: _JsonKind, compiler: SQLCompiler, **kw: Any) -> str:
    column, name = (compiler.process(clause, **kw) for clause in element.clauses)
    kind = f"json_type({column}, '$.\"' || {name} || '\"')"
    return (
        f"CASE {kind} WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
        f"WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE {kind} END"
    )


@compiles(_JsonKind, "postgresql")
def _json_kind_postgresql(element: _JsonKind, compiler: SQLCompiler, **kw: Any) -> str:
    column, name = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_typeof({column} -> {name})"


def declarations(session: Session) -> Declarations:
    """Every declared attribute by name: what a write (or a chunk of an import) is checked against."""
    rows = session.exec(select(CustomerAttribute)).all()
    return {row.name: _declared(row) for row in rows}


def _declared(row: CustomerAttribute) -> Declared:
    return Declared(row.name, AttributeType(row.type), tuple(row.values or ()))


def list_attributes(session: Session) -> list[CustomerAttribute]:
    return list(session.exec(select(CustomerAttribute).order_by(col(CustomerAttribute.name))).all())


def get_attribute(session: Session, name: str) -> CustomerAttribute:
    row = session.exec(select(CustomerAttribute).where(CustomerAttribute.name == name)).first()
    if row is None:
        raise NotFound(f"attribute '{name}' is not declared", field="name", code="attribute_not_found")
    return row


def declare_attribute(session: Session, request: AttributeDeclaration) -> CustomerAttribute:
    """Declare a type once; 409 when the name is declared already or stored data does not fit."""
    if session.exec(select(CustomerAttribute).where(CustomerAttribute.name == request.name)).first():
        raise Conflict(
            f"attribute '{request.name}' is declared already: delete it first to change it",
            field="name",
            code="attribute_exists",
        )
    declared = Declared(request.name, request.type, tuple(request.values or ()))
    violating = count_violations(session, declared)
    if violating:
        raise Conflict(
            f"{violating} customers have a value of '{request.name}' that is not a {request.type}",
            field="type",
            code="attribute_conflict",
            extra={"count": violating},
        )
    row = CustomerAttribute(**request.model_dump())
    session.add(row)
    session.flush()
    return row


def delete_attribute(session: Session, name: str) -> None:
    """Forget the declaration; stored values stay, free-form again."""
    session.delete(get_attribute(session, name))
    session.flush()


def count_violations(session: Session, declared: Declared) -> int:
    """How many stored customers hold a value of this attribute the declaration would refuse.

    The kind (and an enum's values) is compared in SQL; a date's calendar validity is checked by streaming
    only the string values, `SCAN_BATCH` at a time, through the same `is_iso_date` writes use.
    """
    kind = _JsonKind(col(Customer.attributes), literal(declared.name, String()))
    value = col(Customer.attributes)[declared.name].as_string()
    statement = select(func.count()).select_from(Customer).where(_wrong_kind(kind, value, declared))
    counted = int(session.exec(statement).one())
    if declared.type == AttributeType.DATE:
        counted += _bad_dates(session, kind, value)
    return counted


def _wrong_kind(kind: Any, value: Any, declared: Declared) -> ColumnElement[bool]:
    wanted = "string" if declared.type in (AttributeType.DATE, AttributeType.ENUM) else declared.type.value
    wrong = and_(kind.is_not(None), kind != wanted)
    if declared.type != AttributeType.ENUM:
        return wrong
    return or_(wrong, and_(kind == "string", not_(value.in_(declared.values))))


def _bad_dates(session: Session, kind: Any, value: Any) -> int:
    strings = select(value).where(kind == "string")
    result = session.exec(strings.execution_options(yield_per=SCAN_BATCH))
    return sum(1 for text in result if not is_iso_date(text))
