"""Segment rules: validation names the rule path; matching on attributes and customer fields."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from ccm.customers.models import Customer
from ccm.customers.segment_rules import SegmentError, parse_segment
from tests.ccm.campaigns.conftest import add_customer, create_campaign, messages_of, run_fan_out
from tests.ccm.conftest import Service


def person(**attributes: Any) -> Customer:
    return Customer(
        external_id="x", email="x@example.com", locale="it", timezone="UTC", attributes=attributes
    )


@pytest.mark.parametrize(
    ("rule", "customer", "expected"),
    [
        ({"attribute": "plan", "op": "eq", "value": "pro"}, person(plan="pro"), True),
        ({"attribute": "plan", "op": "ne", "value": "pro"}, person(), True),
        ({"attribute": "locale", "op": "in", "value": ["it", "de"]}, person(), True),
        ({"attribute": "locale", "op": "not_in", "value": ["it"]}, person(), False),
        ({"attribute": "phone", "op": "exists"}, person(), False),
        ({"attribute": "email", "op": "exists", "value": True}, person(), True),
        ({"attribute": "age", "op": "gt", "value": 30}, person(age=31), True),
        ({"attribute": "age", "op": "lt", "value": 30}, person(age="29"), False),
        ({"attribute": "tags", "op": "contains", "value": "vip"}, person(tags=["vip", "b"]), True),
        ({"attribute": "name", "op": "contains", "value": "ann"}, person(name="Joanna"), True),
        ({"attribute": "address.city", "op": "eq", "value": "Rome"}, person(address={"city": "Rome"}), True),
        ({"attribute": "flag", "op": "eq", "value": 1}, person(flag=True), False),
    ],
)
def test_conditions(rule: dict[str, Any], customer: Customer, expected: bool) -> None:
    assert parse_segment({"all": [rule]}).matches(customer) is expected


def test_groups_nest_and_empty_selects_everyone() -> None:
    segment = parse_segment(
        {
            "any": [
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"all": [{"attribute": "vip", "op": "exists"}]},
            ]
        }
    )
    assert segment.matches(person(vip=1)) and not segment.matches(person(plan="free"))
    assert parse_segment({}).matches(person())


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"all": [{"attribute": "plan", "op": "like", "value": "p"}]}, "segment.all[0].op"),
        ({"all": [{"attribute": "plan", "op": "in", "value": "pro"}]}, "segment.all[0].value"),
        ({"all": [{"op": "eq", "value": 1}]}, "segment.all[0].attribute"),
        ({"any": [{"all": [{"attribute": "a", "op": "gt", "value": [1]}]}]}, "segment.any[0].all[0].value"),
        ({"all": [{"attribute": "a", "op": "eq"}]}, "segment.all[0].value"),
        ({"every": []}, "segment"),
        ({"all": [1]}, "segment.all[0]"),
    ],
)
def test_bad_rules_name_their_path(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse_segment(raw)
    assert caught.value.path == path


def test_bad_rule_is_a_422_naming_the_rule(service: Service, promo: str) -> None:
    body = {
        "name": "x",
        "template": promo,
        "segment": {
            "all": [{"attribute": "plan", "op": "eq", "value": "pro"}, {"attribute": "x", "op": "?"}]
        },
    }
    response = service.client.post("/v1/campaigns", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "segment.all[1].op"


def test_segment_selects_exactly_the_right_customers(service: Service, promo: str) -> None:
    add_customer(service, "pro-it", locale="it", attributes={"first_name": "A", "plan": "pro"})
    add_customer(service, "pro-de", locale="de", attributes={"first_name": "B", "plan": "pro"})
    add_customer(service, "pro-fr", locale="fr", attributes={"first_name": "C", "plan": "pro"})
    add_customer(service, "free-it", locale="it", attributes={"first_name": "D", "plan": "free"})
    add_customer(service, "none-it", locale="it", attributes={"first_name": "E"})
    segment = {
        "all": [
            {"attribute": "plan", "op": "eq", "value": "pro"},
            {"attribute": "locale", "op": "in", "value": ["it", "de"]},
        ]
    }
    created = create_campaign(service, segment=segment)
    run_fan_out(service, created["id"], batch_size=2)
    assert [m.recipient for m in messages_of(service, created["id"])] == [
        "pro-de@example.com",
        "pro-it@example.com",
    ]
