"""The locale and time zone of one render call, validated once and handed to the formatting filters."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from renderers.errors import RenderError

#: Name under which the settings travel in the Jinja context; it always overrides request data.
SETTINGS_KEY = "_ccm_render_settings"


@dataclass(frozen=True)
class RenderSettings:
    """What the Babel filters need: the recipient's locale and time zone."""

    locale: Locale
    timezone: ZoneInfo


@lru_cache(maxsize=256)
def render_settings(locale: str, timezone: str) -> RenderSettings:
    """Parse `it`, `it-IT` or `it_IT` and an IANA zone; a bad value is a RenderError naming it."""
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError) as exc:
        raise RenderError(f"unknown locale '{locale}'", field="locale") from exc
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise RenderError(f"unknown time zone '{timezone}'", field="timezone") from exc
    return RenderSettings(parsed, zone)
