"""The customer-facing endpoints (`ccm.web.public`): tracked clicks, the open pixel and one-click
unsubscribes, from the sent email back onto the customer record; a tampered or foreign token is a 404."""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

from tests.ccm.conftest import Service

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
    body, tag = local(click_url).removeprefix("/t/c/").split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for path in (
        f"/t/c/{forged_body}.{tag}",
        f"/t/c/{body}.{tag[:-1]}x",
        f"/t/c/{body}",
        "/t/c/not-a-token-at-all",
        f"/u/{body}.{tag}",  # a click token is not an unsubscribe token
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
