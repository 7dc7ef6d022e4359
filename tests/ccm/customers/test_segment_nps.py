"""The `{"nps": ...}` segment rule (`ccm.customers.segment_nps`): the customer's latest NPS answer within
every bound, narrowed by window and template; no answer matches none (so `not` selects those customers);
bad specs are 422s naming the path; the same customers on SQLite and PostgreSQL, in previews and campaigns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.customers.segment_rules import Fact, SegmentError, parse_segment
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
from tests.ccm.customers.test_segments import _customer_ids, selected

ANSWERS: dict[str, list[tuple[str, int, str, int]]] = {
    "n1-changed": [("nps", 3, "survey", 5), ("nps", 9, "survey", 1)],
    "n2-detractor": [("nps", 5, "survey", 2)],
    "n3-none": [],
    "n4-old": [("nps", 10, "survey", 40)],
    "n5-other": [("nps", 2, "survey", 20), ("nps", 7, "other", 3)],
    "n6-csat": [("csat", 2, "survey", 1)],
    "n7-late-insert": [("nps", 0, "survey", 1), ("nps", 10, "survey", 8)],
}
"""Per customer, in the order stored: (kind, score, template, days ago). n7's answer of 10 is stored after
its 0 but dated earlier: the latest answer is judged by time."""


@pytest.fixture
def answered(service: Service) -> Service:
    for external_id in ANSWERS:
        add_customer(service, external_id, attributes={"first_name": external_id})
    ids, now = _customer_ids(service), utcnow()
    with session_scope(service.runtime.engine) as session:
        for external_id, answers in ANSWERS.items():
            for kind, score, template, days in answers:
                detail = {
                    "kind": kind,
                    "score": score,
                    "comment": "",
                    "template": template,
                    "campaign_id": None,
                }
                session.add(
                    Event(
                        customer_id=ids[external_id],
                        type=EventType.FEEDBACK,
                        channel="email",
                        detail=detail,
                        occurred_at=now - timedelta(days=days),
                    )
                )
    return service


CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"nps": {"lte": 6}}, ["n2-detractor", "n7-late-insert"]),
    ({"nps": {"gte": 9}}, ["n1-changed", "n4-old"]),
    ({"nps": {"eq": 7}}, ["n5-other"]),
    ({"nps": {"gte": 7, "lte": 8}}, ["n5-other"]),
    ({"nps": {"gte": 9, "lte": 6}}, []),
    ({"nps": {"gte": 0, "within_days": 30}}, ["n1-changed", "n2-detractor", "n5-other", "n7-late-insert"]),
    ({"nps": {"gte": 9, "within_days": 30}}, ["n1-changed"]),
    ({"nps": {"lte": 6, "template": "survey"}}, ["n2-detractor", "n5-other", "n7-late-insert"]),
    ({"nps": {"lte": 10, "template": "nothing"}}, []),
    ({"not": {"nps": {"gte": 0}}}, ["n3-none", "n6-csat"]),
    ({"not": {"nps": {"lte": 6}}}, ["n1-changed", "n3-none", "n4-old", "n5-other", "n6-csat"]),
    (
        {"all": [{"nps": {"lte": 6}}, {"attribute": "first_name", "op": "contains", "value": "n2"}]},
        ["n2-detractor"],
    ),
]


def test_nps_rules_judge_the_latest_answer(answered: Service) -> None:
    results = [selected(answered, rule) for rule, _ in CASES]
    assert results == [expected for _, expected in CASES]


@pytest.mark.usefixtures("promo")
def test_a_saved_nps_segment_previews_and_drives_a_campaign(answered: Service) -> None:
    body = {"key": "promoters", "name": "Promoters", "rule": {"nps": {"gte": 9}}}
    response = answered.client.post("/v1/segments", json=body, headers=answered.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    preview = answered.client.post(
        "/v1/segments:preview", json={"segment_key": "promoters"}, headers=answered.headers()
    ).json()
    assert preview["count"] == 2
    created = create_campaign(answered, segment_key="promoters")
    run_fan_out(answered, created["id"], batch_size=1)
    recipients = [m.recipient for m in messages_of(answered, created["id"])]
    assert recipients == ["n1-changed@example.com", "n4-old@example.com"]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"all": [{"nps": {"lte": 11}}]}, "rule.all[0].nps.lte"),
        ({"all": [{"nps": {"gte": -1}}]}, "rule.all[0].nps.gte"),
        ({"nps": {"eq": True}}, "rule.nps.eq"),
        ({"nps": {"lte": 6.5}}, "rule.nps.lte"),
        ({"nps": {"lte": "6"}}, "rule.nps.lte"),
        ({"nps": {"lte": None}}, "rule.nps.lte"),
        ({"nps": {}}, "rule.nps"),
        ({"nps": {"within_days": 30}}, "rule.nps"),
        ({"nps": 6}, "rule.nps"),
        ({"nps": {"lte": 6, "score": 9}}, "rule.nps.score"),
        ({"nps": {"lte": 6, "within_days": 0}}, "rule.nps.within_days"),
        ({"nps": {"lte": 6, "within_days": 3651}}, "rule.nps.within_days"),
        ({"any": [{"not": {"nps": {"lte": 6, "template": ""}}}]}, "rule.any[0].not.nps.template"),
    ],
)
def test_bad_nps_rules_are_422_naming_the_path(service: Service, rule: dict[str, Any], field: str) -> None:
    for url, body in (
        ("/v1/segments", {"key": "bad", "name": "Bad", "rule": rule}),
        ("/v1/segments:preview", {"rule": rule}),
    ):
        response = service.client.post(url, json=body, headers=service.headers(Role.MARKETER))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
        assert response.json()["error"]["code"] == "invalid_segment"


def test_the_parser_names_the_path_under_its_root() -> None:
    with pytest.raises(SegmentError) as raised:
        parse_segment({"all": [{"nps": {"lte": 6}}, {"nps": {"lte": 7, "gte": False}}]})
    assert raised.value.path == "segment.all[1].nps.gte"
    fact = parse_segment({"nps": {"lte": 6, "within_days": 30}})
    assert isinstance(fact, Fact) and fact.spec == {"lte": 6, "within_days": 30, "template": None}


def test_the_segment_docs_mention_the_nps_rule(service: Service) -> None:
    schemas = service.client.get("/openapi.json").json()["components"]["schemas"]
    for schema in ("SegmentCreate", "SegmentIn", "ccm__customers__segment_schemas__PreviewRequest"):
        assert '{"nps"' in schemas[schema]["properties"]["rule"]["description"], schema
