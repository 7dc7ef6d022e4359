"""The review on the template page: buttons by role and state, the diff against the live version, the
history, and the forms behind the buttons (four-eyes holds in the browser too)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import csrf_of, sign_in


def _client(service: Service, key: str) -> TestClient:
    """A browser of its own, signed in with `key` (the service's client keeps the API's)."""
    client = TestClient(service.client.app, follow_redirects=False)
    sign_in(client, key)
    return client


def _draft_welcome(service: Service) -> None:
    body = {"parts": {"sms": {"text": "New: hi {{ customer.first_name }}"}}}
    created = service.client.post(
        "/v1/templates/welcome/versions", json=body, headers=service.headers(Role.MARKETER)
    )
    assert created.status_code == 201, created.text


def _submitted_welcome(service: Service) -> None:
    """Version 2 of `welcome`, drafted and submitted by the marketer through the API, awaiting review."""
    _draft_welcome(service)
    submitted = service.client.post(
        "/v1/templates/welcome/versions/2/submit", headers=service.headers(Role.MARKETER)
    )
    assert submitted.status_code == 200, submitted.text


def test_a_marketing_draft_is_submitted_approved_by_another_and_published(service: Service) -> None:
    _draft_welcome(service)
    author = _client(service, service.keys[Role.MARKETER])
    page = author.get("/ui/templates/welcome?version=2").text
    assert "Submit v2 for review" in page and "Publish v2" not in page and "Approve v2" not in page
    assert "From the live v1 to v2:" in page and "sms.text" in page
    assert '<span class="diff-add">+New: hi {{ customer.first_name }}</span>' in page
    assert "saved as" in page and "test marketer" in page  # the history names the author's key

    submitted = author.post("/ui/templates/welcome/versions/2/submit", data={"csrf_token": csrf_of(page)})
    assert submitted.status_code == 303
    page = author.get("/ui/templates/welcome?version=2").text
    assert "Approve v2" not in page and "Awaiting review by a marketer or admin other than you" in page
    own = author.post("/ui/templates/welcome/versions/2/approve", data={"csrf_token": csrf_of(page)})
    assert own.status_code == 403 and "someone else must review it" in own.text

    reviewer = _client(service, service.keys[Role.ADMIN])
    page = reviewer.get("/ui/templates/welcome?version=2").text
    assert "Approve v2" in page and "Reject v2" in page
    approved = reviewer.post(
        "/ui/templates/welcome/versions/2/approve", data={"csrf_token": csrf_of(page), "comment": "ship it"}
    )
    assert approved.status_code == 303

    page = author.get("/ui/templates/welcome?version=2").text
    assert "Publish v2" in page and "ship it" in page and "test admin" in page
    published = author.post("/ui/templates/welcome/versions/2/publish", data={"csrf_token": csrf_of(page)})
    assert published.status_code == 303
    page = author.get("/ui/templates/welcome?version=2").text
    assert "v2 is the live version." in page


def test_a_rejection_needs_a_reason_and_is_shown(service: Service) -> None:
    _submitted_welcome(service)
    reviewer = _client(service, service.keys[Role.ADMIN])
    page = reviewer.get("/ui/templates/welcome?version=2").text
    no_reason = reviewer.post("/ui/templates/welcome/versions/2/reject", data={"csrf_token": csrf_of(page)})
    assert no_reason.status_code == 400
    rejected = reviewer.post(
        "/ui/templates/welcome/versions/2/reject", data={"csrf_token": csrf_of(page), "comment": "too pushy"}
    )
    assert rejected.status_code == 303
    page = reviewer.get("/ui/templates/welcome?version=2").text
    assert "too pushy" in page and "save the corrections as a new draft" in page
    assert "Approve v2" not in page and "Submit v2" not in page


def test_an_older_version_is_rolled_back_from_its_page(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    body = {"parts": {"sms": {"text": "Code {{ code }}"}}, "sample_data": {"code": "1", "expires_minutes": 1}}
    assert service.client.post("/v1/templates/otp/versions", json=body, headers=headers).status_code == 201
    assert service.client.post("/v1/templates/otp/versions/2/publish", headers=headers).status_code == 200
    author = _client(service, service.keys[Role.MARKETER])
    page = author.get("/ui/templates/otp?version=1").text
    assert "Roll back to v1 (as a new draft)" in page and "superseded" in page

    rolled = author.post("/ui/templates/otp/rollback", data={"csrf_token": csrf_of(page), "to": "1"})

    assert rolled.status_code == 303 and rolled.headers["location"] == "/ui/templates/otp?version=3"
    page = author.get("/ui/templates/otp?version=3").text
    assert "rollback to version 1" in page and "Publish v3" in page  # transactional: no review needed
    assert "-Code {{ code }}" in page  # the diff against the live v2


def test_readers_get_no_buttons(service: Service) -> None:
    _submitted_welcome(service)
    reader = _client(service, service.keys[Role.COMPLIANCE])
    page = reader.get("/ui/templates/welcome?version=2").text
    assert 'id="history"' in page and "From the live v1 to v2:" in page
    for button in ("Submit v2", "Approve v2", "Reject v2", "Publish v2", "Roll back"):
        assert button not in page
