"""Journey analytics: per send step and per split variant, messages sent, people's unique opens and
clicks (a proxy's open never counts) and the runs that went on to reach the goal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ccm.access.models import Role
from ccm.communications.models import Message
from ccm.database import session_scope
from ccm.engagement.models import EventType
from ccm.engagement.service import record_message_event
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import (
    INVOICE_CHASE,
    Clock,
    create,
    enrol,
    invoice,
    post_event,
    record_open,
    run,
    step_runs,
)
from tests.ccm.journeys.test_split_winner import AB, SPLIT, add_customers


def analytics(service: Service, key: str, **params: Any) -> dict[str, Any]:
    path = f"/v1/journeys/{key}/analytics"
    response = service.client.get(path, params=params, headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def record_click(service: Service, message_id: str) -> None:
    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        record_message_event(session, message, EventType.CLICKED, {"url": "https://example.com/pay"})


def test_send_steps_count_sent_human_engagement_and_goals(
    service: Service, customer: dict[str, Any], reminder: str, clock: Clock
) -> None:
    create(service, INVOICE_CHASE)
    paid = enrol(service, "invoice_issued", invoice("A-1"))
    proxied = enrol(service, "invoice_issued", invoice("A-2"))
    run(service)
    service.work()
    paid_mail, proxied_mail = (step_runs(service, r)["mail"].message_id for r in (paid, proxied))
    assert paid_mail is not None and proxied_mail is not None
    record_open(service, paid_mail)
    record_open(service, paid_mail)  # twice: one unique open
    record_click(service, paid_mail)
    record_open(service, proxied_mail, machine=True)  # an image proxy's: not a person's
    assert post_event(service, "invoice_paid", invoice("A-1")).status_code == 202
    clock.advance(timedelta(hours=49))
    run(service)
    service.work()

    report = analytics(service, "invoice-chase")
    assert report["version"] is None and report["splits"] == []
    mail, sms = report["sends"]
    assert (mail["step"], mail["template"], mail["channels"]) == ("mail", "invoice", ["email"])
    assert {k: mail[k] for k in ("runs", "sent", "unique_opens", "unique_clicks", "conversions")} == {
        "runs": 2,
        "sent": 2,
        "unique_opens": 1,
        "unique_clicks": 1,
        "conversions": 1,
    }
    assert (mail["open_rate"], mail["click_rate"], mail["conversion_rate"]) == (0.5, 0.5, 0.5)
    assert sms["step"] == "sms" and (sms["runs"], sms["sent"], sms["unique_opens"]) == (1, 1, 0)
    assert (sms["conversions"], sms["conversion_rate"], sms["open_rate"]) == (0, 0.0, 0.0)
    assert analytics(service, "invoice-chase", version=1)["sends"] == report["sends"]


def test_split_variants_count_their_own_runs_messages_and_goals(service: Service) -> None:
    split = {"variants": SPLIT["variants"]}  # no winner: both variants keep their share
    steps = [
        {"id": "ab", "split": split},
        {"id": "mail-a", "send": {"template": "invoice", "channel": "email"}, "next": "hold"},
        {"id": "mail-b", "send": {"template": "invoice", "channel": "email"}},
        {"id": "hold", "wait": {"duration": "P7D"}},
    ]
    definition = {**AB, "goal": {"event": "paid"}, "steps": steps}
    create(service, definition)
    runs = {c: enrol(service, "go", invoice(), customer=c) for c in add_customers(service, 16, "v")}
    run(service)
    service.work()
    variants = {c: step_runs(service, r)["ab"].detail["variant"] for c, r in runs.items()}
    assert set(variants.values()) == {"a", "b"}
    expected = {name: {"runs": 0, "opens": 0, "conversions": 0} for name in ("a", "b")}
    for index, (customer, variant) in enumerate(sorted(variants.items())):
        message_id = step_runs(service, runs[customer])[f"mail-{variant}"].message_id
        assert message_id is not None
        expected[variant]["runs"] += 1
        if index % 2 == 0:
            record_open(service, message_id, machine=variant == "a")  # a's opens are a proxy's
            expected[variant]["opens"] += variant == "b"
        if index % 3 == 0:
            assert post_event(service, "paid", customer=customer).status_code == 202
            expected[variant]["conversions"] += 1

    [split] = analytics(service, "ab")["splits"]
    assert split["step"] == "ab" and split["winner"] is None
    figures = {v["name"]: v for v in split["variants"]}
    assert set(figures) == {"a", "b"} and figures["a"]["percent"] == 50
    for name, want in expected.items():
        got = figures[name]
        assert (got["runs"], got["sent"]) == (want["runs"], want["runs"])
        assert (got["unique_opens"], got["conversions"]) == (want["opens"], want["conversions"])
        assert got["conversion_rate"] == round(want["conversions"] / want["runs"], 4)
    assert figures["a"]["unique_opens"] == 0 and figures["b"]["unique_opens"] > 0
    sends = {s["step"]: s for s in analytics(service, "ab")["sends"]}
    assert sends["mail-b"]["unique_opens"] == expected["b"]["opens"]


def test_analytics_of_an_unknown_journey_or_version_is_404(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    assert service.client.get("/v1/journeys/nope/analytics", headers=headers).status_code == 404
    create(service, AB, publish=False)
    response = service.client.get("/v1/journeys/ab/analytics?version=2", headers=headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "version_not_found"
