"""Locale-aware Jinja filters (Babel) that read the locale and time zone of the current render call."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar

from babel import Locale, dates, numbers
from jinja2 import pass_context
from jinja2.runtime import Context

from renderers.errors import RenderError
from renderers.localisation import SETTINGS_KEY, RenderSettings

_T = TypeVar("_T")


def _settings(context: Context) -> RenderSettings:
    settings = context.get(SETTINGS_KEY)
    if not isinstance(settings, RenderSettings):  # pragma: no cover - set by every render call
        raise RenderError("formatting filters need a render locale")
    return settings


def to_decimal(value: Any, filter_name: str) -> Decimal:
    """Accept ints, floats, Decimals and numeric strings (JSON request data); refuse anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise RenderError(f"{filter_name}: cannot format {value!r} as a number")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RenderError(f"{filter_name}: cannot format {value!r} as a number") from exc
    if not result.is_finite():
        raise RenderError(f"{filter_name}: cannot format {value!r} as a number")
    return result


def to_datetime(value: Any, filter_name: str) -> datetime | date:
    """Accept date/datetime objects and ISO 8601 strings; naive datetimes are taken as UTC."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError as exc:
            raise RenderError(f"{filter_name}: {value!r} is not an ISO 8601 date") from exc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    raise RenderError(f"{filter_name}: cannot format {value!r} as a date")


def _babel(filter_name: str, call: Callable[[], _T]) -> _T:
    """Turn Babel's complaints about a pattern or currency into a RenderError naming the filter."""
    try:
        return call()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RenderError(f"{filter_name}: {exc}") from exc


def money_text(value: Any, currency: Any, settings: RenderSettings) -> str:
    """An amount in `currency` as the recipient's locale writes it (the Jinja filter and Typst's copies)."""
    amount = to_decimal(value, "money")
    if not isinstance(currency, str) or not _known_currency(currency.upper()):
        raise RenderError(f"money: unknown currency {currency!r}")
    code, locale = currency.upper(), settings.locale
    pattern = _babel("money", lambda: _money_pattern(locale, code))
    if pattern is None:
        return _babel("money", lambda: numbers.format_currency(amount, code, locale=locale))
    return _babel("money", lambda: str(pattern.apply(amount, locale)))


@lru_cache(maxsize=512)
def _known_currency(code: str) -> bool:
    """Babel builds its set of ~300 codes on every `is_currency` call."""
    return numbers.is_currency(code)


@lru_cache(maxsize=512)
def _money_pattern(locale: Locale, code: str) -> numbers.NumberPattern | None:
    """The locale's currency pattern with this currency's symbol and digits written in, which gives
    `format_currency`'s string: Babel works them out on every call, and the currency's plural name too,
    whether the pattern shows it or not (2/3 of its time). None for a pattern that shows the name."""
    pattern: numbers.NumberPattern = copy.copy(locale.currency_formats["standard"])
    if any("¤¤¤" in affix for affix in (*pattern.prefix, *pattern.suffix)):
        return None
    symbol = numbers.get_currency_symbol(code, locale)

    def written(affix: str) -> str:  # Babel's order: the code (`¤¤`) first, then the symbol
        return affix.replace("¤¤", code).replace("¤", symbol)

    pattern.prefix = (written(pattern.prefix[0]), written(pattern.prefix[1]))
    pattern.suffix = (written(pattern.suffix[0]), written(pattern.suffix[1]))
    digits = numbers.get_currency_precision(code)
    pattern.frac_prec = (digits, digits)
    return pattern


@pass_context
def money(context: Context, value: Any, currency: str) -> str:
    """`{{ 12.5 | money('EUR') }}`: `€12.50` in en, `12,50 €` in it."""
    return money_text(value, currency, _settings(context))


@pass_context
def number(context: Context, value: Any, digits: int | None = None) -> str:
    """Group and localise a number; `digits` fixes the number of decimals."""
    amount = to_decimal(value, "number")
    pattern = None if digits is None else "#,##0" + ("." + "0" * int(digits) if digits else "")
    locale = _settings(context).locale
    return _babel("number", lambda: numbers.format_decimal(amount, format=pattern, locale=locale))


@pass_context
def percent(context: Context, value: Any, digits: int = 0) -> str:
    """`{{ 0.125 | percent(1) }}` -> `12.5%` (en), `12,5 %` (it)."""
    amount = to_decimal(value, "percent")
    pattern = "#,##0" + ("." + "0" * int(digits) if digits else "") + "%"
    locale = _settings(context).locale
    return _babel("percent", lambda: numbers.format_percent(amount, format=pattern, locale=locale))


@pass_context
def format_date(context: Context, value: Any, format: str = "medium") -> str:
    """A calendar date in the recipient's locale; datetimes are first moved to their time zone."""
    return date_text(value, format, _settings(context))


def date_text(value: Any, format: str, settings: RenderSettings) -> str:
    """The `date` filter's string, for callers outside Jinja (Typst's formatted copies)."""
    parsed = to_datetime(value, "date")
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(settings.timezone).date()
    return _babel("date", lambda: dates.format_date(parsed, format=format, locale=settings.locale))


@pass_context
def format_datetime(context: Context, value: Any, format: str = "medium") -> str:
    """A moment in the recipient's locale and time zone; a bare date means midnight there."""
    return datetime_text(value, format, _settings(context))


def datetime_text(value: Any, format: str, settings: RenderSettings) -> str:
    """The `datetime` filter's string, for callers outside Jinja (Typst's formatted copies)."""
    parsed = to_datetime(value, "datetime")
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time(), tzinfo=settings.timezone)
    moment = parsed.astimezone(settings.timezone)
    zone, locale = settings.timezone, settings.locale
    return _babel(
        "datetime", lambda: dates.format_datetime(moment, format=format, tzinfo=zone, locale=locale)
    )


FILTERS: dict[str, Callable[..., str]] = {
    "money": money,
    "number": number,
    "percent": percent,
    "date": format_date,
    "datetime": format_datetime,
}
