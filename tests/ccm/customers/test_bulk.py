"""`bulk.write_chunk` on each backend (PostgreSQL takes its COPY path): a repeated id's last row wins, an
existing id is updated with its `created_at` kept, new ids are inserted in file order, the count of new rows
is returned, and the attributes are stored as the same JSON text SQLAlchemy writes."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ccm.customers.bulk import CUSTOMERS, write_chunk
from tests.ccm.conftest import Service

EARLIER = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def values(n: int, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "email": f"p{n}@example.com",
        "phone": f"+39347123450{n}" if n % 2 else None,
        "locale": "de_CH",
        "timezone": "Europe/Rome",
        "attributes": attributes if attributes is not None else {"n": n},
        "updated_at": EARLIER + timedelta(seconds=n),
    }


def stored(session: Session) -> dict[str, tuple[Any, ...]]:
    columns = ("id", "email", "phone", "locale", "timezone", "attributes", "created_at", "updated_at")
    statement = select(CUSTOMERS.c.external_id, *(CUSTOMERS.c[name] for name in columns))
    return {row[0]: tuple(row[1:]) for row in session.execute(statement.order_by(CUSTOMERS.c.id))}


def test_a_chunk_is_upserted_by_external_id(service: Service) -> None:
    engine = service.runtime.engine
    with Session(engine) as session, session.begin():
        created = write_chunk(session, [("a", values(1)), ("b", values(2)), ("a", values(3))])
    assert created == 2
    with Session(engine) as session, session.begin():
        created = write_chunk(session, [("b", values(4)), ("c", values(5)), ("d", values(6))])
    assert created == 2

    with Session(engine) as session:
        rows = stored(session)
        raw = session.execute(text("SELECT external_id, CAST(attributes AS TEXT) FROM customers")).all()
    assert list(rows) == ["a", "b", "c", "d"]  # ids in the order the rows first came
    _, a_email, a_phone, a_locale, a_zone, a_attributes, a_created, a_updated = rows["a"]
    assert (a_email, a_phone, a_locale, a_zone, a_attributes) == (
        "p3@example.com",
        "+393471234503",
        "de_CH",
        "Europe/Rome",
        {"n": 3},
    )
    assert _utc(a_created) == _utc(a_updated) == EARLIER + timedelta(seconds=3)
    b = rows["b"]
    assert b[5] == {"n": 4} and b[2] is None
    assert _utc(b[6]) == EARLIER + timedelta(seconds=2) and _utc(b[7]) == EARLIER + timedelta(seconds=4)
    texts = dict(raw)
    assert texts["c"] == json.dumps({"n": 5})


def test_attributes_are_stored_as_sqlalchemy_writes_them(service: Service) -> None:
    odd = {"name": 'Zoë "q" \\ é 日本\t', "score": 12.5, "big": 2**40, "vip": True, "none": None, "l": [1]}
    with Session(service.runtime.engine) as session, session.begin():
        write_chunk(session, [("x", values(1, odd))])
    with Session(service.runtime.engine) as session:
        (raw,) = session.execute(text("SELECT CAST(attributes AS TEXT) FROM customers")).one()
        assert stored(session)["x"][5] == odd
    assert raw == json.dumps(odd)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_an_id_a_concurrent_writer_creates_first_raises_integrity_error(service: Service) -> None:
    """What `importing` retries (as an update): on PostgreSQL the insert waits for the other transaction
    and then fails on the unique external id, as the general path's insert does."""
    if not service.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite takes its write lock at BEGIN: a second writer waits before reading anything")
    engine = service.runtime.engine
    outcome: list[BaseException | int] = []
    with Session(engine) as first, first.begin():
        write_chunk(first, [("z", values(1))])

        def second() -> None:
            try:
                with Session(engine) as session, session.begin():
                    outcome.append(write_chunk(session, [("z", values(2))]))
            except IntegrityError as error:
                outcome.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # the second insert is waiting on the first's uncommitted row
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError)
