"""SMS rendering and segment counting: GSM 03.38 (with its extension table) or UCS-2, as carriers bill it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from renderers.environment import render_text
from renderers.errors import RenderError
from renderers.limits import check_sms_segments

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 default alphabet (0x1B, the escape, left out). Note: upper-case Ç only, no ç.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Extension table: each costs an escape septet plus its own.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}
#: Spaces Babel puts in amounts and times; they are not GSM and would double the price of the message.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


@dataclass(frozen=True)
class SmsAnalysis:
    """How a text travels: encoding, billed segments, total units and the text of each part."""

    encoding: Encoding
    segments: int
    units: int
    parts: tuple[str, ...]


@dataclass(frozen=True)
class RenderedSms:
    """The rendered message and what it will cost."""

    text: str
    encoding: Encoding
    segments: int


def is_gsm(char: str) -> bool:
    """Whether GSM-7 can carry the character (basic table or extension table)."""
    return char in GSM_BASIC or char in GSM_EXTENSION


def _cost(char: str, encoding: Encoding) -> int:
    """Septets for GSM-7 (2 for extension characters), UTF-16 code units for UCS-2 (2 for emoji)."""
    if encoding == "GSM-7":
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _split(text: str, encoding: Encoding, limit: int) -> tuple[str, ...]:
    """Greedy split by cost, so an escape pair or a surrogate pair never straddles two parts."""
    parts: list[str] = []
    start, used = 0, 0
    for index, char in enumerate(text):
        cost = _cost(char, encoding)
        if used + cost > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return tuple(parts)


def ucs2_characters(text: str, *, limit: int = 20) -> tuple[tuple[str, int], ...]:
    """Each character outside both GSM tables with its first 1-based position: what forced UCS-2.

    One such character halves what a segment holds (160 -> 70), so authors are shown which ones to replace.
    """
    found: dict[str, int] = {}
    for position, char in enumerate(text, start=1):
        if char not in GSM_BASIC and char not in GSM_EXTENSION and char not in found:
            found[char] = position
            if len(found) == limit:
                break
    return tuple(found.items())


def analyse_sms(text: str) -> SmsAnalysis:
    """Pick GSM-7 when every character is in the GSM tables, else UCS-2, and count segments."""
    encoding: Encoding = "GSM-7" if all(is_gsm(c) for c in text) else "UCS-2"
    units = sum(_cost(char, encoding) for char in text)
    if not text:
        return SmsAnalysis(encoding, 0, 0, ())
    limit = _SINGLE[encoding] if units <= _SINGLE[encoding] else _PART[encoding]
    parts = _split(text, encoding, limit)
    return SmsAnalysis(encoding, len(parts), units, parts)


def render_sms(
    source: str,
    context: Mapping[str, Any],
    *,
    locale: str = "en",
    timezone: str = "UTC",
    library: Mapping[str, str] | None = None,
) -> RenderedSms:
    """Render, normalise Babel's non-breaking spaces, trim; an empty message is an error."""
    try:
        text = render_text(source, context, locale=locale, timezone=timezone, library=library)
        text = text.translate(_SPACES).strip()
    except RenderError as exc:
        exc.field = exc.field or "sms"
        raise
    if not text:
        raise RenderError("the SMS is empty after rendering", field="sms")
    analysis = analyse_sms(text)
    check_sms_segments(analysis.segments)
    return RenderedSms(text=text, encoding=analysis.encoding, segments=analysis.segments)
