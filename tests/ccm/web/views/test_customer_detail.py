"""The customer page shows the profile: people's opens and clicks with their rates (a proxy's open left
out), the consent history newest first with its sources, and the saved segments the customer is in."""

from __future__ import annotations

import re
from typing import Any

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.engagement.test_machine_traffic import BROWSER, GMAIL_PROXY, open_path, sent
from tests.ccm.web.conftest import sign_in


def consent_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(channel, topic, state, source) of each consent history row, top to bottom."""
    section = page.split('id="consent-history"', 1)[1].split("</section>", 1)[0]
    return re.findall(
        r'<td data-label="Time" class="nowrap">[^<]*</td>\s*'
        r'<td data-label="Channel">([^<]*)</td>\s*<td data-label="Topic">([^<]*)</td>\s*'
        r'<td data-label="State"><span[^>]*>([^<]*)</span></td>\s*'
        r'<td data-label="Source"><code>([^<]*)</code>',
        section,
    )


def test_the_record_shows_metrics_consent_history_and_segments(
    service: Service, customer: dict[str, Any]
) -> None:
    marketer = service.headers(Role.MARKETER)
    topic = {"key": "offers", "name": "Offers", "channels": ["email"]}
    assert service.client.post("/v1/topics", json=topic, headers=marketer).status_code == 201
    for consents, source in (
        ([{"channel": "email", "state": "revoked"}], "crm"),
        ([{"channel": "email", "topic": "offers", "state": "revoked"}], "preference-centre"),
        ([{"channel": "email", "state": "granted"}], "api"),
    ):
        body = {"consents": consents, "source": source}
        response = service.client.put("/v1/customers/c-1/consent", json=body, headers=service.headers())
        assert response.status_code == 200, response.text
    segment = {"key": "openers", "name": "Recent openers", "rule": {"engagement": {"event": "opened"}}}
    assert service.client.post("/v1/segments", json=segment, headers=marketer).status_code == 201
    proxied, read = sent(service, age_seconds=600), sent(service, age_seconds=600)
    service.client.get(open_path(service, proxied), headers={"User-Agent": GMAIL_PROXY})
    sign_in(service.client, service.keys[Role.COMPLIANCE])
    before = service.client.get("/ui/customers/c-1").text
    assert "In no saved segment." in before  # a proxy's open makes nobody an opener
    assert re.search(r'data-days="30">opened 0%, clicked 0% <span class="muted">of 2 sent emails', before)

    service.client.get(open_path(service, read), headers={"User-Agent": BROWSER})
    page = service.client.get("/ui/customers/c-1").text
    assert re.search(r'data-days="30">opened 50%, clicked 0% <span class="muted">of 2 sent emails', page)
    assert re.search(r"<dt>Last human open</dt><dd>[^<]+ <code>welcome</code></dd>", page)
    assert "<dt>Last human click</dt><dd>—</dd>" in page
    assert consent_rows(page) == [
        ("email", "whole channel", "granted", "api"),
        ("email", "offers", "revoked", "preference-centre"),
        ("email", "whole channel", "revoked", "crm"),
    ]
    assert "<li><code>openers</code> Recent openers</li>" in page


def test_a_record_without_history(service: Service, customer: dict[str, Any]) -> None:
    sign_in(service.client, service.keys[Role.COMPLIANCE])
    page = service.client.get("/ui/customers/c-1").text
    assert "No change recorded: opted in to marketing by default." in page
    assert '<span class="muted">no email sent</span>' in page
    assert service.client.get("/ui/customers/nobody").status_code == 404
