"""The customer profile (`GET /v1/customers/{id}/profile`): engagement metrics from real sends and tracked
opens and clicks, where a machine's open counts for nothing; the newest survey answer with its template;
the saved segments the customer is in, as the segments' own SQL selects them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.customers.models import Segment
from ccm.database import session_scope, utcnow
from ccm.engagement.models import Event, EventType
from tests.ccm.conftest import Service
from tests.ccm.customers.test_segments import _add_people, _customer_ids, preview
from tests.ccm.engagement.test_feedback import answer, emailed_survey, publish_survey
from tests.ccm.engagement.test_machine_traffic import BROWSER, GMAIL_PROXY, click_path, open_path, sent


def profile(service: Service, external_id: str = "c-1", role: Role = Role.ADMIN) -> dict[str, Any]:
    response = service.client.get(f"/v1/customers/{external_id}/profile", headers=service.headers(role))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def rates(found: dict[str, Any]) -> dict[int, tuple[str, int, int, int, float | None, float | None]]:
    return {
        r["days"]: (r["counted"], r["emails"], r["opened"], r["clicked"], r["open_rate"], r["click_rate"])
        for r in found["engagement"]["rates"]
    }


def move_event(service: Service, message_id: str, kind: EventType, age: timedelta) -> None:
    """Date the message's `kind` event `age` ago (as if it had been sent then)."""
    with session_scope(service.runtime.engine) as session:
        statement = select(Event).where(Event.message_id == message_id, Event.type == kind)
        for event in session.exec(statement).all():
            event.occurred_at = utcnow() - age
            session.add(event)


def test_rates_count_people_s_opens_and_clicks_of_the_window_s_emails(
    service: Service, customer: dict[str, Any]
) -> None:
    assert profile(service)["engagement"] == {
        "last_open": None,
        "last_click": None,
        "rates": [
            {"days": days, "counted": "sent", "emails": 0, "opened": 0, "clicked": 0}
            | {"open_rate": None, "click_rate": None}
            for days in (30, 90)
        ],
    }
    proxied, read, ignored, old = (sent(service, age_seconds=600) for _ in range(4))
    move_event(service, old, EventType.SENT, timedelta(days=45))
    assert service.client.get(open_path(service, read), headers={"User-Agent": BROWSER}).status_code == 200
    assert service.client.get(open_path(service, read), headers={"User-Agent": BROWSER}).status_code == 200
    clicked = service.client.get(
        click_path(service, read), headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    assert clicked.status_code in (302, 303, 307)
    assert service.client.get(open_path(service, old), headers={"User-Agent": BROWSER}).status_code == 200
    # The proxy's fetch comes last: a machine's open is neither the last open nor an opened email.
    assert (
        service.client.get(open_path(service, proxied), headers={"User-Agent": GMAIL_PROXY}).status_code
        == 200
    )

    found = profile(service, role=Role.MARKETER)
    assert rates(found) == {30: ("sent", 3, 1, 1, 0.3333, 0.3333), 90: ("sent", 4, 2, 1, 0.5, 0.25)}
    last_open, last_click = found["engagement"]["last_open"], found["engagement"]["last_click"]
    assert (last_open["message_id"], last_open["template"], last_open["channel"]) == (old, "welcome", "email")
    assert (last_click["message_id"], last_click["template"]) == (read, "welcome")
    with session_scope(service.runtime.engine) as session:
        opens = session.exec(
            select(Event).where(Event.type == EventType.OPENED).order_by(col(Event.occurred_at))
        ).all()
        assert [e.detail.get("machine", False) for e in opens] == [False, False, False, True]
        assert last_open["at"].startswith(opens[2].occurred_at.isoformat()[:19])

    # Once the provider reports deliveries, the window counts delivered emails only.
    ids = _customer_ids(service)
    with session_scope(service.runtime.engine) as session:
        for message_id in (read, ignored):
            session.add(
                Event(
                    customer_id=ids["c-1"], type=EventType.DELIVERED, message_id=message_id, channel="email"
                )
            )
    assert rates(profile(service)) == {
        30: ("delivered", 2, 1, 1, 0.5, 0.5),
        90: ("delivered", 2, 1, 1, 0.5, 0.5),
    }


def test_the_newest_survey_answer_shows_with_its_template(service: Service, customer: dict[str, Any]) -> None:
    assert profile(service)["last_feedback"] is None
    publish_survey(service)
    message_id, links = emailed_survey(service)
    assert answer(service, links[4], "slow").status_code == 200
    assert answer(service, links[8]).status_code == 200
    last = profile(service)["last_feedback"]
    assert (last["kind"], last["score"], last["comment"], last["template"], last["message_id"]) == (
        "nps",
        8,
        "",
        "survey",
        message_id,
    )
    summary = service.client.get("/v1/customers/c-1", headers=service.headers()).json()["engagement"]
    assert summary["last_feedback"] == last  # one answer, one shape, in both responses


SEGMENTS: dict[str, dict[str, Any]] = {
    "everyone": {},
    "nobody": {"any": []},
    "pro": {"all": [{"attribute": "plan", "op": "eq", "value": "pro"}]},
    "not-pro": {"not": {"attribute": "plan", "op": "eq", "value": "pro"}},
    "openers": {"engagement": {"event": "opened", "within_days": 30}},
    "detractors": {"nps": {"lte": 6}},
    "email-revoked": {"consent": {"channel": "email", "state": "revoked"}},
}


@pytest.fixture
def segmented(service: Service) -> Service:
    _add_people(
        service,
        {
            "m1": {"attributes": {"plan": "pro"}},
            "m2": {"attributes": {"plan": "free"}},
            "m3": {"attributes": {}},
        },
    )
    for key, rule in SEGMENTS.items():
        body = {"key": key, "name": key.title(), "rule": rule}
        response = service.client.post("/v1/segments", json=body, headers=service.headers(Role.MARKETER))
        assert response.status_code == 201, response.text
    ids = _customer_ids(service)
    with session_scope(service.runtime.engine) as session:
        session.add(Event(customer_id=ids["m2"], type=EventType.OPENED, channel="email", detail={}))
        session.add(
            Event(customer_id=ids["m3"], type=EventType.OPENED, channel="email", detail={"machine": True})
        )
        feedback = {"kind": "nps", "score": 3, "template": "survey"}
        session.add(Event(customer_id=ids["m1"], type=EventType.FEEDBACK, channel="email", detail=feedback))
    revoke = {"consents": [{"channel": "email", "state": "revoked"}]}
    assert (
        service.client.put("/v1/customers/m3/consent", json=revoke, headers=service.headers()).status_code
        == 200
    )
    return service


def test_segment_membership_is_what_each_segment_selects(segmented: Service) -> None:
    found = {c: [s["key"] for s in profile(segmented, c)["segments"]] for c in ("m1", "m2", "m3")}
    assert found == {
        "m1": ["detractors", "everyone", "pro"],
        "m2": ["everyone", "not-pro", "openers"],
        "m3": ["email-revoked", "everyone", "not-pro"],
    }
    assert profile(segmented, "m1")["segments"][0] == {"key": "detractors", "name": "Detractors"}
    for key in SEGMENTS:  # the same customers as each segment's preview
        members = [c["external_id"] for c in preview(segmented, {"segment_key": key})["sample"]]
        assert members == [c for c, keys in found.items() if key in keys], key


def test_a_saved_rule_that_no_longer_parses_selects_nobody_rather_than_failing(segmented: Service) -> None:
    with session_scope(segmented.runtime.engine) as session:
        saved = session.exec(select(Segment).where(Segment.key == "pro")).one()
        saved.rule = {"consent": {"channel": "carrier-pigeon", "state": "granted"}}
        session.add(saved)
    assert [s["key"] for s in profile(segmented, "m1")["segments"]] == ["detractors", "everyone"]


def test_an_unknown_customer_is_a_404_and_a_reader_role_is_needed(service: Service) -> None:
    response = service.client.get("/v1/customers/nobody/profile", headers=service.headers())
    assert response.status_code == 404, response.text
    assert service.client.get("/v1/customers/nobody/profile").status_code == 401


def test_consent_history_lists_every_change_newest_first(service: Service, customer: dict[str, Any]) -> None:
    """Each opt-out and each opt-in is one entry, a second opt-in after a second opt-out too."""
    steps = [
        ("revoked", "crm"),
        ("granted", "api"),
        ("revoked", "sms-keyword"),
        ("granted", "preference-centre"),
    ]
    for state, source in steps:
        body = {"consents": [{"channel": "email", "state": state}], "source": source}
        response = service.client.put("/v1/customers/c-1/consent", json=body, headers=service.headers())
        assert response.status_code == 200, response.text
    again = {"consents": [{"channel": "email", "state": "granted"}], "source": "api"}
    assert (
        service.client.put("/v1/customers/c-1/consent", json=again, headers=service.headers()).status_code
        == 200
    )
    consent = service.client.get("/v1/customers/c-1/consent", headers=service.headers()).json()
    assert [(h["channel"], h["topic"], h["state"], h["source"]) for h in consent["history"]] == [
        ("email", None, state, source) for state, source in reversed(steps)
    ]
    times = [h["at"] for h in consent["history"]]
    assert times == sorted(times, reverse=True)
    assert consent["unsubscribed_channels"] == []


def test_many_segments_and_long_rules_are_judged_in_bounded_unions(service: Service) -> None:
    """More segments than one UNION takes, and rules binding more values than SQLite allows in one
    statement when added up: each segment still judged, none lost between the UNIONs."""
    _add_people(service, {"big": {"attributes": {"n": 7}}})
    marketer = service.headers(Role.MARKETER)
    rules = {f"s{k:02d}": {"all": [{"attribute": "n", "op": "eq", "value": k}]} for k in range(55)}
    for k in range(12):  # 12,000 bound values together
        values = list(range(1000 * k + 8, 1000 * k + 1007)) + ([7] if k % 2 else [])
        rules[f"wide{k:02d}"] = {"all": [{"attribute": "n", "op": "in", "value": values}]}
    for key, rule in rules.items():
        response = service.client.post(
            "/v1/segments", json={"key": key, "name": key, "rule": rule}, headers=marketer
        )
        assert response.status_code == 201, response.text
    found = [s["key"] for s in profile(service, "big")["segments"]]
    assert found == ["s07", *(f"wide{k:02d}" for k in range(1, 12, 2))]
    assert preview(service, {"segment_key": "wide01"})["count"] == 1  # 1,000 values in one rule: no 500
