"""Layouts and partials: registry objects templates build on, versioned and reviewed like templates.

A layout's versions hold an `email` and/or a `pdf` source with `{% block content %}`; a partial's a
`source` snippet. Versions never change and go live through the workflow's moves (`review`, `go_live`),
with four-eyes wherever `marketing` templates need approval: a layout reaches every template built on it.
Templates use them only through pins (`ccm.registry.pins`), so publishing a new version changes nothing
until a template saves a version that pins it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ccm.database import utcnow
from ccm.errors import Conflict, NotFound, Unprocessable
from ccm.registry.content import as_text
from ccm.registry.diff import Texts, diff_texts
from ccm.registry.history import move, record_saved, rollback_comment
from ccm.registry.models import Category, LibraryItem, LibraryKind, LibraryVersion, VersionStatus
from ccm.registry.pins import find_version, live_version
from ccm.registry.schemas import VersionDiff
from ccm.registry.workflow import go_live, require_move, review
from ccm.settings import Settings
from renderers.environment import check_library_source
from renderers.errors import RenderError

SOURCES = {LibraryKind.LAYOUT: ("email", "pdf"), LibraryKind.PARTIAL: ("source",)}
"""The source fields of each kind's content."""


def needs_approval(settings: Settings) -> bool:
    """Layouts and partials are reviewed as marketing templates are (`CCM_APPROVAL_CATEGORIES`)."""
    return str(Category.MARKETING) in settings.approval_categories


def check_content(kind: LibraryKind, content: dict[str, Any]) -> None:
    """Each source compiles in the sandbox and includes partials by name only; a layout's has the `content`
    block. Saving a version checks it, and submitting it checks again (422 `template_invalid`)."""
    block = "content" if kind == LibraryKind.LAYOUT else None
    for field in SOURCES[kind]:
        if content.get(field) is None:
            continue
        try:
            check_library_source(content[field], block=block)
        except RenderError as error:
            raise Unprocessable(f"{field}: {error.message}", field=field, code="template_invalid") from error


def create_item(
    session: Session, kind: LibraryKind, key: str, name: str, content: dict[str, Any], author: str
) -> LibraryItem:
    """A new layout or partial with its first version, a draft."""
    if session.exec(select(LibraryItem).where(LibraryItem.kind == kind, LibraryItem.key == key)).first():
        raise Conflict(f"{kind} '{key}' already exists", field="key", code=f"{kind}_exists")
    check_content(kind, content)
    item = LibraryItem(kind=kind, key=key, name=name)
    session.add(item)
    session.flush()
    _add_version(session, item, content, author)
    return item


def add_version(
    session: Session, kind: LibraryKind, key: str, content: dict[str, Any], author: str
) -> LibraryVersion:
    item = get_item(session, kind, key)
    check_content(kind, content)
    item.updated_at = utcnow()
    return _add_version(session, item, content, author)


def rollback(session: Session, kind: LibraryKind, key: str, to: int, identity: str) -> LibraryVersion:
    """A new draft holding version `to`'s content, so that content can go live again, reviewed as usual."""
    source = get_version(session, kind, key, to)
    item = get_item(session, kind, key)
    item.updated_at = utcnow()
    return _add_version(session, item, copy.deepcopy(source.content), identity, rollback_comment(to))


def diff(session: Session, kind: LibraryKind, key: str, old: int, new: int) -> VersionDiff:
    """What changed from version `old` to version `new`: one unified diff per source, as templates' diffs."""
    before, after = (_texts(kind, get_version(session, kind, key, number)) for number in (old, new))
    return diff_texts(before, after, old, new)


def _texts(kind: LibraryKind, version: LibraryVersion) -> Texts:
    return {(field, None): as_text(version.content.get(field)) for field in SOURCES[kind]}


def content_checksum(content: dict[str, Any]) -> str:
    """SHA-256 of a version's content: what `ccm templates push` compares to skip unchanged items."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _add_version(
    session: Session, item: LibraryItem, content: dict[str, Any], author: str, comment: str = ""
) -> LibraryVersion:
    last = session.exec(
        select(func.max(LibraryVersion.number)).where(LibraryVersion.item_id == item.id)
    ).one()
    assert item.id is not None
    version = LibraryVersion(
        item_id=item.id,
        number=(last or 0) + 1,
        status=VersionStatus.DRAFT,
        content=content,
        checksum=content_checksum(content),
        created_by=author,
    )
    session.add(version)
    session.flush()
    record_saved(session, version, author, comment)
    return version


def get_item(session: Session, kind: LibraryKind, key: str) -> LibraryItem:
    item = session.exec(select(LibraryItem).where(LibraryItem.kind == kind, LibraryItem.key == key)).first()
    if item is None:
        raise NotFound(f"{kind} '{key}' not found", field=str(kind), code=f"{kind}_not_found")
    return item


def list_items(session: Session, kind: LibraryKind) -> list[LibraryItem]:
    return list(
        session.exec(select(LibraryItem).where(LibraryItem.kind == kind).order_by(col(LibraryItem.key)))
    )


def versions_of(session: Session, item: LibraryItem) -> list[LibraryVersion]:
    statement = (
        select(LibraryVersion).where(LibraryVersion.item_id == item.id).order_by(col(LibraryVersion.number))
    )
    return list(session.exec(statement).all())


def get_version(session: Session, kind: LibraryKind, key: str, number: int) -> LibraryVersion:
    version = find_version(session, get_item(session, kind, key), number)
    if version is None:
        raise NotFound(f"{kind} '{key}' has no version {number}", field="version", code="version_not_found")
    return version


def submit(
    session: Session, kind: LibraryKind, key: str, number: int, identity: str, comment: str
) -> LibraryVersion:
    """Ask for a review: the same move as a template version's, once its sources compile (layouts and
    partials have no lint; a version saved before today's sandbox rules is checked against them)."""
    version = get_version(session, kind, key, number)
    require_move(key, version, VersionStatus.SUBMITTED)
    check_content(kind, version.content)
    return move(session, version, VersionStatus.SUBMITTED, identity, comment)


def decide(
    session: Session,
    kind: LibraryKind,
    key: str,
    number: int,
    identity: str,
    verdict: VersionStatus,
    comment: str,
) -> LibraryVersion:
    """Approve or reject: the same four-eyes review as a template version's."""
    return review(session, key, get_version(session, kind, key, number), identity, verdict, comment)


def publish(
    session: Session, kind: LibraryKind, key: str, number: int, identity: str, *, settings: Settings
) -> LibraryVersion:
    """Make a version the live one; templates keep the versions they pinned until they save a new one."""
    item = get_item(session, kind, key)
    session.refresh(item, with_for_update=True)
    version = get_version(session, kind, key, number)
    if version.status == VersionStatus.PUBLISHED:
        return version
    live = live_version(session, item)
    what = f"{kind} '{key}' reaches every template built on it"
    again = "save it as a new version"
    return go_live(
        session, key, version, live, identity, approval=needs_approval(settings), what=what, again=again
    )
