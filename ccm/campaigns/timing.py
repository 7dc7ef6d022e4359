"""When each recipient's message becomes due: local send time, quiet hours and the campaign's throttle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The earliest local clock on Earth runs 14 h ahead of UTC: a local-time campaign fans out before that.
EARLIEST_OFFSET = timedelta(hours=14)


def zone(name: str) -> tzinfo:
    """The customer's time zone; an unknown name falls back to UTC rather than failing the recipient."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def local_due(day: date, clock: str, timezone: str) -> datetime:
    """`clock` on `day` in `timezone`, as UTC (a time skipped by a DST change moves forward with it)."""
    local = datetime.combine(day, parse_clock(clock), tzinfo=zone(timezone))
    return local.astimezone(UTC)


def earliest_local_due(day: date, clock: str) -> datetime:
    """The first moment any time zone reaches `clock` on `day`: when a local-time campaign must fan out."""
    return datetime.combine(day, parse_clock(clock), tzinfo=UTC) - EARLIEST_OFFSET


def outside_quiet_hours(due: datetime, quiet: dict[str, str] | None, timezone: str) -> datetime:
    """`due`, or the end of the quiet hours (recipient's local time) when `due` falls inside them."""
    if not quiet:
        return due
    tz = zone(timezone)
    local = due.astimezone(tz)
    start, end = parse_clock(quiet["start"]), parse_clock(quiet["end"])
    now = local.time().replace(tzinfo=None)
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return due
    end_day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


def throttled(due: datetime, start: datetime, slot: int, per_minute: int | None) -> datetime:
    """The `slot`-th message of a throttled campaign is due no earlier than `slot / per_minute` minutes in."""
    if not per_minute:
        return due
    return max(due, start + timedelta(seconds=slot * 60.0 / per_minute))
