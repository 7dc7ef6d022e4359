"""Reconstruct a disputed message: compose it again from the stored template version and the sealed data
snapshot, and compare with the archived bytes (composition is deterministic, see `compose`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from archive import sha256_hex
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import read_payload, read_snapshot
from ccm.archiving.vault import ArchiveVault
from ccm.channels import ComposeContext
from ccm.channels.compose import compose, dkim_keyring
from ccm.communications.models import Message, MessageStatus
from ccm.engagement.links import EngagementLinks
from ccm.engagement.tokens import TokenSigner
from ccm.errors import NotFound
from ccm.registry.models import TemplateVersion

CONTEXT_BYTES = 40


@dataclass(frozen=True)
class RerenderResult:
    message_id: str
    matches: bool
    archived_sha256: str
    rerendered_sha256: str
    first_difference: str | None


def rerender(session: Session, vault: ArchiveVault, entry: ArchiveEntry) -> tuple[bytes, RerenderResult]:
    """The re-composed bytes and how they compare with the archived ones."""
    snapshot = read_snapshot(vault, session, entry)
    version = session.get(TemplateVersion, snapshot.get("template_version_id"))
    if version is None:
        raise NotFound(
            f"the template version of message {entry.message_id} is gone", code="version_not_found"
        )
    message = Message(
        id=entry.message_id,
        customer_id=entry.customer_id,
        template_version_id=int(version.id or 0),
        template_key=entry.template_key,
        template_version=entry.template_version,
        category=entry.category,
        channel=entry.channel,
        recipient=snapshot["recipient"],
        status=MessageStatus.ARCHIVED,
        context=snapshot["context"],
        context_sha256=entry.context_sha256,
        created_at=datetime.fromisoformat(snapshot["created_at"]),
    )
    settings = vault.settings
    links = EngagementLinks(settings.base_url, TokenSigner(settings.secret_key))
    produced = compose(
        message, version.parts, ComposeContext(settings, links, dkim_keyring(settings))
    ).payload
    archived = read_payload(vault, entry)
    result = RerenderResult(
        message_id=entry.message_id,
        matches=produced == archived,
        archived_sha256=sha256_hex(archived),
        rerendered_sha256=sha256_hex(produced),
        first_difference=first_difference(archived, produced),
    )
    return produced, result


def first_difference(archived: bytes, produced: bytes) -> str | None:
    """Where two byte strings first differ, by offset and line, with a little context; None if equal."""
    if archived == produced:
        return None
    offset = next((i for i, (a, b) in enumerate(zip(archived, produced, strict=False)) if a != b), None)
    if offset is None:
        return f"one is a prefix of the other: archived {len(archived)} bytes, re-rendered {len(produced)}"
    line = archived.count(b"\n", 0, offset) + 1
    start = max(offset - CONTEXT_BYTES // 2, 0)
    return (
        f"byte {offset} (line {line}): archived {archived[start : offset + CONTEXT_BYTES]!r}"
        f" != re-rendered {produced[start : offset + CONTEXT_BYTES]!r}"
    )
