"""Due times: local send time per recipient, quiet hours, throttle; and the frequency cap."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ccm.campaigns.timing import outside_quiet_hours, throttled
from tests.ccm.campaigns.conftest import add_customer, campaign, create_campaign, messages_of, run_fan_out
from tests.ccm.conftest import Service

TOMORROW = (datetime.now(UTC) + timedelta(days=2)).date()


def test_local_time_is_nine_in_each_recipients_own_time_zone(service: Service, promo: str) -> None:
    zones = {
        "rome": "Europe/Rome",
        "tokyo": "Asia/Tokyo",
        "ny": "America/New_York",
        "kiri": "Pacific/Kiritimati",
    }
    for name, tz in zones.items():
        add_customer(service, name, timezone=tz)
    created = create_campaign(service, local_time="09:00", local_date=TOMORROW.isoformat())
    run_fan_out(service, created["id"])
    messages = messages_of(service, created["id"])
    assert len(messages) == 4
    for message in messages:
        tz = ZoneInfo(zones[message.recipient.split("@")[0]])
        local = message.next_attempt_at.astimezone(tz)
        assert (local.date(), local.hour, local.minute) == (TOMORROW, 9, 0)


def test_quiet_hours_move_a_due_time_to_their_end() -> None:
    quiet = {"start": "21:00", "end": "08:00"}
    rome = ZoneInfo("Europe/Rome")
    late = datetime(2026, 6, 1, 22, 30, tzinfo=rome)
    assert outside_quiet_hours(late, quiet, "Europe/Rome") == datetime(2026, 6, 2, 8, 0, tzinfo=rome)
    early = datetime(2026, 6, 2, 3, 0, tzinfo=rome)
    assert outside_quiet_hours(early, quiet, "Europe/Rome") == datetime(2026, 6, 2, 8, 0, tzinfo=rome)
    noon = datetime(2026, 6, 2, 12, 0, tzinfo=rome)
    assert outside_quiet_hours(noon, quiet, "Europe/Rome") == noon
    lunch = {"start": "12:00", "end": "14:00"}
    assert outside_quiet_hours(noon, lunch, "Europe/Rome") == datetime(2026, 6, 2, 14, 0, tzinfo=rome)


def test_quiet_hours_apply_in_the_recipients_time_zone(service: Service, promo: str) -> None:
    add_customer(service, "rome", timezone="Europe/Rome")
    send_at = datetime.combine(TOMORROW, datetime.min.time(), tzinfo=ZoneInfo("Europe/Rome")).replace(hour=23)
    created = create_campaign(
        service, send_at=send_at.isoformat(), quiet_hours={"start": "21:00", "end": "08:00"}
    )
    run_fan_out(service, created["id"])
    (message,) = messages_of(service, created["id"])
    local = message.next_attempt_at.astimezone(ZoneInfo("Europe/Rome"))
    assert (local.date(), local.hour) == (TOMORROW + timedelta(days=1), 8)


def test_throttle_spreads_due_times(service: Service, promo: str) -> None:
    for index in range(6):
        add_customer(service, f"t{index}")
    created = create_campaign(service, throttle_per_minute=2)
    run_fan_out(service, created["id"], batch_size=4)
    due = sorted(m.next_attempt_at for m in messages_of(service, created["id"]))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(due)]
    assert all(abs(gap - 30) < 1 for gap in gaps), gaps
    assert throttled(due[0], due[0], 120, 60) == due[0] + timedelta(minutes=2)


def test_frequency_cap_skips_and_counts(service: Service, promo: str) -> None:
    add_customer(service, "busy")
    add_customer(service, "quiet")
    first = create_campaign(
        service, segment={"all": [{"attribute": "external_id", "op": "eq", "value": "busy"}]}
    )
    run_fan_out(service, first["id"])
    second = create_campaign(service, frequency_cap={"max_messages": 1, "period_hours": 24})
    run_fan_out(service, second["id"])
    assert [m.recipient for m in messages_of(service, second["id"])] == ["quiet@example.com"]
    progress = campaign(service, second["id"])["progress"]
    assert progress["skipped"] == {"frequency_cap": 1} and progress["queued"] == 1
    assert progress["targeted"] == 2


def test_local_date_without_time_is_refused(service: Service, promo: str) -> None:
    for body, field in (
        ({"local_date": "2030-01-01"}, "local_time"),
        ({"local_time": "9:00", "local_date": "2030-01-01"}, "local_time"),
        (
            {"local_time": "09:00", "local_date": "2030-01-01", "send_at": "2030-01-01T00:00:00Z"},
            "local_time",
        ),
        ({"quiet_hours": {"start": "21:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"frequency_cap": {"max_messages": 0, "period_hours": 24}}, "frequency_cap.max_messages"),
        ({"throttle_per_minute": 0}, "throttle_per_minute"),
    ):
        payload = {"name": "x", "template": promo, **body}
        response = service.client.post("/v1/campaigns", json=payload, headers=service.headers())
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, (body, response.json())
    assert date.today()
