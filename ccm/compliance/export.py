"""A self-verifying zip of archived messages: the original files, `SHA256SUMS`, a manifest tying each file
to its chain record, the chain segments up to signed checkpoints, and instructions that need no ccm."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ccm.archiving import chain
from ccm.archiving.models import ArchiveEntry, ChainRecord, Checkpoint
from ccm.archiving.service import read_payload
from ccm.archiving.vault import ArchiveVault
from ccm.channels import file_extension
from ccm.database import utcnow

FILES_DIR = Path(__file__).resolve().parent / "export_files"
MAX_ENTRIES = 1000


def file_name(entry: ArchiveEntry) -> str:
    return f"messages/{entry.message_id}.{file_extension(entry.channel)}"


def build_export(
    session: Session, vault: ArchiveVault, entries: Sequence[ArchiveEntry], query: dict[str, Any]
) -> bytes:
    """The zip's bytes; entries that were purged are listed in the manifest but carry no file."""
    signed = chain.checkpoint(session, vault.url, vault.signer)  # the head is signed before it is exported
    checkpoints = chain.checkpoints(session, vault.url)
    buffer = io.BytesIO()
    manifest_entries, sums, purged = [], [], []
    segments: dict[int, dict[str, Any]] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            record = _record(session, vault, entry)
            if entry.purged_at is not None or record is None:
                purged.append(entry.message_id)
                continue
            name = file_name(entry)
            archive.writestr(name, read_payload(vault, entry))
            sums.append(f"{entry.sha256}  {name}\n")
            manifest_entries.append(_manifest_entry(entry, record, name))
            _add_segment(session, vault, segments, record.seq, checkpoints)
        for cp in checkpoints:
            if cp.seq in segments:
                stem = f"chain/checkpoint-{cp.id}-{cp.seq}"
                archive.writestr(
                    f"{stem}.json",
                    chain.checkpoint_message(cp.chain, cp.seq, cp.record_hash, chain.iso(cp.signed_at)),
                )
                archive.writestr(f"{stem}.sig", base64.b64decode(cp.signature))
        manifest = {
            "format": "ccm-archive-export/1",
            "exported_at": chain.iso(utcnow()),
            "store": vault.url,
            "query": query,
            "public_key": vault.signer.public_key_b64,
            "public_key_fingerprint": vault.signer.fingerprint,
            "head": _checkpoint_out(signed) if signed else None,
            "entries": manifest_entries,
            "purged": purged,
            "segments": list(segments.values()),
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
        archive.writestr("SHA256SUMS", "".join(sums))
        archive.writestr("chain/public_key.pem", vault.signer.public_key_pem)
        archive.writestr("VERIFY.md", (FILES_DIR / "VERIFY.md").read_text())
        archive.writestr("verify_export.py", (FILES_DIR / "verify_export.py.txt").read_text())
    return buffer.getvalue()


def _record(session: Session, vault: ArchiveVault, entry: ArchiveEntry) -> ChainRecord | None:
    if entry.chain_seq is None:
        return None
    found = chain.records(session, vault.url, start=entry.chain_seq, end=entry.chain_seq)
    return found[0] if found else None


def _manifest_entry(entry: ArchiveEntry, record: ChainRecord, name: str) -> dict[str, Any]:
    return {
        "message_id": entry.message_id,
        "file": name,
        "sha256": entry.sha256,
        "size": entry.size,
        "content_type": entry.content_type,
        "channel": entry.channel,
        "category": entry.category,
        "template": entry.template_key,
        "template_version": entry.template_version,
        "archived_at": chain.iso(entry.created_at),
        "retain_until": entry.retain_until.isoformat() if entry.retain_until else None,
        "chain_position": record.seq,
        "record_hash": record.record_hash,
        "record": record.body,
    }


def _add_segment(
    session: Session,
    vault: ArchiveVault,
    segments: dict[int, dict[str, Any]],
    seq: int,
    checkpoints: list[Checkpoint],
) -> None:
    """The records from `seq` to the first signed checkpoint at or after it (merged per checkpoint)."""
    target = next((cp for cp in checkpoints if cp.seq >= seq), None)
    if target is None:
        return
    start = min(seq, segments[target.seq]["records"][0]["seq"]) if target.seq in segments else seq
    records = chain.records(session, vault.url, start=start, end=target.seq)
    segments[target.seq] = {"checkpoint": _checkpoint_out(target), "records": [r.body for r in records]}


def _checkpoint_out(cp: Checkpoint) -> dict[str, Any]:
    return {
        "chain": cp.chain,
        "seq": cp.seq,
        "record_hash": cp.record_hash,
        "signed_at": chain.iso(cp.signed_at),
        "signature": cp.signature,
        "key_fingerprint": cp.key_fingerprint,
    }
