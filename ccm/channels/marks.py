"""The data contract's formatted fields travel with a version's parts, as its library does.

The registry reads them from the version's schema (`ccm.registry.contract.formatted_fields`) and puts them
under `MARKS_KEY` beside the parts that need them (a Typst PDF), so every render of the version — preview,
publish check, worker, re-render — gives the template the same locale-formatted copies in `sys.inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccm.channels.spec import Parts

MARKS_KEY = "_marks"
"""Not a channel key (those match `CHANNEL_KEY`), so `channels_of` never mistakes it for a part."""


def marks_of(parts: Parts) -> tuple[dict[str, Any], ...]:
    return tuple(parts.get(MARKS_KEY) or ())


def needs_marks(parts: Parts) -> bool:
    """Only a part rendered by an engine without Jinja filters reads them (a `typst` PDF)."""
    return any(isinstance(part, dict) and part.get("engine") == "typst" for part in parts.values())


def with_marks(parts: dict[str, Any], marks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parts with the marks beside them (the same parts when there are none)."""
    return {**parts, MARKS_KEY: list(marks)} if marks else parts
