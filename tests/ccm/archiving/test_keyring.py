"""Customer data keys: a worker prefetches the keys of a claimed batch in one transaction; what it caches is
what every other process reads, and a destroyed key is never brought back by a prefetch."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from ccm.archiving.crypto import KeyDestroyed
from ccm.archiving.keyring import Keyring, destroy
from ccm.archiving.models import CustomerKey
from ccm.customers.models import Customer
from ccm.database import session_scope
from tests.ccm.conftest import Service

MASTER = "A" * 43 + "="  # 32 bytes of base64


def customers(service: Service, count: int) -> list[int]:
    with session_scope(service.runtime.engine) as session:
        people = [Customer(external_id=f"k-{n}", email=f"k{n}@example.com") for n in range(count)]
        session.add_all(people)
        session.flush()
        return [person.id for person in people if person.id is not None]


def test_a_prefetched_batch_costs_one_transaction_and_is_the_key_others_read(service: Service) -> None:
    engine = service.runtime.engine
    ids = customers(service, 5)
    keyring = Keyring(engine, MASTER)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", committed)
    try:
        keyring.prefetch(ids)
        prefetched = {customer_id: keyring.data_key(customer_id) for customer_id in ids}  # from the cache
    finally:
        event.remove(engine, "commit", committed)
    assert len(commits) == 1
    assert len({key for _, key in prefetched.values()}) == 5  # one key per customer
    other_process = Keyring(engine, MASTER)
    assert {customer_id: other_process.data_key(customer_id) for customer_id in ids} == prefetched
    with Session(engine) as session:
        stored = session.exec(select(CustomerKey).where(col(CustomerKey.customer_id).in_(ids))).all()
    assert sorted(row.customer_id for row in stored) == sorted(ids)


def test_a_prefetch_never_replaces_a_destroyed_key(service: Service) -> None:
    engine = service.runtime.engine
    [erased, kept] = customers(service, 2)
    first = Keyring(engine, MASTER)
    first.data_key(erased)
    with session_scope(engine) as session:
        assert destroy(session, erased)
    later = Keyring(engine, MASTER)
    later.prefetch([erased, kept])
    with pytest.raises(KeyDestroyed):
        later.data_key(erased)
    assert later.data_key(kept) == Keyring(engine, MASTER).data_key(kept)
