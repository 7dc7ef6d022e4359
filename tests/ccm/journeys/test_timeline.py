"""An event posted with `POST /v1/events` is on the customer's timeline, in the API and on their page,
whether or not a journey listens for it; erasure empties it with the rest of the timeline's detail."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from ccm.access.models import Role
from ccm.database import session_scope
from ccm.engagement.models import Event, EventType
from tests.ccm.conftest import Service
from tests.ccm.journeys.conftest import post_event
from tests.ccm.web.conftest import sign_in


def test_a_posted_event_is_on_the_timeline_and_the_customer_page(
    service: Service, customer: dict[str, Any]
) -> None:
    properties = {"invoice": {"number": "T-42"}, "amount": 12.5}
    assert post_event(service, "invoice_issued", properties).status_code == 202
    assert post_event(service, "app_opened").status_code == 202

    response = service.client.get("/v1/customers/c-1/timeline", headers=service.headers())
    assert response.status_code == 200, response.text
    posted = [e for e in response.json()["events"] if e["type"] == "customer_event"]
    assert [(e["detail"]["name"], e["detail"]["properties"]) for e in posted] == [
        ("app_opened", {}),
        ("invoice_issued", properties),
    ]  # newest first
    assert all(e["message_id"] is None and e["channel"] is None for e in posted)

    sign_in(service.client, service.keys[Role.COMPLIANCE])
    timeline = service.client.get("/ui/customers/c-1").text.split("<h2>Timeline</h2>", 1)[1]
    assert timeline.count("customer_event") >= 2
    assert "invoice_issued" in timeline and "T-42" in timeline and "app_opened" in timeline


def test_erasure_empties_a_posted_event_on_the_timeline(service: Service, customer: dict[str, Any]) -> None:
    assert post_event(service, "invoice_issued", {"invoice": {"number": "T-43"}}).status_code == 202
    assert service.client.post("/v1/customers/c-1/erase", headers=service.headers()).status_code == 200
    with session_scope(service.runtime.engine) as session:
        posted = session.exec(select(Event).where(Event.type == EventType.CUSTOMER_EVENT)).all()
        assert [e.detail for e in posted] == [{}]
