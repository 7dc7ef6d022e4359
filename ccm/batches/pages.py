"""The pages of a run's documents, counted from the archived bytes: a PDF, or the PDFs an email attaches."""

from __future__ import annotations

import email
import io
from email import policy

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from archive import ArchiveError
from ccm.archiving.models import ArchiveEntry
from ccm.archiving.service import find_entry, read_payload
from ccm.archiving.vault import ArchiveVault
from ccm.batches.models import BatchPages
from ccm.communications.models import Message
from ccm.database import session_scope

PDF = "application/pdf"


def pdf_pages(payload: bytes, content_type: str) -> int:
    """Pages of a PDF payload, or of every PDF attached to an email; 0 for anything else."""
    media = content_type.split(";")[0].strip().lower()
    if media == PDF:
        return _pages(payload)
    if media == "message/rfc822":
        parsed = email.message_from_bytes(payload, policy=policy.default)
        attached = [part.get_payload(decode=True) for part in parsed.walk() if part.get_content_type() == PDF]
        return sum(_pages(data) for data in attached if isinstance(data, bytes))
    return 0


def _pages(data: bytes) -> int:
    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError):
        return 0


def record_pages(session: Session, vault: ArchiveVault, batch_id: int, message_id: str) -> int | None:
    """Count and keep the pages of one archived message of a run; None while it is not archived."""
    entry = find_entry(session, message_id)
    if entry is None:
        return None
    try:
        pages = pdf_pages(read_payload(vault, entry), entry.content_type)
    except ArchiveError:
        return None
    session.exec(
        insert(BatchPages), params=[{"message_id": message_id, "batch_id": batch_id, "pages": pages}]
    )
    return pages


def count_missing_pages(engine: Engine, vault: ArchiveVault, batch_id: int, *, limit: int = 500) -> int:
    """Count the pages of archived messages of a run that nobody counted yet (messages a `ccm worker` sent
    rather than the run's own processes, or whose process was killed before counting); returns how many
    were counted (an unreadable one is left for a later call)."""
    with session_scope(engine) as session:
        counted = select(BatchPages.message_id).where(BatchPages.batch_id == batch_id)
        ids = session.exec(
            select(Message.id)
            .join(ArchiveEntry, col(ArchiveEntry.message_id) == col(Message.id))
            .where(Message.batch_id == batch_id, col(Message.id).not_in(counted))
            .limit(limit)
        ).all()
        counted_now = 0
        for message_id in ids:
            try:
                with session.begin_nested():
                    counted_now += record_pages(session, vault, batch_id, message_id) is not None
            except IntegrityError:
                continue  # counted meanwhile by the run's own process
    return counted_now
