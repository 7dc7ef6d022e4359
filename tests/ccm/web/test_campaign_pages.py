"""The "New campaign" form, the live count's endpoint and a campaign's page, against the real service.

The form is posted as a browser would (urlencoded, with the session's CSRF token); what it creates is read
back through `GET /v1/campaigns/{id}`, so the page and the API are shown to agree.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import csrf_of, sign_in

NEW = "/ui/campaigns/new"
WELCOME_DATA = '{"cta_url": "https://example.com/start"}'


def add_customers(service: Service, cohort: str, count: int) -> list[str]:
    ids = [f"{cohort}-{n}" for n in range(count)]
    for external_id in ids:
        body = {"email": f"{external_id}@example.com", "timezone": "UTC", "attributes": {"cohort": cohort}}
        response = service.client.put(f"/v1/customers/{external_id}", json=body, headers=service.headers())
        assert response.status_code in (200, 201), response.text
    return ids


def save_segment(service: Service, key: str, cohort: str) -> dict[str, Any]:
    rule = {"all": [{"attribute": "cohort", "op": "eq", "value": cohort}]}
    body = {"key": key, "name": f"Cohort {cohort}", "rule": rule}
    response = service.client.post("/v1/segments", json=body, headers=service.headers(Role.MARKETER))
    assert response.status_code == 201, response.text
    return rule


def marketer(service: Service) -> tuple[httpx.Client, str]:
    """The service's client signed in as a marketer, and the CSRF token of the form page."""
    client = service.client
    assert sign_in(client, service.keys[Role.MARKETER]).status_code in (200, 303)
    page = client.get(NEW)
    assert page.status_code == 200, page.text
    return client, csrf_of(page.text)


def form(token: str, **fields: str) -> dict[str, str]:
    values = {"csrf_token": token, "name": "Winter", "template": "welcome", "data": WELCOME_DATA}
    return {**values, **fields}


def api_campaign(service: Service, location: str) -> dict[str, Any]:
    campaign_id = int(location.rsplit("/", 1)[1])
    response = service.client.get(f"/v1/campaigns/{campaign_id}", headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def field_note(html: str, name: str) -> str:
    """The problems shown right after the input (or group) `name`."""
    found = re.search(
        rf'<ul class="field-note preview" data-source="saved" data-for="{name}"(.*?)</ul>', html, re.S
    )
    assert found, f"no note beside {name}"
    return found.group(1)


def test_the_form_lists_published_templates_with_their_category(service: Service) -> None:
    client, _ = marketer(service)
    page = client.get(NEW).text
    assert re.search(r'<option value="welcome"[^>]*>Welcome \(welcome v1\) · marketing</option>', page)
    assert re.search(r'<option value="invoice"[^>]*>.*· transactional</option>', page)
    assert 'value="welcome" data-channels="email" data-defaults="email"' in page
    assert "script-src 'self'" in client.get(NEW).headers["content-security-policy"]


def test_a_saved_segment_with_quiet_hours_and_a_cap_becomes_a_campaign(service: Service) -> None:
    cohort = uuid.uuid4().hex[:8]
    add_customers(service, cohort, 3)
    rule = save_segment(service, f"cohort-{cohort}", cohort)
    client, token = marketer(service)
    fields = {
        "segment_kind": "saved",
        "segment_key": f"cohort-{cohort}",
        "channels": "email",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "cap_messages": "2",
        "cap_hours": "24",
        "throttle_per_minute": "600",
    }
    response = client.post(NEW, data=form(token, **fields), follow_redirects=False)
    assert response.status_code == 303, response.text
    created = api_campaign(service, response.headers["location"])
    assert created["segment"] == rule and created["channels"] == ["email"]
    assert created["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert created["frequency_cap"] == {"max_messages": 2, "period_hours": 24}
    assert created["throttle_per_minute"] == 600 and created["send_at"] is None

    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert f"the rule of saved segment cohort-{cohort}" in page.text
    assert "22:00 to 07:00" in page.text and "at most 2 per 24 h" in page.text
    assert "<h2>Engagement</h2>" in page.text


def test_a_bad_rule_is_refused_beside_the_rule_naming_its_path(service: Service) -> None:
    client, token = marketer(service)
    typed = '{"all": [{"attribute": "plan", "op": "nope", "value": 1}]}'
    response = client.post(NEW, data=form(token, segment_kind="rule", segment=typed, name="Kept name"))
    assert response.status_code == 422
    assert "segment.all[0].op" in field_note(response.text, "segment")
    assert 'value="Kept name"' in response.text  # what was typed stays
    assert "&#34;nope&#34;" in response.text or "&quot;nope&quot;" in response.text

    broken = client.post(NEW, data=form(token, segment_kind="rule", segment='{"all": ['))
    assert broken.status_code == 422
    assert "segment: not JSON" in field_note(broken.text, "segment")


def test_an_unknown_template_is_refused_beside_the_template(service: Service) -> None:
    client, token = marketer(service)
    response = client.post(NEW, data=form(token, template="no-such-template"))
    assert response.status_code == 422
    assert "template &#39;no-such-template&#39; not found" in field_note(response.text, "template")


def test_quiet_hours_must_differ(service: Service) -> None:
    client, token = marketer(service)
    response = client.post(NEW, data=form(token, quiet_start="09:00", quiet_end="09:00"))
    assert response.status_code == 422
    assert "start and end must differ" in field_note(response.text, "quiet_hours")
    half = client.post(NEW, data=form(token, cap_messages="3"))
    assert half.status_code == 422
    assert "frequency_cap.period_hours" in field_note(half.text, "frequency_cap")


def test_a_send_time_is_read_in_the_zone_chosen(service: Service) -> None:
    client, token = marketer(service)
    fields = {"schedule": "at", "send_at": "2031-01-15T09:30", "send_at_zone": "Europe/Rome"}
    response = client.post(NEW, data=form(token, **fields), follow_redirects=False)
    assert response.status_code == 303, response.text
    created = api_campaign(service, response.headers["location"])
    assert created["send_at"].startswith("2031-01-15T08:30:00")  # Rome is UTC+1 in January
    assert created["local_time"] is None

    utc = client.post(
        NEW, data=form(token, schedule="at", send_at="2031-01-15T09:30"), follow_redirects=False
    )
    assert api_campaign(service, utc.headers["location"])["send_at"].startswith("2031-01-15T09:30:00")

    unset = client.post(NEW, data=form(token, schedule="at", send_at=""))
    assert unset.status_code == 422 and "send_at: give a date and time" in field_note(unset.text, "send_at")


def test_a_local_send_time_is_kept_per_recipient(service: Service) -> None:
    client, token = marketer(service)
    fields = {"schedule": "local", "local_time": "09:00", "local_date": "2031-03-02"}
    response = client.post(NEW, data=form(token, **fields), follow_redirects=False)
    assert response.status_code == 303, response.text
    created = api_campaign(service, response.headers["location"])
    assert (created["local_time"], created["local_date"], created["send_at"]) == ("09:00", "2031-03-02", None)
    page = client.get(response.headers["location"]).text
    assert "at 09:00 on 2031-03-02, each recipient's local time" in page

    half = client.post(NEW, data=form(token, schedule="local", local_time="09:00"))
    assert half.status_code == 422
    assert "local_time and local_date go together" in field_note(half.text, "local_date")


def test_only_campaign_writers_may_create_and_only_with_the_token(service: Service) -> None:
    client = service.client
    assert sign_in(client, service.keys[Role.SENDER]).status_code in (200, 303)
    assert client.get(NEW).status_code == 403
    token = csrf_of(client.get("/ui/templates").text)
    assert client.post(NEW, data=form(token)).status_code == 403

    client, token = marketer(service)
    refused = client.post(NEW, data={key: v for key, v in form(token).items() if key != "csrf_token"})
    assert refused.status_code == 403 and "security token" in refused.text
    listed = client.get("/v1/campaigns", headers=service.headers(Role.MARKETER)).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"segment_kind": "all"}, 5),
        ({"segment_kind": "saved", "segment_key": "SAVED"}, 2),
        (
            {
                "segment_kind": "rule",
                "segment": '{"any": [{"attribute": "cohort", "op": "eq", "value": "CO"}]}',
            },
            2,
        ),
    ],
)
def test_the_live_count_counts_as_the_preview_does(
    service: Service, fields: dict[str, str], expected: int
) -> None:
    cohort = uuid.uuid4().hex[:8]
    add_customers(service, "other", 3)
    add_customers(service, cohort, 2)
    save_segment(service, f"s-{cohort}", cohort)
    client, token = marketer(service)
    posted = {k: v.replace("SAVED", f"s-{cohort}").replace("CO", cohort) for k, v in fields.items()}
    answer = client.post("/ui/segments/count", data={"csrf_token": token, **posted})
    assert answer.status_code == 200, answer.text
    preview_body = {"segment_key": posted["segment_key"]} if "segment_key" in posted else {"rule": {}}
    if posted.get("segment_kind") == "rule":
        preview_body = {"rule": {"any": [{"attribute": "cohort", "op": "eq", "value": cohort}]}}
    preview = client.post("/v1/segments:preview", json=preview_body, headers=service.headers(Role.MARKETER))
    assert answer.json() == {"count": preview.json()["count"]} == {"count": expected}


def test_the_live_count_names_what_is_wrong(service: Service) -> None:
    client, token = marketer(service)
    bad = '{"any": [{"attribute": "plan", "op": "eq"}, {"attribute": "x", "op": "bogus", "value": 1}]}'
    answer = client.post(
        "/ui/segments/count", data={"csrf_token": token, "segment_kind": "rule", "segment": bad}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"].startswith("segment.any[")
    assert answer.json()["error"]["message"].startswith("segment.any[")
    missing = client.post(
        "/ui/segments/count", data={"csrf_token": token, "segment_kind": "saved", "segment_key": "nope"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "segment_key"
    assert client.post("/ui/segments/count", data={"segment_kind": "all"}).status_code == 403


def test_the_campaign_page_polls_and_its_buttons_come_back_to_it(service: Service) -> None:
    client, token = marketer(service)
    created = client.post(
        NEW, data=form(token, schedule="at", send_at="2031-01-15T09:30"), follow_redirects=False
    )
    location = created.headers["location"]
    progress = client.get(f"{location}/progress").json()
    assert progress["status"] == "scheduled" and progress["moving"] is True
    assert progress["actions"] == ["pause", "cancel"] and progress["progress"]["targeted"] == 0
    page = client.get(location).text
    paused = client.post(
        f"{location}/pause", data={"csrf_token": csrf_of(page), "back": "campaign"}, follow_redirects=False
    )
    assert paused.status_code == 303 and paused.headers["location"] == location
    assert client.get(f"{location}/progress").json()["moving"] is False
    listing = client.get("/ui/campaigns").text
    assert f'<a href="{location}">Winter</a>' in listing and 'href="/ui/campaigns/new"' in listing
