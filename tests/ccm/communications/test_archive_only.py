"""Archive-only messages (print runs): rendered, sealed and chained exactly as any other, then `archived`,
with nothing handed to a provider."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from ccm.archiving.service import find_entry
from ccm.communications.models import TERMINAL_STATUSES, Message, MessageStatus
from ccm.compliance.rerender import rerender
from ccm.compliance.verify import verify_archive
from ccm.database import session_scope
from ccm.engagement.models import Event
from tests.ccm.conftest import INVOICE, ServiceFactory, send
from tests.fixtures.smtp import SmtpTestServer


def test_an_archive_only_message_is_archived_and_never_handed_off(
    service_factory: ServiceFactory, smtp_server: SmtpTestServer, customer: dict[str, Any]
) -> None:
    service = service_factory(email_provider="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    printed = send(service, INVOICE, "print-1")
    mailed = send(service, INVOICE, "mail-1")
    with session_scope(service.runtime.engine) as session:
        session.exec(update(Message).where(col(Message.id) == printed).values(archive_only=True))

    service.work()

    assert service.message(printed)["status"] == "archived"
    assert service.message(mailed)["status"] == "sent"
    [received] = smtp_server.wait_for(1)
    assert printed.encode() not in received.data  # only the mailed one reached the sink
    assert service.work() == 0  # archived is final: nothing claims it again
    with Session(service.runtime.engine) as session:
        message = session.get(Message, printed)
        assert message is not None and message.locked_by is None and message.attempts == 0
        entry = find_entry(session, printed)
        assert entry is not None and entry.chain_seq is not None and entry.sealed_snapshot is not None
        _, result = rerender(session, service.runtime.archive, entry)
        assert result.matches  # the same bytes a sent message's archive holds: a re-render reproduces them
        assert verify_archive(session, service.runtime.archive).ok
        kinds = session.exec(
            select(Event.type).where(col(Event.message_id) == printed).order_by(col(Event.id))
        ).all()
    assert list(kinds) == ["queued", "archived"]


def test_archived_is_a_final_status() -> None:
    assert MessageStatus.ARCHIVED in TERMINAL_STATUSES
