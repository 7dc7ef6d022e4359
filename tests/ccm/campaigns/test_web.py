"""The campaigns page: progress per campaign and pause/resume/cancel buttons behind CSRF, answered 303."""

from __future__ import annotations

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
