"""The pages a customer reads follow their locale: the unsubscribe page and an unavailable document's page
in English, Italian or German (regional locales fall back to their language, others to English)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ccm.engagement.tokens import TokenPurpose
from tests.ccm.conftest import INVOICE_DATA, Service
from tests.ccm.web.test_public import local, sent_welcome


def customer_in(service: Service, locale: str) -> None:
    body = {
        "email": "c1@example.com",
        "locale": locale,
        "attributes": {"first_name": "Kim", "last_name": "Lee"},
    }
    response = service.client.put("/v1/customers/c-1", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(
    ("locale", "lang", "ask", "button"),
    [
        ("it", "it", "Vuoi annullare l'iscrizione?", "Annulla l'iscrizione"),
        ("de_CH", "de", "Abmelden?", "Abmelden"),
        ("fr", "en", "Unsubscribe?", "Unsubscribe"),
    ],
)
def test_the_unsubscribe_page_speaks_the_customers_language(
    service: Service, locale: str, lang: str, ask: str, button: str
) -> None:
    customer_in(service, locale)
    _, message = sent_welcome(service)
    url = local(str(message["List-Unsubscribe"]).strip().strip("<>"))

    page = service.client.get(url)

    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert f"<h1>{ask}</h1>" in page.text and f">{button}</button>" in page.text
    assert "<strong>c1@example.com</strong>" in page.text
    done = service.client.post(url, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200 and f'<html lang="{lang}">' in done.text


def test_an_expired_document_link_tells_a_browser_in_the_customers_language(service: Service) -> None:
    customer_in(service, "it_CH")
    body = {"template": "invoice", "customer_id": "c-1", "data": INVOICE_DATA, "channels": ["pdf"]}
    response = service.send(body, key="doc")
    assert response.status_code == 202, response.text
    message_id = response.json()["messages"][0]["id"]
    service.work()
    token = service.runtime.tokens.sign(TokenPurpose.DOCUMENT, {"m": message_id, "exp": int(time.time()) - 1})

    browser: Any = service.client.get(f"/d/{token}", headers={"Accept": "text/html,application/xhtml+xml"})
    api = service.client.get(f"/d/{token}")

    assert browser.status_code == 410
    assert "Questo link al documento è scaduto" in browser.text and '<html lang="it">' in browser.text
    assert api.status_code == 410 and api.json()["error"]["code"] == "link_expired"
