"""The campaigns page: progress per campaign and pause/resume/cancel buttons behind CSRF, answered 303."""

from __future__ import annotations

import re

from ccm.access.models import Role
from tests.ccm.campaigns.conftest import add_customer, campaign, create_campaign, run_fan_out
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import csrf_of, sign_in


def test_campaigns_page_lists_progress_and_pauses(service: Service, promo: str) -> None:
    add_customer(service, "w1")
    created = create_campaign(service, name="Winter sale")
    run_fan_out(service, created["id"])
    client = service.client
    assert sign_in(client, service.keys[Role.MARKETER]).status_code in (200, 303)
    page = client.get("/ui/campaigns")
    assert page.status_code == 200
    assert "Winter sale" in page.text and "queued: 1" in page.text
    action = f"/ui/campaigns/{created['id']}/pause"
    assert client.post(action, data={"csrf_token": "forged"}).status_code == 403
    response = client.post(action, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/campaigns"
    assert campaign(service, created["id"])["status"] == "paused"
    assert "Resume" in client.get("/ui/campaigns").text


def test_campaigns_page_is_for_marketers_and_admins(service: Service) -> None:
    client = service.client
    sign_in(client, service.keys[Role.SENDER])
    assert client.get("/ui/campaigns").status_code == 403


def _offered(page: str, campaign_id: int) -> list[str]:
    """The actions the page offers for one campaign, in order."""
    return re.findall(rf'action="/ui/campaigns/{campaign_id}/(\w+)"', page)


def test_only_actions_that_apply_are_offered(service: Service, promo: str) -> None:
    add_customer(service, "w1")
    finished, cancelled, waiting = (create_campaign(service, name=n)["id"] for n in ("A", "B", "C"))
    run_fan_out(service, finished)
    service.work()  # every message of A is sent: A is completed with nothing left to hold or stop
    run_fan_out(service, waiting)  # C is completed, its one message still queued
    headers = service.headers(Role.MARKETER)
    assert service.client.post(f"/v1/campaigns/{cancelled}/cancel", headers=headers).status_code == 200
    client = service.client
    sign_in(client, service.keys[Role.MARKETER])

    page = client.get("/ui/campaigns").text

    assert campaign(service, finished)["status"] == campaign(service, waiting)["status"] == "completed"
    assert _offered(page, finished) == [] and _offered(page, cancelled) == []
    assert _offered(page, waiting) == ["pause", "cancel"]
    assert page.count('<span class="muted">finished</span>') == 2
    token = csrf_of(page)
    for campaign_id, action in ((finished, "pause"), (cancelled, "resume"), (cancelled, "cancel")):
        stale = client.post(f"/ui/campaigns/{campaign_id}/{action}", data={"csrf_token": token})
        assert stale.status_code == 409 and "no longer applies" in stale.text
    assert campaign(service, finished)["status"] == "completed"

    paused = client.post(f"/ui/campaigns/{waiting}/pause", data={"csrf_token": token}, follow_redirects=False)
    assert paused.status_code == 303
    assert _offered(client.get("/ui/campaigns").text, waiting) == ["resume", "cancel"]
