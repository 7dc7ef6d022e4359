"""Idempotency keys belong to the API key that sent them: another system's choice of the same key neither
replays to us nor blocks our send, while one API key keeps replay, 422 on a changed body, 409 in flight and
expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from ccm.access.models import ApiKey, Role
from ccm.access.service import create_api_key
from ccm.communications import idempotency
from ccm.communications.models import IdempotencyRecord, Message
from ccm.database import session_scope, utcnow
from ccm.errors import Conflict
from tests.ccm.conftest import INVOICE, INVOICE_DATA, Service

OTHER_INVOICE = {**INVOICE, "data": {"invoice": {**INVOICE_DATA["invoice"], "number": "2026-002"}}}


def message_count(service: Service) -> int:
    with Session(service.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(Message)).one())


def second_system(service: Service) -> dict[str, str]:
    """Headers of another sending system: its own API key, same role as the first."""
    with session_scope(service.runtime.engine) as session:
        _, raw = create_api_key(session, role=Role.SENDER, name="second system")
    return {"Authorization": f"Bearer {raw}"}


def send_as(service: Service, headers: dict[str, str], body: dict[str, Any], key: str) -> Any:
    return service.client.post("/v1/messages", json=body, headers={**headers, "Idempotency-Key": key})


def api_key_ids(service: Service) -> list[int | None]:
    with Session(service.runtime.engine) as session:
        return list(session.exec(select(IdempotencyRecord.api_key_id)).all())


def two_api_key_ids(service: Service) -> tuple[int, int]:
    with Session(service.runtime.engine) as session:
        first, other = session.exec(select(ApiKey.id).order_by(col(ApiKey.id)).limit(2)).all()
    assert first is not None and other is not None
    return first, other


def test_two_api_keys_with_the_same_key_both_get_their_messages_queued(
    service: Service, customer: dict[str, Any]
) -> None:
    first_system = service.headers(Role.SENDER)
    other_system = second_system(service)

    first = send_as(service, first_system, INVOICE, "order-1")
    other = send_as(service, other_system, OTHER_INVOICE, "order-1")  # another body: not a 422

    assert first.status_code == other.status_code == 202, other.text
    assert "Idempotent-Replayed" not in other.headers
    assert first.json()["messages"][0]["id"] != other.json()["messages"][0]["id"]
    assert message_count(service) == 2
    assert len(set(api_key_ids(service))) == 2
    assert service.work() == 2


def test_each_api_key_still_replays_its_own_response(service: Service, customer: dict[str, Any]) -> None:
    first_system = service.headers(Role.SENDER)
    other_system = second_system(service)
    first = send_as(service, first_system, INVOICE, "order-2")
    other = send_as(service, other_system, INVOICE, "order-2")  # the same body too: still its own send

    first_again = send_as(service, first_system, INVOICE, "order-2")
    other_again = send_as(service, other_system, INVOICE, "order-2")

    assert first_again.json() == first.json() and other_again.json() == other.json()
    assert first_again.headers.get("Idempotent-Replayed") == "true"
    assert other_again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() != other.json()
    assert message_count(service) == 2


def test_a_changed_body_is_refused_only_for_the_api_key_that_used_the_key(
    service: Service, customer: dict[str, Any]
) -> None:
    first_system = service.headers(Role.SENDER)
    assert send_as(service, first_system, INVOICE, "order-3").status_code == 202

    reused = send_as(service, first_system, OTHER_INVOICE, "order-3")
    other = send_as(service, second_system(service), OTHER_INVOICE, "order-3")

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert other.status_code == 202, other.text
    assert message_count(service) == 2


def test_batch_items_are_scoped_to_the_api_key_too(service: Service, customer: dict[str, Any]) -> None:
    items = {"messages": [{**INVOICE, "idempotency_key": "batch-1"}]}
    first = service.client.post("/v1/messages:batch", json=items, headers=service.headers(Role.SENDER))
    other = service.client.post("/v1/messages:batch", json=items, headers=second_system(service))

    assert first.json()["accepted"] == other.json()["accepted"] == 1
    assert first.json()["results"][0]["messages"] != other.json()["results"][0]["messages"]
    assert message_count(service) == 2


def remember(session: Session, api_key_id: int | None, key: str = "in-flight") -> None:
    idempotency.remember(
        session,
        key=key,
        body_hash="h",
        api_key_id=api_key_id,
        status=202,
        response={"messages": []},
        ttl_hours=1,
    )


@pytest.mark.parametrize("scoped", [True, False])
def test_a_twin_of_the_same_api_key_is_in_flight(service: Service, scoped: bool) -> None:
    """The unique (api_key_id, key) makes a concurrent twin a 409; without an API key the partial index
    does (NULLs never collide in a unique constraint)."""
    first, other = two_api_key_ids(service)
    owner = first if scoped else None
    with Session(service.runtime.engine) as session:
        remember(session, owner)
        with pytest.raises(Conflict) as raised:
            remember(session, owner)
        assert raised.value.code == "idempotency_key_in_use"
        remember(session, other)  # another API key's record of the same key is no twin


def test_an_expired_key_is_forgotten_for_its_api_key_only(service: Service) -> None:
    first, other = two_api_key_ids(service)
    with session_scope(service.runtime.engine) as session:
        remember(session, first, "old")
        remember(session, other, "old")
        expired = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == first)).one()
        expired.expires_at = utcnow() - timedelta(seconds=1)
        session.add(expired)
    with session_scope(service.runtime.engine) as session:
        assert idempotency.replay(session, "old", "h", api_key_id=first) is None
        assert idempotency.replay(session, "old", "h", api_key_id=other) is not None
    with session_scope(service.runtime.engine) as session:
        remember(session, first, "gone")
        for record in session.exec(select(IdempotencyRecord)).all():
            record.expires_at = utcnow() - timedelta(seconds=1)
            session.add(record)
    with session_scope(service.runtime.engine) as session:
        assert idempotency.purge_expired(session) == 2
        assert session.exec(select(IdempotencyRecord)).all() == []
