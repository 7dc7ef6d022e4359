"""Rollback: an older version's content comes back as a new draft, goes live the usual way, sends use it."""

from __future__ import annotations

from typing import Any

from ccm.access.models import Role
from delivery.outbox import read_outbox
from tests.ccm.conftest import Service, publish_reviewed

OTP_DATA = {"code": "4242", "expires_minutes": 5}
V1_TEXT = "Your code is 4242. It expires in 5 minutes. Never share it with anyone."


def _sent_sms(service: Service) -> tuple[dict[str, Any], bytes]:
    """Send the one-time code to the customer, deliver it, and return the message and what went out."""
    response = service.send({"template": "otp", "customer_id": "c-1", "data": OTP_DATA})
    assert response.status_code == 202, response.text
    message_id = response.json()["messages"][0]["id"]
    service.work()
    message = service.message(message_id)
    assert message["status"] == "sent", message
    _, payload = read_outbox(service.settings.outbox_dir, message_id)
    return message, payload


def test_rolling_back_makes_the_old_content_live_again_through_a_new_version(
    service: Service, customer: dict[str, Any]
) -> None:
    headers = service.headers(Role.MARKETER)
    v1 = service.client.get("/v1/templates/otp/versions/1", headers=headers).json()
    body = {"parts": {"sms": {"text": "Code {{ code }}"}}, "sample_data": {"code": "1", "expires_minutes": 1}}
    assert service.client.post("/v1/templates/otp/versions", json=body, headers=headers).status_code == 201
    assert service.client.post("/v1/templates/otp/versions/2/publish", headers=headers).status_code == 200
    message, payload = _sent_sms(service)
    assert message["template_version"] == 2 and b"Code 4242" in payload

    rolled = service.client.post("/v1/templates/otp/rollback", json={"to": 1}, headers=headers)

    assert rolled.status_code == 201, rolled.text
    v3 = rolled.json()
    assert v3["number"] == 3 and v3["status"] == "draft"
    assert v3["parts"] == v1["parts"] and v3["sample_data"] == v1["sample_data"]
    assert v3["checksum"] == v1["checksum"]  # the same content, whatever else versions hold
    assert v3["history"][0]["to_status"] == "draft"
    assert v3["history"][0]["comment"] == "rollback to version 1"
    assert v3["created_by"] == v3["history"][0]["identity"] != "system"
    assert service.client.get("/v1/templates/otp", headers=headers).json()["published_version"] == 2
    message, payload = _sent_sms(service)
    assert message["template_version"] == 2  # a draft changes nothing until it is published

    assert service.client.post("/v1/templates/otp/versions/3/publish", headers=headers).status_code == 200
    message, payload = _sent_sms(service)
    assert message["template_version"] == 3 and V1_TEXT.encode() in payload
    statuses = [
        v["status"] for v in service.client.get("/v1/templates/otp", headers=headers).json()["versions"]
    ]
    assert statuses == ["superseded", "superseded", "published"]
    v1_again = service.client.get("/v1/templates/otp/versions/1", headers=headers).json()
    assert v1_again["parts"] == v1["parts"] and v1_again["status"] == "superseded"


def test_a_rolled_back_marketing_version_is_reviewed_like_any_other(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    body = {"parts": {"sms": {"text": "New look, {{ customer.first_name }}"}}}
    assert (
        service.client.post("/v1/templates/welcome/versions", json=body, headers=headers).status_code == 201
    )
    publish_reviewed(service, "welcome", 2)

    rolled = service.client.post("/v1/templates/welcome/rollback", json={"to": 1}, headers=headers)
    assert rolled.status_code == 201 and rolled.json()["number"] == 3
    refused = service.client.post("/v1/templates/welcome/versions/3/publish", headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"
    own = service.client.post("/v1/templates/welcome/versions/3/submit", headers=headers)
    assert own.status_code == 200
    self_approval = service.client.post("/v1/templates/welcome/versions/3/approve", headers=headers)
    assert self_approval.status_code == 403 and self_approval.json()["error"]["code"] == "four_eyes"
    approved = service.client.post(
        "/v1/templates/welcome/versions/3/approve", headers=service.reviewer_headers()
    )
    assert approved.status_code == 200
    published = service.client.post("/v1/templates/welcome/versions/3/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_rolling_back_to_an_unknown_version_is_refused(service: Service) -> None:
    headers = service.headers(Role.MARKETER)
    missing = service.client.post("/v1/templates/otp/rollback", json={"to": 7}, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "version_not_found"
    unknown = service.client.post("/v1/templates/nope/rollback", json={"to": 1}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "template_not_found"
    for body in ({}, {"to": 0}, {"to": "one"}, {"to": 1, "parts": {}}):
        assert (
            service.client.post("/v1/templates/otp/rollback", json=body, headers=headers).status_code == 422
        )
    reader = service.client.post(
        "/v1/templates/otp/rollback", json={"to": 1}, headers=service.headers(Role.SENDER)
    )
    assert reader.status_code == 403
    assert len(service.client.get("/v1/templates/otp", headers=headers).json()["versions"]) == 1
