"""A version's review trail: every move it made (saved, submitted, approved, ...), by whom, when and why.

Rows are only ever added, so the trail shows who let each live version through even after it was superseded.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ccm.registry.models import TemplateVersion, VersionStatus, VersionTransition


def record_saved(session: Session, version: TemplateVersion, identity: str, comment: str = "") -> None:
    """Keep that `identity` saved the version (a draft), so its trail starts with its author."""
    assert version.id is not None
    session.add(
        VersionTransition(version_id=version.id, to_status=version.status, identity=identity, comment=comment)
    )


def move(
    session: Session, version: TemplateVersion, to: VersionStatus, identity: str, comment: str = ""
) -> TemplateVersion:
    """Put the version in state `to` and keep the move; the caller has checked that the move is allowed."""
    assert version.id is not None
    session.add(
        VersionTransition(
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


def history_of(session: Session, version: TemplateVersion) -> list[VersionTransition]:
    """The version's moves, oldest first."""
    statement = (
        select(VersionTransition)
        .where(VersionTransition.version_id == version.id)
        .order_by(col(VersionTransition.id))
    )
    return list(session.exec(statement).all())


def submitter_of(session: Session, version: TemplateVersion) -> str | None:
    """Who last submitted the version for review (four-eyes keeps them from approving it too)."""
    statement = (
        select(VersionTransition.identity)
        .where(
            VersionTransition.version_id == version.id,
            VersionTransition.to_status == VersionStatus.SUBMITTED,
        )
        .order_by(col(VersionTransition.id).desc())
    )
    return session.exec(statement).first()
