"""OutboxProvider and its readers: what the web UI shows is exactly what a send wrote."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from delivery import (
    Channel,
    OutboxProvider,
    Outcome,
    OutgoingMessage,
    ProviderConfigurationError,
    list_outbox,
    read_outbox,
)
from delivery.outbox import delete_outbox_entry

CONTENT_TYPES: dict[str, str] = {
    Channel.EMAIL: "message/rfc822",
    Channel.SMS: "application/json",
    Channel.PDF: "application/pdf",
}


def message(
    message_id: str,
    channel: str = Channel.EMAIL,
    payload: bytes = b"Subject: hi\r\n\r\nx\r\n",
    content_type: str | None = None,
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        channel=channel,
        recipient="anna@example.org",
        sender="shop@example.com",
        payload=payload,
        content_type=content_type or CONTENT_TYPES.get(channel, "application/octet-stream"),
        metadata={"template": "invoice"},
    )


def test_send_writes_payload_and_meta(tmp_path: Path) -> None:
    outbox = OutboxProvider(tmp_path, Channel.EMAIL)

    result = outbox.send(message("m-1"))

    assert result.outcome is Outcome.ACCEPTED
    assert result.provider == "outbox"
    assert result.provider_message_id == "outbox-m-1"
    assert (tmp_path / "m-1.eml").read_bytes() == b"Subject: hi\r\n\r\nx\r\n"
    meta = json.loads((tmp_path / "m-1.meta.json").read_text())
    assert meta["channel"] == "email"
    assert meta["recipient"] == "anna@example.org"
    assert meta["metadata"] == {"template": "invoice"}
    accepted_at = datetime.fromisoformat(meta["accepted_at"])
    assert accepted_at.tzinfo is not None
    assert abs(datetime.now(UTC) - accepted_at) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("content_type", "suffix"),
    [
        ("message/rfc822", "eml"),
        ("application/json", "json"),
        ("application/pdf", "pdf"),
        ("text/plain; charset=utf-8", "txt"),
        ("Application/PDF", "pdf"),
        ("image/tiff", "bin"),
    ],
)
def test_file_suffix_follows_the_content_type(tmp_path: Path, content_type: str, suffix: str) -> None:
    OutboxProvider(tmp_path, Channel.SMS).send(message("x1", Channel.SMS, b"payload", content_type))

    assert (tmp_path / f"x1.{suffix}").read_bytes() == b"payload"
    assert read_outbox(tmp_path, "x1")[1] == b"payload"


def test_a_channel_registered_by_the_service_is_written_and_read_back(tmp_path: Path) -> None:
    fax = OutboxProvider(tmp_path, "fax", name="fax-outbox")

    result = fax.send(message("f1", "fax", b"II*\x00tiff", "image/tiff"))

    assert result.accepted, result.detail
    entry, data = read_outbox(tmp_path, "f1")
    assert (entry.channel, entry.content_type, data) == ("fax", "image/tiff", b"II*\x00tiff")
    assert (tmp_path / "f1.bin").exists()
    assert [e.message_id for e in list_outbox(tmp_path, channel="fax")] == ["f1"]
    assert fax.send(message("e1")).outcome is Outcome.PERMANENT_ERROR  # still one channel per provider


def test_plain_string_channels_match_the_built_in_constants(tmp_path: Path) -> None:
    assert OutboxProvider(tmp_path, Channel.EMAIL).send(message("m1", "email")).accepted
    assert OutboxProvider(tmp_path, "email").send(message("m2", Channel.EMAIL)).accepted
    assert sorted(e.message_id for e in list_outbox(tmp_path, channel="email")) == ["m1", "m2"]


@pytest.mark.parametrize("channel", ["", "Fax", "1fax", "fax-2", "fax\n", "x" * 33, "../up"])
def test_malformed_channel_names_are_refused(tmp_path: Path, channel: str) -> None:
    with pytest.raises(ProviderConfigurationError, match="channel"):
        OutboxProvider(tmp_path, channel)


def test_read_returns_entry_and_exact_bytes(tmp_path: Path) -> None:
    payload = bytes(range(256))
    OutboxProvider(tmp_path, Channel.PDF, name="print-outbox").send(message("p1", Channel.PDF, payload))

    entry, data = read_outbox(tmp_path, "p1")

    assert data == payload
    assert entry.message_id == "p1"
    assert entry.channel == Channel.PDF
    assert type(entry.channel) is str
    assert entry.provider_message_id == "outbox-p1"
    assert entry.metadata == {"template": "invoice"}


def test_list_is_newest_first_filtered_and_paged(tmp_path: Path) -> None:
    email = OutboxProvider(tmp_path, Channel.EMAIL, name="email-outbox")
    text = OutboxProvider(tmp_path, Channel.SMS, name="sms-outbox")
    for i in range(5):
        email.send(message(f"e{i}"))
        text.send(message(f"s{i}", Channel.SMS, b"{}"))
    for age, meta in enumerate(sorted(tmp_path.glob("*.meta.json"), key=lambda p: p.name, reverse=True)):
        os.utime(meta, ns=(0, 1_700_000_000_000_000_000 - age * 1_000_000_000))  # e4 > e3 > ... deterministic

    assert [e.message_id for e in list_outbox(tmp_path, channel=Channel.EMAIL)] == [
        "e4",
        "e3",
        "e2",
        "e1",
        "e0",
    ]
    assert [e.message_id for e in list_outbox(tmp_path, channel=Channel.SMS, limit=2, offset=1)] == [
        "s3",
        "s2",
    ]
    assert len(list_outbox(tmp_path)) == 10
    assert list_outbox(tmp_path, limit=0) == []


def test_same_message_twice_keeps_one_entry(tmp_path: Path) -> None:
    outbox = OutboxProvider(tmp_path, Channel.EMAIL)

    assert outbox.send(message("dup")).accepted
    assert outbox.send(message("dup", payload=b"second\r\n")).accepted

    assert [e.message_id for e in list_outbox(tmp_path)] == ["dup"]
    assert read_outbox(tmp_path, "dup")[1] == b"second\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dup.eml", "dup.meta.json"]  # no temp files left


@pytest.mark.parametrize(
    "message_id", ["../escape", "a/b", "/etc/passwd", "..", ".hidden", "", "a\x00b", "x" * 300]
)
def test_unsafe_message_ids_are_refused(tmp_path: Path, message_id: str) -> None:
    outbox_dir = tmp_path / "outbox"

    result = OutboxProvider(outbox_dir, Channel.EMAIL).send(message(message_id))

    assert result.outcome is Outcome.PERMANENT_ERROR
    assert list(tmp_path.rglob("*.eml")) == []
    with pytest.raises(KeyError):
        read_outbox(outbox_dir, message_id)


def test_unknown_ids_raise_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="nope"):
        read_outbox(tmp_path, "nope")


def test_missing_directory_lists_nothing(tmp_path: Path) -> None:
    assert list_outbox(tmp_path / "never-created") == []


def test_wrong_channel_is_refused(tmp_path: Path) -> None:
    result = OutboxProvider(tmp_path, Channel.SMS).send(message("m1", Channel.EMAIL))

    assert result.outcome is Outcome.PERMANENT_ERROR


def test_unwritable_directory_is_transient(tmp_path: Path) -> None:
    outbox = OutboxProvider(tmp_path / "box", Channel.EMAIL)
    (tmp_path / "box").rmdir()
    (tmp_path / "box").write_text("a file where the directory was")

    result = outbox.send(message("m1"))

    assert result.outcome is Outcome.TRANSIENT_ERROR


def test_delete_removes_payload_and_meta_of_that_message_only(tmp_path: Path) -> None:
    OutboxProvider(tmp_path, Channel.EMAIL).send(message("m-1"))
    OutboxProvider(tmp_path, Channel.SMS).send(message("m-2", Channel.SMS, b"{}"))
    OutboxProvider(tmp_path, Channel.PDF).send(message("m-3", Channel.PDF, b"%PDF-1.7"))
    OutboxProvider(tmp_path, Channel.EMAIL).send(message("m-10"))

    assert delete_outbox_entry(tmp_path, "m-1")
    assert delete_outbox_entry(tmp_path, "m-2")
    assert delete_outbox_entry(tmp_path, "m-3")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-10.eml", "m-10.meta.json"]
    assert [e.message_id for e in list_outbox(tmp_path)] == ["m-10"]
    with pytest.raises(KeyError):
        read_outbox(tmp_path, "m-1")


def test_delete_of_a_payload_without_meta_still_removes_it(tmp_path: Path) -> None:
    (tmp_path / "half.pdf").write_bytes(b"%PDF")  # a crash between the payload and the meta file

    assert delete_outbox_entry(tmp_path, "half")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("message_id", ["../escape", "a/b", "..", ".hidden", "", "unknown"])
def test_delete_of_unsafe_or_unknown_ids_removes_nothing(tmp_path: Path, message_id: str) -> None:
    box = tmp_path / "outbox"
    OutboxProvider(box, Channel.EMAIL).send(message("kept"))
    (tmp_path / "escape.eml").write_bytes(b"outside the outbox")

    assert not delete_outbox_entry(box, message_id)
    assert sorted(p.name for p in box.iterdir()) == ["kept.eml", "kept.meta.json"]
    assert (tmp_path / "escape.eml").exists()


def test_delete_in_a_missing_directory_removes_nothing(tmp_path: Path) -> None:
    assert not delete_outbox_entry(tmp_path / "never-created", "m-1")
