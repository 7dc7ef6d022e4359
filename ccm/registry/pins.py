"""What a template version pins when it is saved: its layout version and each included partial's live one.

Pins never move: the sources they name are copied onto the version (`library`), so a layout or partial
published later reaches a template only through a new version of it. Includes resolve from those sources
only (`renderers.library`); a partial may include partials, pinned the same way, up to `MAX_PARTIALS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import Session, col, select

from ccm.channels.library import EMAIL_LAYOUT, PDF_LAYOUT
from ccm.errors import Unprocessable
from ccm.registry.models import LibraryItem, LibraryKind, LibraryVersion, VersionStatus
from ccm.registry.schemas import LayoutPin
from renderers.environment import included_names

UnsavedLayout = LayoutPin | Literal[False] | None
"""An editor's layout choice: a pin, False for none, None for the version's own."""

MAX_PARTIALS = 100
LAYOUT_SOURCES = (("email", EMAIL_LAYOUT), ("pdf", PDF_LAYOUT))
"""A layout's content fields, and the library names the email and PDF renders wrap their HTML in."""


@dataclass(frozen=True)
class Pins:
    layout: dict[str, Any] | None = None
    partials: dict[str, int] = field(default_factory=dict)
    library: dict[str, str] = field(default_factory=dict)
    """The pinned sources by library name: partials by key, the layout's as `EMAIL_LAYOUT`/`PDF_LAYOUT`."""


def resolve_pins(session: Session, layout: LayoutPin | None, sources: list[str]) -> Pins:
    """The layout named (422 unless published) and the live version of every partial the sources, the
    layout and those partials include (422 naming one that is unknown or not live)."""
    library: dict[str, str] = {}
    if layout is not None:
        content = _published_layout(session, layout).content
        library.update({name: content[f] for f, name in LAYOUT_SOURCES if content.get(f) is not None})
    partials: dict[str, int] = {}
    pending = [name for source in [*sources, *library.values()] for name in included_names(source)]
    while pending:
        name = pending.pop(0)
        if name in partials:
            continue
        if len(partials) >= MAX_PARTIALS:
            raise Unprocessable(f"at most {MAX_PARTIALS} partials", field="parts", code="too_many_partials")
        version = _live_partial(session, name)
        partials[name], library[name] = version.number, version.content["source"]
        pending += included_names(library[name])
    return Pins(layout.model_dump() if layout else None, partials, library)


def library_for_unsaved(
    session: Session, layout: dict[str, Any] | None, sources: list[str], chosen: UnsavedLayout = None
) -> dict[str, str]:
    """The library unsaved content (the editor's preview and lint) would get if saved now over a version
    pinned to `layout`, or with the layout `chosen` instead (False: none): that layout and the live
    partials it and the sources include."""
    if chosen is not None:
        return resolve_pins(session, chosen or None, sources).library
    return resolve_pins(session, LayoutPin.model_validate(layout) if layout else None, sources).library


@dataclass(frozen=True)
class LayoutChoice:
    """A layout version a template version may pin (it was published once; pins never move)."""

    key: str
    number: int
    live: bool


def pinnable_layouts(session: Session) -> list[LayoutChoice]:
    """Every layout version a new template version may pin, by key and number."""
    statement = (
        select(LibraryItem.key, LibraryVersion.number, LibraryVersion.status)
        .join(LibraryVersion, col(LibraryVersion.item_id) == col(LibraryItem.id))
        .where(LibraryItem.kind == LibraryKind.LAYOUT, col(LibraryVersion.published_at).is_not(None))
        .order_by(col(LibraryItem.key), col(LibraryVersion.number))
    )
    return [LayoutChoice(k, n, s == VersionStatus.PUBLISHED) for k, n, s in session.exec(statement).all()]


def find_version(session: Session, item: LibraryItem, number: int) -> LibraryVersion | None:
    statement = select(LibraryVersion).where(
        LibraryVersion.item_id == item.id, LibraryVersion.number == number
    )
    return session.exec(statement).first()


def live_version(session: Session, item: LibraryItem) -> LibraryVersion | None:
    """The published version: the one a template version saved now pins (partials)."""
    statement = select(LibraryVersion).where(
        LibraryVersion.item_id == item.id, LibraryVersion.status == VersionStatus.PUBLISHED
    )
    return session.exec(statement).first()


def _item(session: Session, kind: LibraryKind, key: str) -> LibraryItem | None:
    return session.exec(select(LibraryItem).where(LibraryItem.kind == kind, LibraryItem.key == key)).first()


def _published_layout(session: Session, pin: LayoutPin) -> LibraryVersion:
    item = _item(session, LibraryKind.LAYOUT, pin.key)
    if item is None:
        raise Unprocessable(f"layout '{pin.key}' does not exist", field="layout.key", code="unknown_layout")
    version = find_version(session, item, pin.version)
    if version is None or version.published_at is None:
        raise Unprocessable(
            f"layout '{pin.key}' has no published version {pin.version}: a template pins only a published"
            " layout version",
            field="layout.version",
            code="layout_not_published",
        )
    return version


def _live_partial(session: Session, key: str) -> LibraryVersion:
    item = _item(session, LibraryKind.PARTIAL, key)
    if item is None:
        raise Unprocessable(
            f"the template includes '{key}', which is no partial: includes name partials by key",
            field="parts",
            code="unknown_partial",
        )
    version = live_version(session, item)
    if version is None:
        raise Unprocessable(
            f"partial '{key}' has no published version to pin", field="parts", code="partial_not_published"
        )
    return version
