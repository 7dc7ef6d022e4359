"""Pause holds queued messages away from workers, resume releases them, cancel cancels them."""

from __future__ import annotations

from sqlmodel import col, func, select

from ccm.access.models import Role
from ccm.campaigns.jobs import fan_out_due
from ccm.communications.models import Message
from ccm.database import session_scope
from tests.ccm.campaigns.conftest import add_customer, campaign, create_campaign, messages_of
from tests.ccm.conftest import Service


def statuses(service: Service, campaign_id: int) -> dict[str, int]:
    with session_scope(service.runtime.engine) as session:
        rows = session.exec(
            select(Message.status, func.count())
            .where(Message.campaign_id == campaign_id)
            .group_by(col(Message.status))
        ).all()
    return {str(status): count for status, count in rows}


def post(service: Service, campaign_id: int, action: str) -> dict[str, object]:
    response = service.client.post(
        f"/v1/campaigns/{campaign_id}/{action}", headers=service.headers(Role.MARKETER)
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_pause_holds_messages_and_resume_releases_them(service: Service, promo: str) -> None:
    for index in range(3):
        add_customer(service, f"p{index}")
    created = create_campaign(service)
    fan_out_due(service.runtime)
    assert statuses(service, created["id"]) == {"queued": 3}
    assert post(service, created["id"], "pause")["status"] == "paused"
    assert statuses(service, created["id"]) == {"paused": 3}
    assert service.work() == 0
    assert post(service, created["id"], "resume")["status"] == "completed"
    assert service.work() == 3
    assert statuses(service, created["id"]) == {"sent": 3}
    assert campaign(service, created["id"])["progress"]["messages"] == {"sent": 3}


def test_paused_campaign_does_not_fan_out_until_resumed(service: Service, promo: str) -> None:
    add_customer(service, "a")
    created = create_campaign(service)
    post(service, created["id"], "pause")
    fan_out_due(service.runtime)
    assert messages_of(service, created["id"]) == []
    assert post(service, created["id"], "resume")["status"] == "scheduled"
    fan_out_due(service.runtime)
    assert len(messages_of(service, created["id"])) == 1


def test_cancel_cancels_queued_messages(service: Service, promo: str) -> None:
    for index in range(3):
        add_customer(service, f"c{index}")
    created = create_campaign(service)
    fan_out_due(service.runtime)
    post(service, created["id"], "pause")
    assert post(service, created["id"], "cancel")["status"] == "cancelled"
    assert statuses(service, created["id"]) == {"cancelled": 3}
    assert service.work() == 0
    again = service.client.post(f"/v1/campaigns/{created['id']}/resume", headers=service.headers())
    assert again.status_code == 409
    missing = service.client.post("/v1/campaigns/999/pause", headers=service.headers())
    assert missing.status_code == 404


def test_roles(service: Service, promo: str) -> None:
    body = {"name": "x", "template": promo}
    assert (
        service.client.post("/v1/campaigns", json=body, headers=service.headers(Role.SENDER)).status_code
        == 403
    )
    assert service.client.get("/v1/campaigns", headers=service.headers(Role.MARKETER)).status_code == 200
