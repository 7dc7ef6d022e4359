"""Reconstruct a disputed message: compose it again from the stored template version and the sealed data
snapshot, and compare with the archived bytes (composition is deterministic, see `compose`; it runs in
the render pool like every render of an author's template, `ccm.channels.bounded`).

A message is re-rendered years after it was sent, when the service may answer at another domain or port,
sign its links with a newer key, or send from another address. So the snapshot also keeps what the bytes
depended on besides the data (`render_inputs`): the base URL, the token key id, the senders and the PDF
variant are put back before composing; the PDF assets and the renderers' versions cannot be, and are
named when they differ from today's. Messages archived before these were recorded are composed with
today's settings.

DKIM signatures are kept as archived, not made again (that would need the private key, perhaps long
retired): the message is composed unsigned, the archived `DKIM-Signature` header fields are put in front
of it, and each one's body hash (`bh=`) is checked against the re-rendered body, canonicalised as signed.
No DNS and no key are needed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dkim
from dkim.canonicalization import CanonicalizationPolicy, InvalidCanonicalizationPolicyError
from dkim.util import InvalidTagValueList, parse_tag_value
from sqlmodel import Session

from archive import sha256_hex
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import read_payload, read_snapshot
from ccm.archiving.vault import ArchiveVault
from ccm.channels import ComposeContext
from ccm.channels.bounded import PREVIEW, compose_bounded
from ccm.channels.compose import asset_digests, recorded_settings, renderer_versions
from ccm.communications.models import Message, MessageStatus
from ccm.engagement.links import EngagementLinks
from ccm.engagement.tokens import UnknownTokenKey, token_signer
from ccm.errors import NotFound
from ccm.registry.locales import parts_for_context
from ccm.registry.models import TemplateVersion
from ccm.settings import Settings

CONTEXT_BYTES = 40
DKIM_FIELD = b"dkim-signature:"


@dataclass(frozen=True)
class RerenderResult:
    message_id: str
    matches: bool
    archived_sha256: str
    rerendered_sha256: str
    first_difference: str | None
    inputs_recorded: bool = False
    """Whether the snapshot held the render inputs (False: archived before they were kept)."""
    changed_inputs: tuple[str, ...] = ()
    """Recorded inputs that differ from today's environment: renderer versions, assets, the token key."""
    dkim: tuple[str, ...] = ()
    """One line per archived DKIM signature: kept as archived, and whether its body hash matches."""


def rerender(session: Session, vault: ArchiveVault, entry: ArchiveEntry) -> tuple[bytes, RerenderResult]:
    """The re-composed bytes (with the archived DKIM signatures in front) and how they compare."""
    snapshot = read_snapshot(vault, session, entry)
    version = session.get(TemplateVersion, snapshot.get("template_version_id"))
    if version is None:
        raise NotFound(
            f"the template version of message {entry.message_id} is gone", code="version_not_found"
        )
    inputs = snapshot.get("render_inputs")
    message = _message(entry, snapshot, version)
    archived = read_payload(vault, entry)
    parts = parts_for_context(version, message.context)
    composed, changed = _recompose(message, parts, vault.settings, inputs, archived)
    signatures = dkim_signatures(archived)
    checks = [body_hash_check(field, composed) for field in signatures]
    produced = b"".join(signatures) + composed
    if inputs is not None:
        changed += environment_changes(vault.settings, inputs)
    result = RerenderResult(
        message_id=entry.message_id,
        matches=produced == archived and all(ok for ok, _ in checks),
        archived_sha256=sha256_hex(archived),
        rerendered_sha256=sha256_hex(produced),
        first_difference=first_difference(archived, produced),
        inputs_recorded=inputs is not None,
        changed_inputs=tuple(changed),
        dkim=tuple(line for _, line in checks),
    )
    return produced, result


def _message(entry: ArchiveEntry, snapshot: dict[str, Any], version: TemplateVersion) -> Message:
    """The outbox row as it was when composed, rebuilt from the index row and the snapshot."""
    return Message(
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


def _recompose(
    message: Message,
    parts: dict[str, Any],
    settings: Settings,
    inputs: Mapping[str, Any] | None,
    archived: bytes,
) -> tuple[bytes, list[str]]:
    """The unsigned bytes of the first candidate context that reproduces `archived`, else of the first,
    with the recorded inputs that could not be put back (see `recorded_contexts`)."""
    signatures = b"".join(dkim_signatures(archived))
    contexts = recorded_contexts(settings, inputs)
    tries = (
        (compose_bounded(settings, PREVIEW, message, parts, ctx).payload, changed)
        for ctx, changed in contexts
    )
    first = next(tries)
    if signatures + first[0] == archived:
        return first
    return next((tried for tried in tries if signatures + tried[0] == archived), first)


def recorded_contexts(
    settings: Settings, inputs: Mapping[str, Any] | None
) -> Iterator[tuple[ComposeContext, list[str]]]:
    """Today's settings with the recorded inputs put back, and no DKIM signer (signatures are kept),
    with the recorded token key that is no longer configured, if any (links then differ).

    Without recorded inputs there are two candidates, tried in turn: today's settings with tokens without
    a key id (as they were signed before key ids existed), and today's settings as they are.
    """
    signer = token_signer(settings)
    if inputs is None:
        for tokens in (signer.signing_with(None), signer):
            yield ComposeContext(settings, EngagementLinks(settings.base_url, tokens)), []
        return
    restored = recorded_settings(settings, inputs)
    key_id = inputs.get("token_key_id")
    try:
        tokens, changed = signer.signing_with(key_id), []
    except UnknownTokenKey:
        tokens, changed = signer, [f"token key {key_id!r}: no longer configured (CCM_TOKEN_KEYS)"]
    yield ComposeContext(restored, EngagementLinks(restored.base_url, tokens)), changed


def environment_changes(settings: Settings, inputs: Mapping[str, Any]) -> list[str]:
    """What of the recorded environment differs today: renderer versions, and PDF assets by name."""
    recorded, today = dict(inputs.get("renderers") or {}), renderer_versions()
    changes = [
        f"renderer {name}: {recorded[name] or 'absent'} at send time, {today.get(name) or 'absent'} now"
        for name in sorted(recorded)
        if recorded[name] != today.get(name)
    ]
    before, now = dict(inputs.get("assets") or {}), asset_digests(settings.assets_dir, cached=False)
    for name in sorted(before.keys() | now.keys()):
        if name not in now:
            changes.append(f"asset {name}: removed since it was sent")
        elif name not in before:
            changes.append(f"asset {name}: added since it was sent")
        elif before[name] != now[name]:
            changes.append(f"asset {name}: changed (sha256 {before[name][:16]}… then, {now[name][:16]}… now)")
    return changes


def dkim_signatures(archived: bytes) -> list[bytes]:
    """The `DKIM-Signature` header fields the archived bytes start with, exactly as stored."""
    fields, start = [], 0
    while archived[start : start + len(DKIM_FIELD)].lower() == DKIM_FIELD:
        end = _field_end(archived, start)
        fields.append(archived[start:end])
        start = end
    return fields


def _field_end(data: bytes, start: int) -> int:
    """Where the header field at `start` ends: after a line break not followed by folding whitespace."""
    end = start
    while (newline := data.find(b"\n", end)) >= 0:
        end = newline + 1
        if data[end : end + 1] not in (b" ", b"\t"):
            return end
    return len(data)


def body_hash_check(field: bytes, message: bytes) -> tuple[bool, str]:
    """Whether a signature's body hash (`bh=`) is that of `message`'s body canonicalised as signed."""
    value = re.sub(rb"\r?\n(?=[ \t])", b"", field.split(b":", 1)[1])
    try:
        tags = parse_tag_value(value)
        canon = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
        hasher = dkim.HASH_ALGORITHMS[tags[b"a"]]
        recorded = base64.b64decode(re.sub(rb"\s+", b"", tags[b"bh"]), validate=True)
        length = int(tags[b"l"]) if b"l" in tags else None
    except (InvalidTagValueList, InvalidCanonicalizationPolicyError, KeyError, ValueError) as exc:
        return False, f"DKIM-Signature kept as archived, but unreadable: {exc!r}"
    _, body = dkim.rfc822_parse(message)
    ok = hasher(canon.canonicalize_body(body)[:length]).digest() == recorded
    name = " ".join(f"{t}={tags.get(t.encode(), b'?').decode(errors='replace')}" for t in ("d", "s", "a"))
    verdict = "matches" if ok else "does NOT match"
    return ok, f"DKIM-Signature {name}: kept as archived; its body hash (bh=) {verdict} the re-rendered body"


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
