"""Erasure (`ccm.compliance.erasure`) beyond the live database: the local outbox copies of an erased
customer's messages go too, nobody else's do, and the customer counts as erased from then on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccm.compliance.erasure import erase_customer, is_erased
from ccm.customers.models import Customer
from ccm.customers.service import get_customer
from ccm.database import session_scope
from delivery.outbox import list_outbox
from tests.ccm.compliance.conftest import send_otps
from tests.ccm.conftest import WELCOME, Service, send


def outbox_files(service: Service, message_id: str) -> list[str]:
    return sorted(path.name for path in service.settings.outbox_dir.glob(f"{message_id}.*"))


def test_erasure_deletes_every_outbox_copy_of_the_customers_messages_only(
    service: Service, customer: dict[str, Any]
) -> None:
    service.client.put("/v1/customers/c-2", json={"phone": "+393471234502"}, headers=service.headers())
    texts = send_otps(service, 2)
    mail = send(service, WELCOME, "welcome-c-1")
    [other] = send_otps(service, 1, customer="c-2")
    service.work()
    assert outbox_files(service, mail) == [f"{mail}.eml", f"{mail}.meta.json"]
    assert outbox_files(service, texts[0]) == [f"{texts[0]}.json", f"{texts[0]}.meta.json"]

    erased = service.client.post("/v1/customers/c-1/erase", headers=service.headers())

    assert erased.status_code == 200, erased.text
    assert all(outbox_files(service, m) == [] for m in [*texts, mail])
    assert outbox_files(service, other) == [f"{other}.json", f"{other}.meta.json"]
    assert [entry.message_id for entry in list_outbox(service.settings.outbox_dir)] == [other]


def test_erasure_uses_the_outbox_directory_its_caller_gives(
    service: Service, customer: dict[str, Any], tmp_path: Path
) -> None:
    [text] = send_otps(service, 1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{text}.json").write_bytes(b"{}")

    with session_scope(service.runtime.engine) as session:
        erase_customer(session, get_customer(session, "c-1"), outbox_dir=elsewhere)

    assert list(elsewhere.iterdir()) == []
    assert outbox_files(service, text) == [f"{text}.json", f"{text}.meta.json"]  # not the settings' one


def test_a_customer_counts_as_erased_once_erasure_is_requested(
    service: Service, customer: dict[str, Any]
) -> None:
    send_otps(service, 1)  # so the customer has a data key
    service.client.put("/v1/customers/c-2", json={"phone": "+393471234502"}, headers=service.headers())
    with session_scope(service.runtime.engine) as session:
        first, second = get_customer(session, "c-1"), get_customer(session, "c-2")
        assert first.id is not None and second.id is not None
        assert not is_erased(session, first.id) and not is_erased(session, second.id)
        erase_customer(session, first, outbox_dir=service.settings.outbox_dir)
        erase_customer(session, second, outbox_dir=service.settings.outbox_dir)  # no data key: by its id
        assert is_erased(session, first.id) and is_erased(session, second.id)
        customer_row = session.get(Customer, first.id)
        assert customer_row is not None and customer_row.external_id == f"erased-{first.id}"
