"""A version's review trail: every move it made (saved, submitted, approved, ...), by whom, when and why.

Rows are only ever added, so the trail shows who let each live version through even after it was superseded.
"""

from __future__ import annotations

from typing import TypeVar, overload

from sqlmodel import Session, col, select

from ccm.registry.models import (
    LibraryTransition,
    LibraryVersion,
    TemplateVersion,
    VersionStatus,
    VersionTransition,
)

AnyVersion = TypeVar("AnyVersion", TemplateVersion, LibraryVersion)
"""A reviewed version: a template's, or a layout's or partial's (`ccm.registry.library`)."""


def _trail(version: TemplateVersion | LibraryVersion) -> type[VersionTransition] | type[LibraryTransition]:
    """The table keeping this kind of version's moves."""
    return LibraryTransition if isinstance(version, LibraryVersion) else VersionTransition


def record_saved(
    session: Session, version: TemplateVersion | LibraryVersion, identity: str, comment: str = ""
) -> None:
    """Keep that `identity` saved the version (a draft), so its trail starts with its author."""
    assert version.id is not None
    session.add(
        _trail(version)(version_id=version.id, to_status=version.status, identity=identity, comment=comment)
    )


def rollback_comment(to: int) -> str:
    """How a trail says a draft was saved by a rollback (templates, layouts and partials alike)."""
    return f"rollback to version {to}"


def move(
    session: Session, version: AnyVersion, to: VersionStatus, identity: str, comment: str = ""
) -> AnyVersion:
    """Put the version in state `to` and keep the move; the caller has checked that the move is allowed."""
    assert version.id is not None
    session.add(
        _trail(version)(
            version_id=version.id,
            from_status=version.status,
            to_status=to,
            identity=identity,
            comment=comment,
        )
    )
    version.status = to
    session.add(version)
    session.flush()  # one live version per template: a superseded one is written before its successor
    return version


@overload
def history_of(session: Session, version: TemplateVersion) -> list[VersionTransition]: ...
@overload
def history_of(session: Session, version: LibraryVersion) -> list[LibraryTransition]: ...
def history_of(
    session: Session, version: TemplateVersion | LibraryVersion
) -> list[VersionTransition] | list[LibraryTransition]:
    """The version's moves, oldest first."""
    trail = _trail(version)
    statement = select(trail).where(trail.version_id == version.id).order_by(col(trail.id))
    return list(session.exec(statement).all())  # type: ignore[return-value]


def submitter_of(session: Session, version: TemplateVersion | LibraryVersion) -> str | None:
    """Who last submitted the version for review (four-eyes keeps them from approving it too)."""
    trail = _trail(version)
    statement = (
        select(trail.identity)
        .where(trail.version_id == version.id, trail.to_status == VersionStatus.SUBMITTED)
        .order_by(col(trail.id).desc())
    )
    return session.exec(statement).first()
