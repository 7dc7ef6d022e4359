"""`GET /v1/analytics` over real sends: the worker's `sent` events, opens and clicks through the real
tracking endpoints (a proxy's open and a scanner's click left out), provider outcomes and survey answers
recorded as the engagement code records them. The same figures on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from ccm.access.models import Role
from ccm.analytics.figures import analytics
from ccm.analytics.window import AnalyticsQuery
from ccm.communications.models import Message
from ccm.database import session_scope, utcnow
from ccm.engagement.feedback import record_answer
from ccm.engagement.links import EngagementLinks
from ccm.engagement.models import Event, EventType
from ccm.engagement.service import record_message_event
from tests.ccm.campaigns.conftest import add_customer, create_campaign, promo, run_fan_out
from tests.ccm.conftest import INVOICE, WELCOME, Service, send

__all__ = ["promo"]  # the published marketing template of the campaign tests

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
SCANNER = "curl/8.5.0"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def report(service: Service, **params: Any) -> dict[str, Any]:
    response = service.client.get("/v1/analytics", params=params, headers=service.headers(Role.MARKETER))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def tracked(service: Service, message_id: str, kind: str, agent: str) -> None:
    """An open (`o`) or a click (`c`) through the public tracking endpoint, as `agent` makes it."""
    links = EngagementLinks(service.settings.base_url, service.runtime.tokens)
    url = links.open_url(message_id) if kind == "o" else links.click_url(message_id, "https://example.com/go")
    path = url.removeprefix(service.settings.base_url)
    response = service.client.get(path, headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code in (200, 302), response.text


def outcomes(service: Service, recorded: list[tuple[str, EventType]], answers: dict[str, int]) -> None:
    """Provider outcomes and NPS answers on the messages, recorded as the webhooks and survey page do."""
    with session_scope(service.runtime.engine) as session:
        for message_id, kind in recorded:
            message = session.get(Message, message_id)
            assert message is not None
            record_message_event(session, message, kind)
        for message_id, score in answers.items():
            message = session.get(Message, message_id)
            assert message is not None
            record_answer(session, message, "nps", score, "", "email")


def age(service: Service, message_ids: list[str], seconds: float) -> None:
    """Move the sending into the past, so a person's click is not taken for a gateway's scan at delivery."""
    with session_scope(service.runtime.engine) as session:
        for message in session.exec(select(Message).where(col(Message.id).in_(message_ids))).all():
            message.sent_at = utcnow() - timedelta(seconds=seconds)


def move_event(service: Service, message_id: str, kind: EventType, days: int) -> None:
    with session_scope(service.runtime.engine) as session:
        statement = select(Event).where(Event.message_id == message_id, Event.type == kind)
        for event in session.exec(statement).all():
            event.occurred_at = event.occurred_at - timedelta(days=days)


@pytest.fixture
def sends(service: Service, customer: dict[str, Any]) -> dict[str, str]:
    """Three welcome emails (a, b, c) and an invoice (d), sent by the worker, then engaged with.

    a: opened and clicked by a person, delivered, complained, promoter (10). b: delivered, opened only by
    Gmail's image proxy, sent two days ago. c: clicked only by a scanner, bounced. d: unsubscribed,
    detractor (3).
    """
    welcome = {**WELCOME, "channels": ["email"]}
    ids = {name: send(service, welcome, key=f"analytics-{name}") for name in "abc"}
    ids["d"] = send(service, INVOICE, key="analytics-d")
    assert service.work() == 4
    age(service, list(ids.values()), 600)
    tracked(service, ids["a"], "o", BROWSER)
    tracked(service, ids["a"], "o", BROWSER)  # read twice: one unique open
    tracked(service, ids["a"], "c", BROWSER)
    tracked(service, ids["b"], "o", GMAIL_PROXY)
    tracked(service, ids["c"], "c", SCANNER)
    outcomes(
        service,
        [
            (ids["a"], EventType.DELIVERED),
            (ids["b"], EventType.DELIVERED),
            (ids["c"], EventType.BOUNCED),
            (ids["a"], EventType.COMPLAINED),
            (ids["d"], EventType.UNSUBSCRIBED),
        ],
        {ids["a"]: 10, ids["d"]: 3},
    )
    move_event(service, ids["b"], EventType.SENT, days=2)
    return ids


def test_figures_per_template_count_people_once_per_message(service: Service, sends: dict[str, str]) -> None:
    figures = report(service, group_by="template")
    groups = {group["key"]: group for group in figures["groups"]}
    assert list(groups) == ["invoice", "welcome"]
    welcome, invoice = groups["welcome"], groups["invoice"]
    assert (welcome["sent"], welcome["delivered"], welcome["bounced"], welcome["complaints"]) == (3, 2, 1, 1)
    assert (welcome["unique_opens"], welcome["unique_clicks"], welcome["unsubscribes"]) == (1, 1, 0)
    assert welcome["open_rate"] == welcome["click_rate"] == round(1 / 3, 4)
    assert welcome["click_to_open"] == 1.0
    assert welcome["nps"] == {"score": 100.0, "responses": 1, "promoters": 1, "passives": 0, "detractors": 0}
    assert (invoice["sent"], invoice["unsubscribes"], invoice["unique_opens"]) == (1, 1, 0)
    assert invoice["click_to_open"] is None
    assert invoice["nps"]["score"] == -100.0 and invoice["nps"]["detractors"] == 1
    totals = figures["totals"]
    assert (totals["sent"], totals["unique_opens"], totals["unique_clicks"], totals["bounced"]) == (
        4,
        1,
        1,
        1,
    )
    assert totals["open_rate"] == 0.25 and totals["click_to_open"] == 1.0
    assert totals["nps"] == {"score": 0.0, "responses": 2, "promoters": 1, "passives": 0, "detractors": 1}


def test_machine_opens_and_clicks_stay_out_though_they_are_on_the_timeline(
    service: Service, sends: dict[str, str]
) -> None:
    with session_scope(service.runtime.engine) as session:
        machine = session.exec(select(Event).where(col(Event.message_id).in_([sends["b"], sends["c"]]))).all()
        assert {(e.type, e.detail.get("machine")) for e in machine} >= {("opened", True), ("clicked", True)}
    only_machines = report(service, template="welcome", group_by="template")["totals"]
    assert (only_machines["unique_opens"], only_machines["unique_clicks"]) == (1, 1)  # a's alone


def test_the_daily_series_has_every_day_of_the_range_with_zeros(
    service: Service, sends: dict[str, str]
) -> None:
    first = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
    daily = report(service, **{"from": first, "to": today()})["daily"]
    assert daily[0]["day"] == first and daily[-1]["day"] == today() and len(daily) == 7
    by_day = {day["day"]: day for day in daily}
    two_days_ago = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    assert by_day[two_days_ago] == {
        "day": two_days_ago,
        "sent": 1,
        "delivered": 0,
        "unique_opens": 0,
        "unique_clicks": 0,
        "bounced": 0,
        "unsubscribes": 0,
    }
    now = by_day[today()]
    assert [
        now[k] for k in ("sent", "delivered", "unique_opens", "unique_clicks", "bounced", "unsubscribes")
    ] == [
        3,
        2,
        1,
        1,
        1,
        1,
    ]
    quiet = [day for name, day in by_day.items() if name not in (today(), two_days_ago)]
    assert len(quiet) == 5 and all(sum(v for k, v in day.items() if k != "day") == 0 for day in quiet)
    assert report(service)["daily"][-1]["day"] == today() and len(report(service)["daily"]) == 30


def test_group_by_channel_and_provider_and_filters(service: Service, sends: dict[str, str]) -> None:
    with session_scope(service.runtime.engine) as session:
        providers = {m.provider for m in session.exec(select(Message)).all()}
    assert len(providers) == 1 and None not in providers
    (provider,) = providers
    by_channel = report(service, group_by="channel")["groups"]
    assert [(g["key"], g["sent"], g["unique_opens"]) for g in by_channel] == [("email", 4, 1)]
    by_provider = report(service, group_by="provider")["groups"]
    assert [(g["key"], g["label"], g["sent"]) for g in by_provider] == [(provider, provider, 4)]
    assert report(service, template="invoice")["totals"]["sent"] == 1
    assert report(service, provider=provider, channel="email")["totals"]["sent"] == 4
    nothing = report(service, channel="sms")
    assert nothing["groups"] == [] and nothing["totals"]["sent"] == 0 and nothing["totals"]["nps"] is None
    assert report(service, campaign="", template="")["totals"]["sent"] == 4  # a blank filter is no filter


def test_group_by_campaign_names_each_campaign(service: Service, promo: str) -> None:
    for name in ("ann", "bob"):
        add_customer(service, name)
    created = create_campaign(service, name='=HYPERLINK("http://x")')
    run_fan_out(service, created["id"])
    assert service.work() == 2
    groups = report(service, group_by="campaign")["groups"]
    assert [(g["key"], g["label"], g["sent"]) for g in groups] == [(created["id"], created["name"], 2)]
    assert report(service, campaign=created["id"] + 1)["totals"]["sent"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"group_by": "customer"}, "group_by"),
        ({"campaign": "0"}, "campaign"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_parameter(
    service: Service, params: dict[str, str], field: str
) -> None:
    for path in ("/v1/analytics", "/v1/analytics.csv"):
        response = service.client.get(path, params=params, headers=service.headers())
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field


def test_366_days_are_allowed_and_a_sender_may_not_read(service: Service) -> None:
    figures = report(service, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert len(figures["daily"]) == 366 and figures["totals"]["sent"] == 0
    response = service.client.get("/v1/analytics", headers=service.headers(Role.SENDER))
    assert response.status_code == 403


def test_a_day_is_a_utc_day_whatever_the_database_session_time_zone(
    service: Service, sends: dict[str, str]
) -> None:
    """The delivery of a at 23:59:59 UTC two days ago counts on that day, also on a PostgreSQL session
    whose time zone (UTC+14) already calls it the next day."""
    day = datetime.now(UTC).date() - timedelta(days=2)
    late = datetime.combine(day, datetime.max.time().replace(microsecond=0), tzinfo=UTC)
    with session_scope(service.runtime.engine) as session:
        event = session.exec(
            select(Event).where(Event.message_id == sends["a"], Event.type == EventType.DELIVERED)
        ).one()
        event.occurred_at = late
    query = AnalyticsQuery(day - timedelta(days=1), day + timedelta(days=1))
    with session_scope(service.runtime.engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.exec(text("SET TIME ZONE 'Pacific/Kiritimati'"))  # type: ignore[call-overload]
        daily = {d.day: d.delivered for d in analytics(session, query).daily}
    assert daily == {day - timedelta(days=1): 0, day: 1, day + timedelta(days=1): 0}
