"""What a report covers: the UTC days from `from` to `to` (both included) and the filters, checked once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ccm.analytics.schemas import GroupBy
from ccm.errors import Unprocessable

DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)
"""Dates outside these are typing mistakes; refusing them also keeps every day arithmetic in range."""


@dataclass(frozen=True)
class AnalyticsQuery:
    first_day: date
    last_day: date
    group_by: GroupBy = "template"
    template: str | None = None
    campaign: int | None = None
    channel: str | None = None
    provider: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the range (exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), tzinfo=UTC)

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def date_range(first: date | None, last: date | None, today: date | None = None) -> tuple[date, date]:
    """[first, last] with the defaults (`to` today in UTC, `from` 30 days back), or a 422 naming the field."""
    for field, value in (("from", first), ("to", last)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise Unprocessable(f"'{field}' must be between {EARLIEST} and {LATEST}", field=field)
    last = last or today or datetime.now(UTC).date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise Unprocessable("'to' must not be before 'from'", field="to", code="invalid_range")
    if (last - first).days + 1 > MAX_DAYS:
        raise Unprocessable(f"a range covers at most {MAX_DAYS} days", field="from", code="range_too_long")
    return first, last
