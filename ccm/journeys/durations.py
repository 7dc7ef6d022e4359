"""ISO 8601 durations and local clock times, added in the customer's time zone.

`P1M` is a calendar month on the customer's wall clock (31 January + P1M = 28 or 29 February), `P1D` a
calendar day (23 or 25 hours across a DST change); the time part (`PT48H`) is elapsed time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from ccm.campaigns.timing import local_due, zone

_PATTERN = re.compile(
    r"^P(?:(?P<years>\d{1,3})Y)?(?:(?P<months>\d{1,4})M)?(?:(?P<weeks>\d{1,4})W)?(?:(?P<days>\d{1,5})D)?"
    r"(?:T(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,7})M)?(?:(?P<seconds>\d{1,9})S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """The parts of an ISO 8601 duration: calendar ones (years, months, days) and elapsed time."""

    years: int = 0
    months: int = 0
    days: int = 0
    elapsed: timedelta = timedelta()


def parse_duration(text: str) -> Duration:
    """The parts of `text`; ValueError for anything but a non-empty `PnYnMnWnDTnHnMnS` with integers."""
    found = _PATTERN.fullmatch(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT48H, P3D or P1M")
    parts = {name: int(value or 0) for name, value in found.groupdict().items()}
    elapsed = timedelta(hours=parts["hours"], minutes=parts["minutes"], seconds=parts["seconds"])
    duration = Duration(parts["years"], parts["months"], parts["weeks"] * 7 + parts["days"], elapsed)
    if duration == Duration():
        raise ValueError(f"{text!r} is an empty duration")
    return duration


def _checked(text: str) -> str:
    parse_duration(text)
    return text


IsoDuration = Annotated[str, Field(max_length=40, examples=["PT48H", "P3D", "P1M"]), AfterValidator(_checked)]


def add_duration(start: datetime, text: str, timezone: str) -> datetime:
    """`start` plus the duration, the calendar parts on the wall clock of `timezone`; in UTC."""
    duration = parse_duration(text)
    local = start.astimezone(zone(timezone))
    month_index = local.month - 1 + duration.months + 12 * duration.years
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    moved = local.replace(year=year, month=month, day=day) + timedelta(days=duration.days)
    return moved.astimezone(UTC) + duration.elapsed


def next_local_time(after: datetime, clock: str, timezone: str) -> datetime:
    """The first moment strictly after `after` when the customer's clock shows `clock` (HH:MM), in UTC."""
    today: date = after.astimezone(zone(timezone)).date()
    for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
        due = local_due(day, clock, timezone)
        if due > after:
            return due
    raise AssertionError("a local time of day recurs within two days")  # pragma: no cover


def shift_date(day: date, offset: str) -> date:
    """`day` moved by a signed calendar offset (`-P30D`, `P1M`): the day a date trigger fires."""
    duration = parse_duration(offset.removeprefix("-"))
    sign = -1 if offset.startswith("-") else 1
    month_index = day.month - 1 + sign * (duration.months + 12 * duration.years)
    year, month = day.year + month_index // 12, month_index % 12 + 1
    moved = day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
    return moved + timedelta(days=sign * duration.days)
