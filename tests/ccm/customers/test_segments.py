"""Saved segments: rules evaluated in SQL select the same customers on SQLite and PostgreSQL, with strict
types (`true` is not `1`), consent as a send would see it, and engagement counting people's events only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from ccm.access.models import Role
from ccm.customers.models import Consent, Customer
from ccm.customers.segment_rules import parse_segment
from ccm.database import session_scope, utcnow
from ccm.engagement.models import Event, EventType
from tests.ccm.campaigns.conftest import (
    add_customer,
    create_campaign,
    messages_of,
    promo,  # noqa: F401 (the fixture)
    run_fan_out,
)
from tests.ccm.conftest import Service

PEOPLE: dict[str, dict[str, Any]] = {
    "a-pro": {
        "locale": "it",
        "attributes": {
            "plan": "pro",
            "age": 31,
            "vip": True,
            "tags": ["vip", "b"],
            "address": {"city": "Rome"},
            "name": "Joanna",
            "signup": "2024-05-01",
        },
    },
    "b-free": {
        "locale": "de",
        "attributes": {"plan": "free", "age": "29", "vip": 1, "tags": ["x"], "name": "Bob"},
    },
    "c-none": {"locale": "fr", "phone": "+393471234501", "attributes": {}},
    "d-null": {"locale": "en", "attributes": {"plan": None, "age": 30, "vip": False, "flag": "true"}},
    "e-big": {
        "locale": "en",
        "attributes": {"plan": "Pro", "age": 100.5, "tags": "vip", "signup": "2023-12-31"},
    },
}
EVERYONE = sorted(PEOPLE)


def cond(attribute: str, op: str, value: Any = None) -> dict[str, Any]:
    rule = {"attribute": attribute, "op": op}
    return rule if value is None else {**rule, "value": value}


ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("eq string", cond("plan", "eq", "pro"), ["a-pro"]),
    ("ne keeps missing and null", cond("plan", "ne", "pro"), ["b-free", "c-none", "d-null", "e-big"]),
    ("true is not 1", cond("vip", "eq", True), ["a-pro"]),
    ("1 is not true", cond("vip", "eq", 1), ["b-free"]),
    ("false is not 0 nor missing", cond("vip", "eq", False), ["d-null"]),
    ("eq number", cond("age", "eq", 30), ["d-null"]),
    ("eq float equals int", cond("age", "eq", 30.0), ["d-null"]),
    ("gt skips numeric strings", cond("age", "gt", 30), ["a-pro", "e-big"]),
    ("lt number", cond("age", "lt", 31), ["d-null"]),
    ("lt string compares strings only", cond("age", "lt", "30"), ["b-free"]),
    ("strings compare by code point", cond("plan", "lt", "pro"), ["b-free", "e-big"]),
    ("dates as strings", cond("signup", "gt", "2024-01-01"), ["a-pro"]),
    ("the string true is not true", cond("flag", "eq", True), []),
    ("the string true", cond("flag", "eq", "true"), ["d-null"]),
    ("contains in list or string", cond("tags", "contains", "vip"), ["a-pro", "e-big"]),
    ("contains is case-sensitive", cond("name", "contains", "ANN"), []),
    ("contains substring", cond("name", "contains", "ann"), ["a-pro"]),
    ("in", cond("plan", "in", ["pro", "free"]), ["a-pro", "b-free"]),
    ("in mixes types strictly", cond("vip", "in", [1, "x"]), ["b-free"]),
    ("not_in", cond("plan", "not_in", ["pro"]), ["b-free", "c-none", "d-null", "e-big"]),
    ("exists ignores null", cond("plan", "exists"), ["a-pro", "b-free", "e-big"]),
    ("exists false", cond("plan", "exists", False), ["c-none", "d-null"]),
    ("dotted path", cond("address.city", "eq", "Rome"), ["a-pro"]),
    ("field in", cond("locale", "in", ["it", "de"]), ["a-pro", "b-free"]),
    ("field exists", cond("phone", "exists"), ["c-none"]),
    ("field gt", cond("external_id", "gt", "c"), ["c-none", "d-null", "e-big"]),
    ("field eq number never", cond("locale", "eq", 1), []),
]
TREE_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("empty selects all", {}, EVERYONE),
    ("any of nothing", {"any": []}, []),
    ("not", {"not": cond("plan", "eq", "pro")}, ["b-free", "c-none", "d-null", "e-big"]),
    ("not of ne", {"not": cond("plan", "ne", "pro")}, ["a-pro"]),
    ("all", {"all": [cond("plan", "eq", "pro"), cond("age", "gt", 30)]}, ["a-pro"]),
    (
        "nested",
        {
            "any": [
                cond("plan", "eq", "free"),
                {"all": [cond("age", "gt", 50), {"not": cond("vip", "exists")}]},
            ]
        },
        ["b-free", "e-big"],
    ),
]


def _add_people(service: Service, people: dict[str, dict[str, Any]]) -> None:
    for external_id, fields in people.items():
        add_customer(service, external_id, **fields)


def preview(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    response = service.client.post("/v1/segments:preview", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def selected(service: Service, rule: dict[str, Any]) -> list[str]:
    """The external ids the rule selects, from the preview (all of them: fewer than its sample size)."""
    found = preview(service, {"rule": rule})
    ids = [c["external_id"] for c in found["sample"]]
    assert found["count"] == len(ids)
    return ids


def test_attribute_rules_are_strict(service: Service) -> None:
    _add_people(service, PEOPLE)
    results = {name: selected(service, {"all": [rule]}) for name, rule, _ in ATTRIBUTE_CASES}
    assert results == {name: expected for name, _, expected in ATTRIBUTE_CASES}


def test_sql_agrees_with_the_rules_in_python() -> None:
    """The Python matcher (`Rule.matches`) and the SQL agree on every case, so both read the rules alike."""
    people = [Customer(external_id=k, email=f"{k}@example.com", **v) for k, v in PEOPLE.items()]
    trees = [({"all": [rule]}, expected, name) for name, rule, expected in ATTRIBUTE_CASES]
    for rule, expected, name in trees + [(rule, expected, name) for name, rule, expected in TREE_CASES]:
        parsed = parse_segment(rule)
        assert [c.external_id for c in people if parsed.matches(c)] == expected, name


def test_combinators(service: Service) -> None:
    _add_people(service, PEOPLE)
    results = {name: selected(service, rule) for name, rule, _ in TREE_CASES}
    assert results == {name: expected for name, _, expected in TREE_CASES}


def _customer_ids(service: Service) -> dict[str, int]:
    with session_scope(service.runtime.engine) as session:
        return {c.external_id: c.id for c in session.exec(select(Customer)).all() if c.id is not None}


def test_consent_rules_read_as_a_send_would(service: Service) -> None:
    _add_people(
        service, {name: {} for name in ("c1-default", "c2-optout", "c3-notopic", "c4-pending", "c5-yes")}
    )
    marketer = service.headers(Role.MARKETER)
    topic = {"key": "offers", "name": "Offers", "channels": ["email", "sms"]}
    assert service.client.post("/v1/topics", json=topic, headers=marketer).status_code == 201
    changes = {
        "c2-optout": [{"channel": "email", "state": "revoked"}],
        "c3-notopic": [{"channel": "email", "topic": "offers", "state": "revoked"}],
        "c5-yes": [{"channel": "email", "state": "granted"}],
    }
    for external_id, consents in changes.items():
        url = f"/v1/customers/{external_id}/consent"
        response = service.client.put(url, json={"consents": consents}, headers=service.headers())
        assert response.status_code == 200, response.text
    with session_scope(service.runtime.engine) as session:
        pending = Consent(
            customer_id=_customer_ids(service)["c4-pending"], channel="email", state="pending", source="t"
        )
        session.add(pending)

    def consent(**spec: Any) -> list[str]:
        return selected(service, {"consent": spec})

    assert consent(channel="email", state="granted") == ["c1-default", "c3-notopic", "c5-yes"]
    assert consent(channel="email", state="revoked") == ["c2-optout"]
    assert consent(channel="email", state="pending") == ["c4-pending"]
    assert consent(channel="email", topic="offers", state="revoked") == ["c3-notopic"]
    assert consent(channel="email", topic="offers", state="granted") == [
        "c1-default",
        "c2-optout",
        "c4-pending",
        "c5-yes",
    ]
    assert len(consent(channel="sms", state="granted")) == 5


@pytest.mark.usefixtures("promo")
def test_engagement_rules_count_people_not_machines(service: Service) -> None:
    _add_people(service, {name: {} for name in ("e1-promo", "e2-machine", "e3-old", "e4-click", "e5-none")})
    sent = create_campaign(service, segment={"all": [cond("external_id", "eq", "e1-promo")]})
    run_fan_out(service, sent["id"])
    (message,) = messages_of(service, sent["id"])
    ids, now = _customer_ids(service), utcnow()
    events = [
        ("e1-promo", EventType.OPENED, message.id, {}, 1),
        ("e2-machine", EventType.OPENED, None, {"machine": True}, 1),
        ("e3-old", EventType.OPENED, None, {"machine": False}, 40),
        ("e4-click", EventType.CLICKED, None, {}, 2),
    ]
    with session_scope(service.runtime.engine) as session:
        for external_id, kind, message_id, detail, days in events:
            session.add(
                Event(
                    customer_id=ids[external_id],
                    type=kind,
                    message_id=message_id,
                    channel="email",
                    detail=detail,
                    occurred_at=now - timedelta(days=days),
                )
            )

    def engaged(**spec: Any) -> list[str]:
        return selected(service, {"engagement": spec})

    assert engaged(event="opened") == ["e1-promo", "e3-old"]
    assert engaged(event="opened", within_days=30) == ["e1-promo"]
    assert engaged(event="opened", template="promo") == ["e1-promo"]
    assert engaged(event="opened", template="other") == []
    assert engaged(event="clicked") == ["e4-click"]
    assert engaged(event="bounced") == []
    lapsed = selected(service, {"not": {"engagement": {"event": "opened", "within_days": 30}}})
    assert lapsed == ["e2-machine", "e3-old", "e4-click", "e5-none"]


def test_preview_counts_all_and_samples_ten_by_external_id(service: Service) -> None:
    _add_people(service, {f"p{n:02d}": {"attributes": {"n": n}} for n in range(12, 0, -1)})
    found = preview(service, {"rule": {"all": [cond("n", "gt", 1)]}})
    assert found["count"] == 11
    assert [c["external_id"] for c in found["sample"]] == [f"p{n:02d}" for n in range(2, 12)]
    assert found["sample"][0] == {
        "external_id": "p02",
        "email": "p02@example.com",
        "phone": None,
        "locale": "en",
    }


def test_saved_segments_crud_and_preview_by_key(service: Service) -> None:
    marketer = service.headers(Role.MARKETER)
    _add_people(service, {"a-pro": PEOPLE["a-pro"], "b-free": PEOPLE["b-free"]})
    body = {"key": "pro", "name": "Pro plan", "rule": {"all": [cond("plan", "eq", "pro")]}}
    created = service.client.post("/v1/segments", json=body, headers=marketer)
    assert created.status_code == 201, created.text
    assert created.json()["rule"] == body["rule"]
    assert service.client.post("/v1/segments", json=body, headers=marketer).status_code == 409
    assert preview(service, {"segment_key": "pro"})["count"] == 1
    changed = {
        "name": "Free",
        "description": "who pays nothing",
        "rule": {"all": [cond("plan", "eq", "free")]},
    }
    assert service.client.put("/v1/segments/pro", json=changed, headers=marketer).status_code == 200
    assert [c["external_id"] for c in preview(service, {"segment_key": "pro"})["sample"]] == ["b-free"]
    listed = service.client.get("/v1/segments", headers=service.headers(Role.COMPLIANCE)).json()["segments"]
    assert [(s["key"], s["name"]) for s in listed] == [("pro", "Free")]
    assert (
        service.client.post("/v1/segments", json=body, headers=service.headers(Role.COMPLIANCE)).status_code
        == 403
    )
    assert service.client.delete("/v1/segments/pro", headers=marketer).status_code == 204
    assert service.client.get("/v1/segments/pro", headers=marketer).status_code == 404
    missing = service.client.post("/v1/segments:preview", json={"segment_key": "pro"}, headers=marketer)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "segment_key"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"all": [cond("plan", "like", "p")]}, "rule.all[0].op"),
        ({"all": [{"consent": {"channel": "push", "state": "granted"}}]}, "rule.all[0].consent.channel"),
        ({"consent": {"channel": "email", "state": "maybe"}}, "rule.consent.state"),
        (
            {"all": [{"engagement": {"event": "opened", "within_days": 0}}]},
            "rule.all[0].engagement.within_days",
        ),
        ({"engagement": {"event": "seen"}}, "rule.engagement.event"),
        ({"engagement": {"event": "opened", "when": 1}}, "rule.engagement.when"),
        ({"not": {"all": [{"attribute": 'a"b', "op": "exists"}]}}, "rule.not.all[0].attribute"),
        ({"nps": {"score": 9}}, "rule.nps.score"),
        ({"survey": {"score": 9}}, "rule"),
        ({"all": [cond("age", "in", [1, 2**64])]}, "rule.all[0].value"),
    ],
)
def test_bad_rules_are_422_naming_the_path(service: Service, rule: dict[str, Any], field: str) -> None:
    body = {"key": "bad", "name": "Bad", "rule": rule}
    response = service.client.post("/v1/segments", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    response = service.client.post("/v1/segments:preview", json={"rule": rule}, headers=service.headers())
    assert response.status_code == 422 and response.json()["error"]["field"] == field


def test_preview_takes_exactly_one_of_rule_and_key(service: Service) -> None:
    for body in ({}, {"rule": {}, "segment_key": "x"}):
        response = service.client.post("/v1/segments:preview", json=body, headers=service.headers())
        assert response.status_code == 422, response.text


@pytest.mark.usefixtures("promo")
def test_campaign_with_segment_key(service: Service) -> None:
    _add_people(service, {k: {"attributes": {"first_name": k, **v["attributes"]}} for k, v in PEOPLE.items()})
    rule = {"any": [cond("vip", "eq", True), {"engagement": {"event": "clicked"}}]}
    body = {"key": "vips", "name": "VIPs", "rule": rule}
    assert (
        service.client.post("/v1/segments", json=body, headers=service.headers(Role.MARKETER)).status_code
        == 201
    )
    created = create_campaign(service, segment_key="vips")
    assert created["segment"] == rule
    run_fan_out(service, created["id"], batch_size=1)
    assert [m.recipient for m in messages_of(service, created["id"])] == ["a-pro@example.com"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"segment_key": "vips", "segment": {"all": []}}, "invalid_segment"),
        ({"segment_key": "nobody"}, "segment_not_found"),
    ],
)
@pytest.mark.usefixtures("promo")
def test_campaign_segment_key_refusals(service: Service, body: dict[str, Any], code: str) -> None:
    saved = {"key": "vips", "name": "VIPs", "rule": {}}
    assert (
        service.client.post("/v1/segments", json=saved, headers=service.headers(Role.MARKETER)).status_code
        == 201
    )
    payload = {"name": "Spring", "template": "promo", "data": {"offer": "1"}, **body}
    response = service.client.post("/v1/campaigns", json=payload, headers=service.headers(Role.MARKETER))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["field"] == "segment_key"
