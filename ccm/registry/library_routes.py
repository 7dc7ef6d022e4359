"""HTTP for layouts and partials (`/v1/layouts`, `/v1/partials`): create, version, review and publish,
roll back, diff.

Both kinds share these routes, built once per kind; only the content shapes differ. (No postponed
annotations here: FastAPI reads each kind's request shape from the closure when the routes are built.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlmodel import Session

from ccm.access.identity import identity_of
from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.dependencies import ReadSessionDep, SessionDep, SettingsDep, require
from ccm.registry import library
from ccm.registry.history import history_of
from ccm.registry.models import LibraryItem, LibraryKind, LibraryVersion, VersionStatus
from ccm.registry.schemas import (
    LIBRARY_SHAPES,
    LibraryItemOut,
    LibraryVersionOut,
    RejectRequest,
    ReviewRequest,
    RollbackRequest,
    Transition,
    VersionDiff,
)

Reader = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_WRITE))]
Reviewer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_APPROVE))]
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
NumberPath = Annotated[int, Path(ge=1, le=1_000_000)]
FromQuery = Annotated[int, Query(alias="from", ge=1, le=1_000_000)]
ToQuery = Annotated[int, Query(alias="to", ge=1, le=1_000_000)]


def version_out(session: Session, version: LibraryVersion) -> LibraryVersionOut:
    history = [Transition.model_validate(t, from_attributes=True) for t in history_of(session, version)]
    return LibraryVersionOut(
        number=version.number,
        status=version.status,
        content=version.content,
        checksum=version.checksum,
        created_by=version.created_by,
        created_at=version.created_at,
        published_at=version.published_at,
        history=history,
    )


def item_out(session: Session, item: LibraryItem) -> LibraryItemOut:
    versions = library.versions_of(session, item)
    live = [v.number for v in versions if v.status == VersionStatus.PUBLISHED]
    return LibraryItemOut(
        kind=item.kind,
        key=item.key,
        name=item.name,
        published_version=live[0] if live else None,
        latest_version=versions[-1].number,
        versions=[version_out(session, v) for v in versions],
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _dump(request: object) -> dict[str, Any]:
    """A request body as plain values (the routes take each kind's own shape)."""
    assert isinstance(request, BaseModel)
    return request.model_dump()


def kind_router(kind: LibraryKind, create: type[BaseModel], content: type[BaseModel]) -> APIRouter:
    """The routes of one kind; `create` and `content` are its request shapes (with and without key/name)."""
    router = APIRouter(prefix=f"/v1/{kind}s", tags=[f"{kind}s"])
    fields = set(content.model_fields)

    @router.post("", status_code=201, response_model=LibraryItemOut, name=f"create_{kind}")
    def create_item(request: create, session: SessionDep, caller: Writer) -> LibraryItemOut:  # type: ignore[valid-type]
        body = _dump(request)
        content_fields = {f: body[f] for f in fields}
        item = library.create_item(
            session, kind, body["key"], body["name"], content_fields, identity_of(caller)
        )
        return item_out(session, item)

    @router.get("", response_model=list[LibraryItemOut], name=f"list_{kind}s")
    def list_items(session: ReadSessionDep, _caller: Reader) -> list[LibraryItemOut]:
        return [item_out(session, item) for item in library.list_items(session, kind)]

    @router.get("/{key}", response_model=LibraryItemOut, name=f"get_{kind}")
    def get_item(key: KeyPath, session: ReadSessionDep, _caller: Reader) -> LibraryItemOut:
        return item_out(session, library.get_item(session, kind, key))

    @router.post(
        "/{key}/versions", status_code=201, response_model=LibraryVersionOut, name=f"create_{kind}_version"
    )
    def create_version(
        key: KeyPath,
        request: content,  # type: ignore[valid-type]
        session: SessionDep,
        caller: Writer,
    ) -> LibraryVersionOut:
        body = _dump(request)
        return version_out(session, library.add_version(session, kind, key, body, identity_of(caller)))

    @router.get("/{key}/versions/{number}", response_model=LibraryVersionOut, name=f"get_{kind}_version")
    def get_version(
        key: KeyPath, number: NumberPath, session: ReadSessionDep, _caller: Reader
    ) -> LibraryVersionOut:
        return version_out(session, library.get_version(session, kind, key, number))

    @router.post("/{key}/versions/{number}/submit", response_model=LibraryVersionOut, name=f"submit_{kind}")
    def submit(
        key: KeyPath,
        number: NumberPath,
        session: SessionDep,
        caller: Writer,
        request: ReviewRequest | None = None,
    ) -> LibraryVersionOut:
        comment = request.comment if request else ""
        return version_out(session, library.submit(session, kind, key, number, identity_of(caller), comment))

    @router.post("/{key}/versions/{number}/approve", response_model=LibraryVersionOut, name=f"approve_{kind}")
    def approve(
        key: KeyPath,
        number: NumberPath,
        session: SessionDep,
        caller: Reviewer,
        request: ReviewRequest | None = None,
    ) -> LibraryVersionOut:
        """Four-eyes: the version's author and submitter may not approve it (403 `four_eyes`)."""
        comment = request.comment if request else ""
        verdict = VersionStatus.APPROVED
        return version_out(
            session, library.decide(session, kind, key, number, identity_of(caller), verdict, comment)
        )

    @router.post("/{key}/versions/{number}/reject", response_model=LibraryVersionOut, name=f"reject_{kind}")
    def reject(
        key: KeyPath, number: NumberPath, request: RejectRequest, session: SessionDep, caller: Reviewer
    ) -> LibraryVersionOut:
        verdict, who = VersionStatus.REJECTED, identity_of(caller)
        return version_out(session, library.decide(session, kind, key, number, who, verdict, request.comment))

    @router.post("/{key}/versions/{number}/publish", response_model=LibraryVersionOut, name=f"publish_{kind}")
    def publish(
        key: KeyPath, number: NumberPath, session: SessionDep, settings: SettingsDep, caller: Writer
    ) -> LibraryVersionOut:
        """Make the version live for templates saved from now on; saved template versions keep their pins."""
        version = library.publish(session, kind, key, number, identity_of(caller), settings=settings)
        return version_out(session, version)

    @router.post(
        "/{key}/rollback", status_code=201, response_model=LibraryVersionOut, name=f"rollback_{kind}"
    )
    def rollback(
        key: KeyPath, request: RollbackRequest, session: SessionDep, caller: Writer
    ) -> LibraryVersionOut:
        """A new draft with an older version's content, which then goes live the usual way."""
        return version_out(session, library.rollback(session, kind, key, request.to, identity_of(caller)))

    @router.get("/{key}/diff", response_model=VersionDiff, name=f"diff_{kind}")
    def diff(
        key: KeyPath, old: FromQuery, new: ToQuery, session: ReadSessionDep, _caller: Reader
    ) -> VersionDiff:
        """What changed from version `from` to version `to`: a unified diff per source."""
        return library.diff(session, kind, key, old, new)

    return router


router = APIRouter()
for _kind, (_create, _content) in LIBRARY_SHAPES.items():
    router.include_router(kind_router(_kind, _create, _content))
