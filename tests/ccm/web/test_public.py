"""The customer-facing endpoints (`ccm.web.public`): tracked clicks, the open pixel and one-click
unsubscribes, from the sent email back onto the customer record; a tampered or foreign token is a 404.
Document links are archive data: only some roles get them, they expire, die with erasure, and are audited."""

from __future__ import annotations

import email
import re
import time
from datetime import timedelta
from email import policy
from typing import Any

import pytest

from ccm.access.models import Role
from ccm.archiving.service import find_entry
from ccm.communications.models import Message
from ccm.database import session_scope, utcnow
from ccm.engagement.tokens import TokenPurpose
from tests.ccm.conftest import INVOICE_DATA, Service, ServiceFactory

WELCOME = {
    "template": "welcome",
    "customer_id": "c-1",
    "data": {"cta_url": "https://example.com/start?src=mail&x=1"},
}


def sent_welcome(service: Service) -> tuple[str, email.message.EmailMessage]:
    response = service.send(WELCOME, key="welcome-1")
    assert response.status_code == 202, response.text
    message_id = response.json()["messages"][0]["id"]
    service.work()
    raw = (service.settings.outbox_dir / f"{message_id}.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return message_id, parsed


def local(url: str) -> str:
    assert url.startswith("http://ccm.test/")
    return url.removeprefix("http://ccm.test")


def html_of(message: email.message.EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    content: str = body.get_content()
    return content


def summary(service: Service) -> dict[str, Any]:
    response = service.client.get("/v1/customers/c-1", headers=service.headers())
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_tracked_click_redirects_to_the_original_url_and_lands_on_the_customer(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id, message = sent_welcome(service)
    with session_scope(service.runtime.engine) as session:  # read a while after delivery, as people do
        sent = session.get(Message, message_id)
        assert sent is not None and sent.sent_at is not None
        sent.sent_at -= timedelta(minutes=5)
    html = html_of(message)
    assert "https://example.com/start" not in html  # every http(s) link is rewritten
    [click_url] = re.findall(r'href="(http://ccm\.test/t/c/[^"]+)"', html)

    response = service.client.get(local(click_url), follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/start?src=mail&x=1"

    [pixel_url] = re.findall(r'src="(http://ccm\.test/t/o/[^"]+)"', html)
    pixel = service.client.get(local(pixel_url))
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"

    record = summary(service)
    assert record["engagement"]["clicked"] == 1
    assert record["engagement"]["opened"] == 1
    assert record["engagement"]["sent"] == 1
    assert record["engagement"]["last_clicked_at"] is not None
    timeline = service.client.get("/v1/customers/c-1/timeline", headers=service.headers()).json()["events"]
    kinds = [event["type"] for event in timeline]
    assert kinds[:2] == ["opened", "clicked"]
    assert {"queued", "archived", "sent"} <= set(kinds)
    clicked = next(event for event in timeline if event["type"] == "clicked")
    assert clicked["message_id"] == message_id
    assert clicked["detail"]["url"] == "https://example.com/start?src=mail&x=1"


def test_tampered_or_foreign_tokens_never_redirect(service: Service, customer: dict[str, Any]) -> None:
    _, message = sent_welcome(service)
    [click_url] = re.findall(r'href="(http://ccm\.test/t/c/[^"]+)"', html_of(message))
    key_id, body, tag = local(click_url).removeprefix("/t/c/").split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for path in (
        f"/t/c/{key_id}.{forged_body}.{tag}",
        f"/t/c/{key_id}.{body}.{tag[:-1]}x",
        f"/t/c/{key_id}.{body}",
        f"/t/c/{body}.{tag}",  # without its key id, it is checked as a token from before key ids
        f"/t/c/other.{body}.{tag}",
        "/t/c/not-a-token-at-all",
        f"/u/{key_id}.{body}.{tag}",  # a click token is not an unsubscribe token
    ):
        response = service.client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert "location" not in response.headers
    assert summary(service)["engagement"]["clicked"] == 0


def test_one_click_unsubscribe_is_idempotent_and_honoured_by_later_sends(
    service: Service, customer: dict[str, Any]
) -> None:
    _, message = sent_welcome(service)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert f'href="{unsubscribe_url}"' in html_of(message)  # the visible link is the same signed URL

    page = service.client.get(local(unsubscribe_url))
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert summary(service)["consent"]["unsubscribed_channels"] == []  # a GET (link scanner) changes nothing

    first = service.client.post(
        local(unsubscribe_url),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert first.status_code == 200
    again = service.client.post(
        local(unsubscribe_url), files={"List-Unsubscribe": (None, "One-Click")}, follow_redirects=False
    )
    assert again.status_code == 200

    record = summary(service)
    assert record["consent"]["unsubscribed_channels"] == ["email"]
    timeline = service.client.get("/v1/customers/c-1/timeline", headers=service.headers()).json()["events"]
    assert [e["type"] for e in timeline].count("unsubscribed") == 1

    refused = service.send(WELCOME, key="welcome-2")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unsubscribed"
    invoice_still_allowed = service.send(
        {"template": "otp", "customer_id": "c-1", "data": {"code": "1", "expires_minutes": 5}},
        key="otp-after",
    )
    assert invoice_still_allowed.status_code == 202


def sent_document(service: Service) -> str:
    """An invoice sent on the `pdf` channel alone (archived, printed to the outbox); its message id."""
    body = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["pdf"]}
    response = service.send(body, key="invoice-pdf")
    assert response.status_code == 202, response.text
    message_id = str(response.json()["messages"][0]["id"])
    service.work()
    return message_id


def document_path(service: Service, message_id: str, role: Role = Role.ADMIN) -> str:
    response = service.client.get(f"/v1/messages/{message_id}", headers=service.headers(role))
    assert response.status_code == 200, response.text
    return local(response.json()["document_url"])


def document_token(service: Service, payload: dict[str, Any]) -> str:
    """A genuinely signed document token with any payload: the way to make old or expired links."""
    return f"/d/{service.runtime.tokens.sign(TokenPurpose.DOCUMENT, payload)}"


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def document_audit(service: Service) -> list[dict[str, Any]]:
    response = service.client.get("/v1/audit?action=document", headers=service.headers())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize(
    ("role", "linked"),
    [(Role.SENDER, True), (Role.COMPLIANCE, True), (Role.ADMIN, True), (Role.MARKETER, False)],
)
def test_document_url_goes_to_roles_that_send_or_keep_the_archive_not_marketers(
    service: Service, customer: dict[str, Any], role: Role, linked: bool
) -> None:
    message_id = sent_document(service)

    response = service.client.get(f"/v1/messages/{message_id}", headers=service.headers(role))

    assert response.status_code == 200, response.text
    message = response.json()
    assert message["archive"]["content_type"] == "application/pdf"
    assert (message["document_url"] is not None) is linked
    if linked:
        assert message["document_url"].startswith("http://ccm.test/d/")


def test_every_document_fetch_is_audited_with_the_view_event(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent_document(service)
    path = document_path(service, message_id, Role.SENDER)

    for _ in range(2):
        fetched = service.client.get(path)
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/pdf"

    records = document_audit(service)
    assert len(records) == 2
    assert all(r["message_ids"] == [message_id] for r in records)
    assert all(r["actor"] == "customer-link" and r["role"] == "customer-link" for r in records)
    assert records[0]["query"] == {"template": "invoice"}
    verified = service.client.get("/v1/audit/verify", headers=service.headers()).json()
    assert verified["ok"], verified
    events = [e["type"] for e in service.message(message_id)["events"]]
    assert events.count("document_viewed") == 2


def test_a_new_link_carries_an_expiry_of_the_configured_days(service_factory: ServiceFactory) -> None:
    service = service_factory(document_link_days=7)
    body = {"email": "ada@example.com", "attributes": {"first_name": "Ada", "last_name": "Lovelace"}}
    created = service.client.put("/v1/customers/c-1", json=body, headers=service.headers())
    assert created.status_code == 201, created.text
    message_id = sent_document(service)

    token = document_path(service, message_id).removeprefix("/d/")

    payload = service.runtime.tokens.verify(TokenPurpose.DOCUMENT, token)
    assert payload is not None and payload["m"] == message_id
    assert abs(payload["exp"] - (time.time() + 7 * 86_400)) < 60


def test_an_expired_link_is_410_link_expired_and_not_audited(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent_document(service)
    expired = document_token(service, {"m": message_id, "exp": int(time.time()) - 1})
    current = document_token(service, {"m": message_id, "exp": int(time.time()) + 3600})

    response = service.client.get(expired)

    assert response.status_code == 410 and error_code(response) == "link_expired"
    assert document_audit(service) == []
    assert service.client.get(current).status_code == 200


def test_a_link_signed_before_expiry_existed_counts_from_the_message_creation(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent_document(service)
    legacy = document_token(service, {"m": message_id})
    assert service.client.get(legacy).status_code == 200

    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.created_at = utcnow() - timedelta(days=91)  # the default CCM_DOCUMENT_LINK_DAYS is 90
        session.add(message)

    response = service.client.get(legacy)
    assert response.status_code == 410 and error_code(response) == "link_expired"


def test_the_link_of_an_erased_customer_is_410_gone_and_its_printed_copy_deleted(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent_document(service)
    path = document_path(service, message_id)
    assert (service.settings.outbox_dir / f"{message_id}.pdf").exists()

    erased = service.client.post("/v1/customers/c-1/erase", headers=service.headers())
    assert erased.status_code == 200, erased.text

    response = service.client.get(path)
    assert response.status_code == 410 and error_code(response) == "gone"
    assert not (service.settings.outbox_dir / f"{message_id}.pdf").exists()
    assert document_audit(service) == []


def test_a_purged_document_is_410_gone(service: Service, customer: dict[str, Any]) -> None:
    message_id = sent_document(service)
    path = document_path(service, message_id)
    with session_scope(service.runtime.engine) as session:
        entry = find_entry(session, message_id)
        assert entry is not None
        entry.purged_at = utcnow()  # what the purge records at the end of retention
        session.add(entry)

    response = service.client.get(path)

    assert response.status_code == 410 and error_code(response) == "gone"


def test_a_forged_or_altered_document_link_is_a_plain_404(service: Service, customer: dict[str, Any]) -> None:
    message_id = sent_document(service)
    signed, _, tag = document_path(service, message_id).removeprefix("/d/").rpartition(".")
    forged = signed[:-2] + ("AA" if signed[-2:] != "AA" else "BB")  # the end of the payload changed
    other_tag = tag[:-1] + ("x" if tag[-1] != "x" else "y")
    click = service.runtime.tokens.sign(TokenPurpose.CLICK, {"m": message_id, "exp": 2**40})
    for path in (
        f"/d/{forged}.{tag}",
        f"/d/{signed}.{other_tag}",
        f"/d/{click}",  # a click token is not a document token
        document_token(service, {"m": "no-such-message"}),
    ):
        response = service.client.get(path)
        assert response.status_code == 404, path
        assert error_code(response) == "link_not_found"
    assert document_audit(service) == []
