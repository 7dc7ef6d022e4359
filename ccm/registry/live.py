"""The live version of a template for a send: one light query, the version's content from memory.

Each send reads the template and its live version's id, checksum and creation time in one joined query,
so a publish or rollback in any process is seen by the very next send; only the content (parts, schema,
pinned library: kilobytes of JSON) comes from this process's cache, keyed by those three, because a
version's content never changes once it is out of draft. The cached copy is detached from every session
and never handed to one to write.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime

from sqlalchemy import and_, bindparam, inspect
from sqlmodel import Session, select

from ccm.errors import NotFound, Unprocessable
from ccm.registry.models import Template, TemplateVersion, VersionStatus

CACHED_VERSIONS = 512
"""Live versions kept; past this the cache starts again."""

VersionKey = tuple[int, str, datetime]
_versions: dict[VersionKey, TemplateVersion] = {}
_lock = threading.Lock()


_LIVE = (
    select(Template, TemplateVersion.id, TemplateVersion.checksum, TemplateVersion.created_at)
    .outerjoin(
        TemplateVersion,
        and_(
            TemplateVersion.template_id == Template.id,  # type: ignore[arg-type]
            TemplateVersion.status == VersionStatus.PUBLISHED,  # type: ignore[arg-type]
        ),
    )
    .where(Template.key == bindparam("key"))
)
"""Built once: its cache key is worked out once too, not on every send."""


def live_version(session: Session, key: str) -> tuple[Template, TemplateVersion]:
    """The template by key and the version sends use: 404 `template_not_found`, 422 `not_published`."""
    row = session.exec(_LIVE, params={"key": key}).first()
    if row is None:
        raise NotFound(f"template '{key}' not found", field="template", code="template_not_found")
    template, version_id, checksum, created_at = row
    if version_id is None:
        raise Unprocessable(
            f"template '{template.key}' has no published version", field="template", code="not_published"
        )
    return template, _cached(session, (version_id, checksum, created_at))


def _cached(session: Session, key: VersionKey) -> TemplateVersion:
    found = _versions.get(key)
    if found is None:
        loaded = session.get(TemplateVersion, key[0])
        assert loaded is not None  # just read in the same transaction
        found = _detached_copy(loaded)
        with _lock:
            if len(_versions) >= CACHED_VERSIONS:
                _versions.clear()
            _versions[key] = found
    return found


def _detached_copy(version: TemplateVersion) -> TemplateVersion:
    """A copy no session knows, with its own JSON values, so nothing a caller does reaches the cache's."""
    values = {
        column.key: copy.deepcopy(getattr(version, column.key))
        for column in inspect(TemplateVersion).column_attrs
    }
    return TemplateVersion(**values)
