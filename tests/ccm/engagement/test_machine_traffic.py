"""Honest tracking (`ccm.engagement.machines`, `ccm.engagement.tracking`): link scanners' clicks and image
proxies' opens land on the timeline marked `detail.machine` with their reason, and the customer's engagement
figures count only people's. Every rule is driven through the real `/t/c` and `/t/o` endpoints."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from ccm.communications.models import Message
from ccm.database import session_scope, utcnow
from ccm.engagement.apple_ranges import AddressRanges, parse_csv, ranges_file
from ccm.engagement.cli import load_apple_ranges
from ccm.engagement.links import EngagementLinks
from ccm.engagement.machines import CLICK_RULES, OPEN_RULES, Hit, Judge, Thresholds, first_reason
from ccm.engagement.models import Event
from tests.ccm.conftest import Service, ServiceFactory
from tests.ccm.test_cli import ccm


@pytest.fixture
def service(service_factory: ServiceFactory) -> Service:
    """A burst window of 5 s rather than 1 s: two requests of a loaded test machine still fall inside it."""
    return service_factory(tracking_click_burst_seconds=5)


BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36"
)
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
APPLE_PROXY = "Mozilla/5.0"
WELCOME = {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://example.com/start"}}
APPLE_CSV = "17.58.0.0/16,US,US-CA,Cupertino\n# a comment\n\n2a02:26f7:b3c0::/44,DE,DE-BE,Berlin\n"


def sent(service: Service, *, age_seconds: float = 0) -> str:
    """A welcome email sent to the customer; `age_seconds` moves its sending into the past."""
    response = service.send(WELCOME)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["messages"][0]["id"]
    service.work()
    if age_seconds:
        with session_scope(service.runtime.engine) as session:
            message = session.get(Message, message_id)
            assert message is not None and message.sent_at is not None
            message.sent_at = utcnow() - timedelta(seconds=age_seconds)
    return message_id


def links(service: Service) -> EngagementLinks:
    return EngagementLinks(service.settings.base_url, service.runtime.tokens)


def click_path(service: Service, message_id: str, url: str = "https://example.com/start") -> str:
    return links(service).click_url(message_id, url).removeprefix(service.settings.base_url)


def open_path(service: Service, message_id: str) -> str:
    return links(service).open_url(message_id).removeprefix(service.settings.base_url)


def events(service: Service, kind: str) -> list[dict[str, Any]]:
    response = service.client.get("/v1/customers/c-1/timeline", headers=service.headers())
    assert response.status_code == 200, response.text
    return [e for e in response.json()["events"] if e["type"] == kind]


def engagement(service: Service) -> dict[str, Any]:
    response = service.client.get("/v1/customers/c-1", headers=service.headers())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["engagement"]
    return result


def reasons(service: Service, kind: str) -> list[str | None]:
    """Oldest first: each event's machine reason, None for a person's."""
    found = [
        e["detail"].get("machine_reason") if e["detail"].get("machine") else None
        for e in events(service, kind)
    ]
    return list(reversed(found))


def tracked(service: Service, event: str, judged: str) -> float:
    """The process's `ccm_tracked_total` for one event and judgement (0 before the first)."""
    text = service.client.get("/metrics", headers=service.headers()).text
    line = f'ccm_tracked_total{{event="{event}",judged="{judged}"}} '
    return next((float(row.removeprefix(line)) for row in text.splitlines() if row.startswith(line)), 0.0)


def test_a_head_request_is_answered_200_without_a_redirect_and_is_not_a_human_click(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent(service, age_seconds=600)
    path = click_path(service, message_id)
    probes, people = tracked(service, "clicked", "head_request"), tracked(service, "clicked", "human")

    probe = service.client.head(path, headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert probe.status_code == 200 and "location" not in probe.headers
    assert reasons(service, "clicked") == ["head_request"]
    assert engagement(service)["clicked"] == 0 and engagement(service)["last_clicked_at"] is None

    person = service.client.get(path, headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert person.status_code == 302 and person.headers["location"] == "https://example.com/start"
    assert reasons(service, "clicked") == ["head_request", None]
    assert engagement(service)["clicked"] == 1
    assert tracked(service, "clicked", "head_request") == probes + 1
    assert tracked(service, "clicked", "human") == people + 1


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b",
        "Microsoft Office Existence Discovery",
        "Proofpoint URL Defense",
        "Mimecast URL Protect",
        "Barracuda Sentinel (EE)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "python-requests/2.32.3",
        "",
    ],
)
def test_a_link_scanner_agent_still_gets_its_redirect_but_is_recorded_as_a_machine(
    service: Service, customer: dict[str, Any], agent: str
) -> None:
    message_id = sent(service, age_seconds=600)

    response = service.client.get(
        click_path(service, message_id), headers={"User-Agent": agent}, follow_redirects=False
    )

    assert response.status_code == 302
    assert reasons(service, "clicked") == ["missing_agent" if not agent else "scanner_agent"]
    assert engagement(service)["clicked"] == 0


def test_a_burst_of_different_links_marks_the_clicks_before_it_too(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent(service, age_seconds=600)
    browser = {"User-Agent": BROWSER}

    first = click_path(service, message_id, "https://example.com/a")
    assert service.client.get(first, headers=browser, follow_redirects=False).status_code == 302
    assert reasons(service, "clicked") == [None] and engagement(service)["clicked"] == 1  # looked human

    second = click_path(service, message_id, "https://example.com/b")
    assert service.client.get(second, headers=browser, follow_redirects=False).status_code == 302
    assert reasons(service, "clicked") == ["click_burst", "click_burst"]  # the first one reclassified
    assert engagement(service)["clicked"] == 0


def test_clicks_on_one_link_or_outside_the_window_are_no_burst(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent(service, age_seconds=600)
    browser = {"User-Agent": BROWSER}
    for _ in range(2):  # a double click on the same link is a person's
        service.client.get(click_path(service, message_id), headers=browser, follow_redirects=False)
    with session_scope(service.runtime.engine) as session:
        for event in session.exec(select(Event).where(Event.message_id == message_id)):
            event.occurred_at = utcnow() - timedelta(seconds=30)  # they came long before the next one

    other = click_path(service, message_id, "https://example.com/other")
    service.client.get(other, headers=browser, follow_redirects=False)

    assert reasons(service, "clicked") == [None, None, None]
    assert engagement(service)["clicked"] == 1  # unique: one message clicked


def test_a_click_within_seconds_of_delivery_is_a_scanner_and_a_later_one_a_person(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent(service)  # just sent: inside CCM_TRACKING_CLICK_AFTER_DELIVERY_SECONDS (10)
    path = click_path(service, message_id)

    early = service.client.get(path, headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert early.status_code == 302
    assert reasons(service, "clicked") == ["too_soon_after_delivery"]
    assert engagement(service)["clicked"] == 0

    with session_scope(service.runtime.engine) as session:
        message = session.get(Message, message_id)
        assert message is not None and message.sent_at is not None
        message.sent_at = message.sent_at - timedelta(minutes=5)
    service.client.get(path, headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert reasons(service, "clicked") == ["too_soon_after_delivery", None]
    assert engagement(service)["clicked"] == 1


def test_gmail_image_proxy_opens_are_machine_and_a_browser_open_counts(
    service: Service, customer: dict[str, Any]
) -> None:
    message_id = sent(service, age_seconds=600)
    pixel = service.client.get(open_path(service, message_id), headers={"User-Agent": GMAIL_PROXY})
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    assert reasons(service, "opened") == ["image_proxy:googleimageproxy"]
    assert engagement(service)["opened"] == 0 and engagement(service)["last_opened_at"] is None

    service.client.get(open_path(service, message_id), headers={"User-Agent": BROWSER})
    assert reasons(service, "opened") == ["image_proxy:googleimageproxy", None]
    assert engagement(service)["opened"] == 1


def test_apple_mpp_by_its_traits_an_apple_proxy_agent_soon_after_delivery(
    service: Service, customer: dict[str, Any]
) -> None:
    soon = sent(service)
    service.client.get(open_path(service, soon), headers={"User-Agent": APPLE_PROXY})
    assert reasons(service, "opened") == ["apple_mpp_prefetch"]
    assert engagement(service)["opened"] == 0

    later = sent(service, age_seconds=3600)  # the same agent an hour on: Apple Mail read by a person
    webkit = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    service.client.get(open_path(service, later), headers={"User-Agent": webkit})
    assert reasons(service, "opened") == ["apple_mpp_prefetch", None]
    assert engagement(service)["opened"] == 1


def test_apple_mpp_by_address_once_the_operator_loaded_the_ranges(
    service: Service, customer: dict[str, Any], tmp_path: Path
) -> None:
    message_id = sent(service, age_seconds=3600)
    apple = TestClient(service.client.app, base_url="http://ccm.test", client=("17.58.201.7", 51234))
    other = TestClient(service.client.app, base_url="http://ccm.test", client=("203.0.113.9", 51234))
    apple.get(open_path(service, message_id), headers={"User-Agent": BROWSER})
    assert reasons(service, "opened") == [None]  # no ranges loaded yet: nothing to recognise it by

    csv_file = tmp_path / "egress-ip-ranges.csv"
    csv_file.write_text(APPLE_CSV, encoding="utf-8")
    assert load_apple_ranges(service.settings, argparse.Namespace(file=csv_file)) == 0
    assert ranges_file(service.settings.data_dir).read_text().splitlines() == [
        "17.58.0.0/16",
        "2a02:26f7:b3c0::/44",
    ]

    apple.get(open_path(service, message_id), headers={"User-Agent": BROWSER})
    other.get(open_path(service, message_id), headers={"User-Agent": BROWSER})
    assert reasons(service, "opened") == [None, "apple_mpp_address", None]


def test_a_ranges_file_with_a_bad_line_is_refused_whole(
    service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(APPLE_CSV, encoding="utf-8")
    bad.write_text("17.58.0.0/16,US,,\nnot-a-prefix,US,,\n", encoding="utf-8")
    assert load_apple_ranges(service.settings, argparse.Namespace(file=good)) == 0

    assert load_apple_ranges(service.settings, argparse.Namespace(file=bad)) == 1
    assert "line 2: 'not-a-prefix' is not an IP prefix" in capsys.readouterr().err
    assert len(ranges_file(service.settings.data_dir).read_text().splitlines()) == 2  # the good ones stay


def test_the_command_loads_the_ranges_under_the_data_dir(tmp_path: Path) -> None:
    csv_file = tmp_path / "egress-ip-ranges.csv"
    csv_file.write_text(APPLE_CSV, encoding="utf-8")

    result = ccm(tmp_path / "var", "tracking", "load-apple-ranges", str(csv_file))

    assert result.returncode == 0, result.stderr
    assert "loaded 2 Apple egress ranges" in result.stdout
    assert ranges_file(tmp_path / "var").read_text().splitlines() == ["17.58.0.0/16", "2a02:26f7:b3c0::/44"]
    missing = ccm(tmp_path / "var", "tracking", "load-apple-ranges", str(tmp_path / "absent.csv"))
    assert missing.returncode == 1 and "absent.csv" in missing.stderr


def test_address_ranges_match_inside_and_only_inside_each_range() -> None:
    ranges = AddressRanges.of(parse_csv([*APPLE_CSV.splitlines(), "17.59.0.0/16,US,,", "10.0.0.7,,,"]))
    for inside in ("17.58.0.0", "17.59.255.255", "2a02:26f7:b3c0::", "2a02:26f7:b3cf:ffff::1", "10.0.0.7"):
        assert inside in ranges, inside
    for outside in ("17.57.255.255", "17.60.0.0", "2a02:26f7:b3d0::", "10.0.0.8", "::1", "garbage", ""):
        assert outside not in ranges, outside


def hit(agent: str, *, method: str = "GET", after: float = 600, address: str | None = None) -> Hit:
    now = datetime(2026, 12, 1, 10, 0, 0)
    return Hit(method, agent, address, now, now - timedelta(seconds=after))


JUDGE = Judge(Thresholds(), AddressRanges.of([]))


def test_people_s_agents_are_never_judged_machines() -> None:
    people = [
        BROWSER,
        "Mozilla/5.0 (Linux; Android 10; Cubot Note 20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/17.5 Mobile/15E148 Safari/604.1",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126)",  # Outlook showing images
    ]
    for agent in people:
        assert first_reason(OPEN_RULES, hit(agent, after=5), JUDGE) is None, agent
    for agent in people[:3]:
        assert first_reason(CLICK_RULES, hit(agent), JUDGE) is None, agent
