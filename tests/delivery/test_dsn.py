"""parse_dsn / dsn_events on realistic Postfix and Exchange bounces, and on garbage."""

from __future__ import annotations

import pytest

from delivery import ProviderEventType, dsn_events, parse_dsn

POSTFIX_HARD = b"""\
Return-Path: <>
Received: by mx.ccm.example (Postfix) id 4F1B8C0E12; Tue,  3 Mar 2026 10:00:05 +0000 (UTC)
Date: Tue,  3 Mar 2026 10:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.ccm.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@ccm.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1B8C0E12.1772532005/mx.ccm.example"
Message-Id: <20260303100005.4F1B8C0E12@mx.ccm.example>

This is a MIME-encapsulated message.

--4F1B8C0E12.1772532005/mx.ccm.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.ccm.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@example.org>: host mx.example.org[192.0.2.10] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4F1B8C0E12.1772532005/mx.ccm.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ccm.example
X-Postfix-Queue-ID: 4F1B8C0E12
X-Postfix-Sender: rfc822; bounces@ccm.example
Arrival-Date: Tue,  3 Mar 2026 10:00:04 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.org
Original-Recipient: rfc822;nobody@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--4F1B8C0E12.1772532005/mx.ccm.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <bounces@ccm.example>
From: Shop <shop@ccm.example>
To: nobody@example.org
Subject: Your invoice
Message-ID: <inv-1@ccm.example>
X-CCM-Message-Id: msg_01HXYZ

--4F1B8C0E12.1772532005/mx.ccm.example--
""".replace(b"\n", b"\r\n")

EXCHANGE = b"""\
From: postmaster@contoso.example
To: bounces@ccm.example
Date: Tue, 3 Mar 2026 10:01:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="b1_exchange"
Subject: Undeliverable: Your statement
Message-ID: <ndr-77@contoso.example>
Auto-Submitted: auto-replied

--b1_exchange
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups:

ghost@contoso.example
The email address you entered couldn't be found.

--b1_exchange
Content-Type: message/delivery-status

Reporting-MTA: dns;EX01.contoso.example
Received-From-MTA: dns;mx.ccm.example
Arrival-Date: Tue, 3 Mar 2026 10:00:59 +0000

Original-Recipient: rfc822;ghost@contoso.example
Final-Recipient: rfc822;ghost@contoso.example
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup
X-Display-Name: Ghost

Final-Recipient: rfc822;full@contoso.example
Action: failed
Status: 4.2.2
Diagnostic-Code: smtp;452 4.2.2 Mailbox full

Final-Recipient: rfc822;slow@contoso.example
Action: delayed
Status: 4.4.7
Will-Retry-Until: Wed, 4 Mar 2026 10:00:59 +0000

--b1_exchange
Content-Type: message/rfc822

From: Bank <statements@ccm.example>
To: ghost@contoso.example
Subject: Your statement
Message-ID: <stmt-9@ccm.example>
MIME-Version: 1.0
Content-Type: text/plain

Your statement is attached.

--b1_exchange--
""".replace(b"\n", b"\r\n")


REPORT = b"Content-Type: multipart/report; boundary=x\r\n\r\n"


def test_postfix_hard_bounce() -> None:
    dsn = parse_dsn(POSTFIX_HARD)

    assert dsn.reporting_mta == "mx.ccm.example"
    assert dsn.ccm_message_id == "msg_01HXYZ"
    assert dsn.message_id_header == "<inv-1@ccm.example>"
    assert dsn.queue_id == "4F1B8C0E12"
    (recipient,) = dsn.recipients
    assert recipient.recipient == "nobody@example.org"
    assert recipient.status == "5.1.1"
    assert recipient.hard is True
    assert recipient.subject == "addressing"
    assert recipient.remote_mta == "mx.example.org"
    assert recipient.diagnostic_code.startswith(
        "smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected"
    )
    (event,) = dsn_events(POSTFIX_HARD)
    assert event.type is ProviderEventType.BOUNCED
    assert event.provider == "smtp"
    assert event.provider_message_id == "msg_01HXYZ"
    assert event.detail.startswith("hard 5.1.1 nobody@example.org: smtp; 550")
    assert event.raw["bounce"] == "hard"


def test_exchange_report_with_several_recipients() -> None:
    dsn = parse_dsn(EXCHANGE)

    assert dsn.ccm_message_id is None
    assert dsn.original_message_id == "<stmt-9@ccm.example>"  # from the attached message/rfc822
    assert [r.status for r in dsn.recipients] == ["5.1.10", "4.2.2", "4.4.7"]
    assert dsn.recipients[0].original_recipient == "ghost@contoso.example"
    assert "Recipient not found by SMTP address lookup" in dsn.recipients[0].diagnostic_code
    events = dsn.events(provider="smtp-relay")
    assert [(e.type, e.raw["recipient"], e.raw["bounce"]) for e in events] == [
        (ProviderEventType.BOUNCED, "ghost@contoso.example", "hard"),
        (ProviderEventType.BOUNCED, "full@contoso.example", "soft"),
    ]  # the delayed recipient is not final: no event
    assert events[1].detail.startswith("soft 4.2.2")
    assert events[1].raw["subject"] == "mailbox"


def test_failed_without_status_is_failed_and_delivered_is_delivered() -> None:
    data = EXCHANGE.replace(b"Status: 5.1.10\r\n", b"").replace(b"Action: delayed", b"Action: delivered")
    data = data.replace(b"Status: 4.4.7", b"Status: 2.0.0")

    events = dsn_events(data)

    assert [e.type for e in events] == [
        ProviderEventType.FAILED,
        ProviderEventType.BOUNCED,
        ProviderEventType.DELIVERED,
    ]


def test_dsn_without_any_reference_cannot_become_events() -> None:
    data = POSTFIX_HARD.replace(b"X-CCM-Message-Id: msg_01HXYZ\r\n", b"").replace(
        b"Message-ID: <inv-1@ccm.example>\r\n", b""
    )
    data = data.replace(b"X-Postfix-Queue-ID: 4F1B8C0E12\r\n", b"")

    assert parse_dsn(data).original_message_id is None
    with pytest.raises(ValueError, match="no original message"):
        dsn_events(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n",
        b"\x00\xff\xfe garbage \x80",
        b"Subject: hello\r\n\r\njust a message\r\n",
        REPORT + b"--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n",
        REPORT + b"--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a\r\n--x--\r\n",
        b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n",
        POSTFIX_HARD[:400],
        POSTFIX_HARD.replace(b"Final-Recipient", b"X-Nothing"),
    ],
)
def test_garbage_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_dsn(data)
