"""A version's library travels with its parts: the pinned layout and partial sources, as plain values.

The registry puts them under `LIBRARY_KEY` beside the channel parts (`ccm.registry.locales.parts_for_locale`),
so every render of the version (preview, checks, worker, re-render) reaches the same sources in the render
process, and nothing else: `renderers.library` resolves includes from this mapping only.
"""

from __future__ import annotations

from typing import Any

from ccm.channels.spec import Parts
from renderers.library import EMAIL_LAYOUT, PDF_LAYOUT

LIBRARY_KEY = "_library"
"""Not a channel key (those match `CHANNEL_KEY`), so `channels_of` never mistakes it for a part."""
__all__ = ["EMAIL_LAYOUT", "LIBRARY_KEY", "PDF_LAYOUT", "layout_in", "library_of", "with_library"]


def library_of(parts: Parts) -> dict[str, str]:
    """The sources includes may reach: partials by key, and the layout's email and PDF sources."""
    return dict(parts.get(LIBRARY_KEY) or {})


def layout_in(parts: Parts, name: str) -> str | None:
    """`name` (`EMAIL_LAYOUT` or `PDF_LAYOUT`) when the version's layout has that source, else None."""
    return name if name in library_of(parts) else None


def with_library(parts: dict[str, Any], library: dict[str, str]) -> dict[str, Any]:
    """The parts with the library beside them (the same parts when there is none)."""
    return {**parts, LIBRARY_KEY: library} if library else parts
