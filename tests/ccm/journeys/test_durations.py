"""ISO 8601 durations in the customer's time zone: calendar months and days on the wall clock, hours as
elapsed time; local times of day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccm.journeys.durations import add_duration, next_local_time, parse_duration


def test_a_month_is_a_calendar_month_on_the_wall_clock() -> None:
    start = datetime(2027, 1, 31, 8, 0, tzinfo=UTC)  # 09:00 in Rome
    assert add_duration(start, "P1M", "Europe/Rome") == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
    assert add_duration(start, "P1Y1M", "Europe/Rome") == datetime(2028, 2, 29, 8, 0, tzinfo=UTC)


def test_a_day_across_a_dst_change_keeps_the_local_time() -> None:
    start = datetime(2027, 3, 27, 8, 0, tzinfo=UTC)  # 09:00 CET; the clocks go forward that night
    assert add_duration(start, "P1D", "Europe/Rome") == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    assert add_duration(start, "PT24H", "Europe/Rome") == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)


def test_weeks_and_mixed_parts() -> None:
    start = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert add_duration(start, "P1W2DT3H4M5S", "UTC") == datetime(2027, 1, 10, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "1D", "P1.5D", "PT-1H", "P0D", ""])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_next_local_time_is_today_or_tomorrow() -> None:
    morning = datetime(2027, 6, 1, 5, 0, tzinfo=UTC)  # 07:00 in Rome
    assert next_local_time(morning, "09:00", "Europe/Rome") == datetime(2027, 6, 1, 7, 0, tzinfo=UTC)
    evening = datetime(2027, 6, 1, 18, 0, tzinfo=UTC)
    assert next_local_time(evening, "09:00", "Europe/Rome") == datetime(2027, 6, 2, 7, 0, tzinfo=UTC)
    exactly = datetime(2027, 6, 1, 7, 0, tzinfo=UTC)
    assert next_local_time(exactly, "09:00", "Europe/Rome") == datetime(2027, 6, 2, 7, 0, tzinfo=UTC)
