"""Send rules are defined once and applied alike to a single send, a batch send and a campaign.

A rule added here ("on hold": customers whose `hold` attribute is set get nothing) is registered once; the
send API answers 422 with its code, the batch API reports it per item, and campaign fan-out counts it under
`skipped`. The built-in rules keep their order: an address first, then suppression, then consent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlmodel import Session

from ccm.channels import Refusal
from ccm.customers.models import Customer
from ccm.customers.suppression import suppress
from ccm.database import session_scope
from ccm.eligibility.rules import (
    SEND_RULES,
    Recipient,
    SendRule,
    refusal,
    refusals,
    register_rule,
    unregister_rule,
)
from ccm.registry.models import Template
from tests.ccm.campaigns.conftest import add_customer, campaign, create_campaign, promo, run_fan_out
from tests.ccm.conftest import Service

__all__ = ["promo"]  # the campaign fixture, shared with the campaign tests
GATHERED: list[int] = []
CTA = {"cta_url": "https://example.com/start"}


def _held_customers(
    _session: Session, _template: Template, recipients: Sequence[Recipient]
) -> set[int | None]:
    GATHERED.append(len(recipients))
    return {r.customer.id for r in recipients if r.customer.attributes.get("hold")}


def _on_hold(held: set[int | None], _template: Template, recipient: Recipient) -> Refusal | None:
    if recipient.customer.id in held:
        return Refusal("on_hold", "the customer's account is on hold")
    return None


@pytest.fixture
def hold_rule() -> Iterator[SendRule]:
    GATHERED.clear()
    rule = register_rule(SendRule("on_hold", _on_hold, _held_customers))
    try:
        yield rule
    finally:
        unregister_rule("on_hold")


def test_a_rule_added_once_refuses_single_sends(service: Service, hold_rule: SendRule) -> None:
    add_customer(service, "held", attributes={"first_name": "Held", "hold": True})
    response = service.send({"template": "welcome", "customer_id": "held", "data": CTA})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "on_hold"
    assert response.json()["error"]["field"] == "customer_id"


def test_a_rule_added_once_refuses_batch_items(service: Service, hold_rule: SendRule) -> None:
    add_customer(service, "held", attributes={"first_name": "Held", "hold": True})
    add_customer(service, "free", attributes={"first_name": "Free"})
    items = [
        {
            "template": "welcome",
            "customer_id": external_id,
            "data": CTA,
            "idempotency_key": f"k-{external_id}",
        }
        for external_id in ("held", "free")
    ]
    response = service.client.post("/v1/messages:batch", json={"messages": items}, headers=service.headers())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["status"] == 422 and results[0]["error"]["code"] == "on_hold"
    assert results[1]["status"] == 202
    assert response.json()["accepted"] == 1


def test_a_rule_added_once_skips_campaign_recipients(
    service: Service, promo: str, hold_rule: SendRule
) -> None:
    for number in range(5):
        hold = number % 2 == 0
        phone = f"+3934712345{10 + number}" if number != 1 else None
        add_customer(service, f"h-{number}", phone=phone, attributes={"first_name": "H", "hold": hold})
    created = create_campaign(service, channels=["email", "sms"])
    run_fan_out(service, created["id"], batch_size=500)
    progress = campaign(service, created["id"])["progress"]
    assert progress["skipped"]["on_hold"] == 3 * 2
    assert progress["skipped"]["no_phone_number"] == 1  # a built-in rule, evaluated the same way
    assert progress["queued"] == 3
    assert GATHERED == [10]  # one gather for the whole batch, not one per recipient


def test_rules_run_in_order_and_the_first_refusal_wins(service: Service, hold_rule: SendRule) -> None:
    assert [rule.name for rule in SEND_RULES][-1] == "on_hold"
    add_customer(service, "both", email=None, attributes={"first_name": "B", "hold": True})
    with session_scope(service.runtime.engine) as session:
        customer = session.exec(_customer("both")).one()
        template = session.exec(_template("welcome")).one()
        single = refusal(session, template, customer, "email")
        bulk = refusals(session, template, [Recipient(customer, "email"), Recipient(customer, "sms")])
    assert single == Refusal("no_email_address", "customer has no email address")
    assert bulk[(customer.id, "email")] == single
    assert bulk[(customer.id, "sms")].code == "no_phone_number"


@pytest.mark.parametrize(
    ("stored", "bounced"),
    [
        ("josé@bücher.example", "josé@XN--BCHER-KVA.example"),  # a bounce for the punycode form
        ("josé@xn--bcher-kva.example", "josé@Bücher.example"),  # and the other way round
    ],
)
def test_a_suppression_matches_an_idn_domain_in_either_form(
    service: Service, stored: str, bounced: str
) -> None:
    with session_scope(service.runtime.engine) as session:
        customer = Customer(external_id="idn", email=stored)
        session.add(customer)
        session.flush()
        assert suppress(session, channel="email", address=bounced, reason="hard_bounce")
        assert not suppress(session, channel="email", address=stored, reason="complaint")  # one entry
        template = session.exec(_template("welcome")).one()
        single = refusal(session, template, customer, "email")
        bulk = refusals(session, template, [Recipient(customer, "email")])
    assert single == Refusal("suppressed", f"{stored} is on the suppression list (hard_bounce)")
    assert bulk[(customer.id, "email")] == single


def _customer(external_id: str) -> Any:
    from sqlmodel import select

    return select(Customer).where(Customer.external_id == external_id)


def _template(key: str) -> Any:
    from sqlmodel import select

    return select(Template).where(Template.key == key)
