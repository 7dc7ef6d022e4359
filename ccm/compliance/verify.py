"""Walk an archive chain and its stored objects; report every altered, missing, reordered or extra entry.

Checks, in order: each chain record's hash recomputes from its body and links to its predecessor; the head
row matches the last record; every signed checkpoint verifies and still matches the record it signed; each
index row agrees with its chain record; each live object is present and its bytes hash to what was
recorded (an object holding another entry's bytes is reported as swapped); objects the chain does not
know are reported as extra. Purged entries need a tombstone, which is itself part of the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from archive import ArchiveError, ObjectNotFound, sha256_hex
from ccm.archiving import chain
from ccm.archiving.models import GENESIS, ArchiveEntry, ChainRecord
from ccm.archiving.service import ARCHIVE_KIND, chain_fields
from ccm.archiving.signing import signature_valid
from ccm.archiving.vault import OBJECT_PREFIX, ArchiveVault
from ccm.compliance.purge import TOMBSTONE_KIND


@dataclass(frozen=True)
class Issue:
    message_id: str
    problem: str  # altered | missing | reordered | extra | unsigned | unchained
    detail: str
    seq: int | None = None


@dataclass
class Report:
    store_url: str
    records: int = 0
    objects_checked: int = 0
    tombstones: int = 0
    checkpoint_seq: int | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def verify_archive(session: Session, vault: ArchiveVault, *, check_objects: bool = True) -> Report:
    """The full check of the vault's chain and store (reads every live object when `check_objects`)."""
    report = Report(store_url=vault.url)
    records = chain.records(session, vault.url)
    report.records = len(records)
    report.issues.extend(_chain_issues(session, vault, records))
    live = _live_records(records)
    report.tombstones = sum(1 for r in records if r.kind == TOMBSTONE_KIND)
    report.issues.extend(_index_issues(session, vault, records))
    if check_objects:
        by_object_hash = {str(r.body.get("object_sha256")): r.message_id for r in live}
        for record in live:
            report.objects_checked += 1
            report.issues.extend(_object_issues(vault, record, by_object_hash))
        known = {str(r.body.get("object_key")) for r in records if r.kind == ARCHIVE_KIND}
        report.issues.extend(_extra_objects(vault, known))
    latest = chain.latest_checkpoint(session, vault.url)
    report.checkpoint_seq = latest.seq if latest else None
    return report


def verify_entry(session: Session, vault: ArchiveVault, entry: ArchiveEntry) -> list[Issue]:
    """The checks that concern one entry: its record's hash and links, its index row and its object."""
    if entry.chain_seq is None:
        return [Issue(entry.message_id, "unchained", "archived before the hash chain existed")]
    found = chain.records(session, vault.url, start=max(entry.chain_seq - 1, 1), end=entry.chain_seq + 1)
    record = next((r for r in found if r.seq == entry.chain_seq), None)
    if record is None or record.message_id != entry.message_id:
        return [Issue(entry.message_id, "missing", "its chain record is gone", entry.chain_seq)]
    issues = [i for i in _chain_issues(session, vault, found, partial=True) if i.seq == record.seq]
    issues.extend(_row_issues(entry, record))
    if entry.purged_at is None:
        issues.extend(_object_issues(vault, record, {}))
    return issues


def _chain_issues(
    session: Session, vault: ArchiveVault, records: list[ChainRecord], *, partial: bool = False
) -> Iterator[Issue]:
    prev = records[0].prev_hash if partial and records else GENESIS
    expected = records[0].seq if partial and records else 1
    for record in records:
        if record.seq != expected:
            yield Issue(
                record.message_id, "reordered", f"at position {record.seq}, expected {expected}", record.seq
            )
        if chain.hash_of(record.body) != record.record_hash or _columns_disagree(record):
            yield Issue(record.message_id, "altered", "its chain record was changed", record.seq)
        elif record.prev_hash != prev or record.body.get("prev") != prev:
            yield Issue(record.message_id, "reordered", "does not link to the record before it", record.seq)
        prev, expected = record.record_hash, record.seq + 1
    if partial:
        return
    head = chain.head(session, vault.url)
    if head is not None and (head.seq != expected - 1 or head.head_hash != prev):
        yield Issue(
            "", "missing", f"the chain's head is record {head.seq} but the records end at {expected - 1}"
        )
    by_seq = {r.seq: r for r in records}
    for checkpoint in chain.checkpoints(session, vault.url):
        message = chain.checkpoint_message(
            checkpoint.chain, checkpoint.seq, checkpoint.record_hash, chain.iso(checkpoint.signed_at)
        )
        signed = by_seq.get(checkpoint.seq)
        if not signature_valid(vault.signer.public_key, message, checkpoint.signature):
            yield Issue(
                "", "unsigned", f"checkpoint at {checkpoint.seq} has an invalid signature", checkpoint.seq
            )
        elif signed is None or signed.record_hash != checkpoint.record_hash:
            mid = signed.message_id if signed else ""
            yield Issue(
                mid, "altered", f"differs from the signed checkpoint at {checkpoint.seq}", checkpoint.seq
            )


def _columns_disagree(record: ChainRecord) -> bool:
    body = record.body
    return (body.get("seq"), body.get("kind"), body.get("message_id")) != (
        record.seq,
        record.kind,
        record.message_id,
    )


def _live_records(records: list[ChainRecord]) -> list[ChainRecord]:
    purged = {str(r.body.get("target_seq")) for r in records if r.kind == TOMBSTONE_KIND}
    return [r for r in records if r.kind == ARCHIVE_KIND and str(r.seq) not in purged]


def _index_issues(session: Session, vault: ArchiveVault, records: list[ChainRecord]) -> Iterator[Issue]:
    by_message = {r.message_id: r for r in records if r.kind == ARCHIVE_KIND}
    entries = session.exec(select(ArchiveEntry).where(col(ArchiveEntry.store_url) == vault.url))
    seen = set()
    for entry in entries:
        seen.add(entry.message_id)
        if entry.chain_seq is None:
            continue  # archived before the chain: nothing to compare with
        record = by_message.get(entry.message_id)
        if record is None:
            yield Issue(entry.message_id, "missing", "indexed but absent from the chain", entry.chain_seq)
        else:
            yield from _row_issues(entry, record)
    for message_id, record in by_message.items():
        if message_id not in seen:
            yield Issue(message_id, "missing", "in the chain but its index entry is gone", record.seq)


def _row_issues(entry: ArchiveEntry, record: ChainRecord) -> Iterator[Issue]:
    recorded = {k: v for k, v in record.body.items() if k in chain_fields(entry)}
    if recorded != chain_fields(entry) or entry.chain_seq != record.seq:
        yield Issue(entry.message_id, "altered", "its index entry differs from its chain record", record.seq)


def _object_issues(vault: ArchiveVault, record: ChainRecord, by_hash: dict[str, str]) -> Iterator[Issue]:
    key, version = str(record.body.get("object_key")), str(record.body.get("version_id"))
    try:
        data = vault.store.read_version(key, version)
    except ObjectNotFound:
        yield Issue(record.message_id, "missing", f"object {key} is gone without a tombstone", record.seq)
        return
    except ArchiveError as error:
        yield Issue(record.message_id, "missing", f"object {key} cannot be read: {error}", record.seq)
        return
    digest = sha256_hex(data)
    if digest == record.body.get("object_sha256"):
        return
    other = by_hash.get(digest)
    if other and other != record.message_id:
        yield Issue(
            record.message_id, "reordered", f"its object holds the bytes of message {other}", record.seq
        )
    else:
        yield Issue(record.message_id, "altered", f"object {key} does not match its SHA-256", record.seq)


def _extra_objects(vault: ArchiveVault, known: set[str]) -> Iterator[Issue]:
    try:
        keys = list(vault.store.list_keys(OBJECT_PREFIX))
    except ArchiveError as error:
        yield Issue("", "missing", f"cannot list the store: {error}")
        return
    for key in keys:
        if key not in known:
            yield Issue(key.rsplit("/", 1)[-1], "extra", f"object {key} is not in the chain")
