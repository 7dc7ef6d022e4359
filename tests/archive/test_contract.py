"""What every archive store promises: exact bytes back, content addressing, idempotent puts, junk refused."""

from __future__ import annotations

import hashlib

import pytest

from archive import (
    ArchivedObject,
    ArchiveStore,
    InvalidKey,
    ObjectNotFound,
    content_key,
    sha256_hex,
)

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def test_put_returns_the_content_key_and_get_the_exact_bytes(store: ArchiveStore) -> None:
    archived = store.put(PDF, content_type="application/pdf")

    digest = hashlib.sha256(PDF).hexdigest()
    assert archived == ArchivedObject(
        f"sha256/{digest[:2]}/{digest[2:4]}/{digest}", digest, len(PDF), "application/pdf"
    )
    assert store.get(archived.key) == PDF
    assert store.exists(archived.key)
    assert isinstance(store, ArchiveStore)


def test_identical_content_is_stored_once(store: ArchiveStore) -> None:
    first = store.put(PDF, content_type="application/pdf")
    second = store.put(PDF, content_type="application/pdf")

    assert first == second
    assert store.get(second.key) == PDF


def test_empty_content_round_trips(store: ArchiveStore) -> None:
    archived = store.put(b"", content_type="text/plain")

    assert store.get(archived.key) == b""


def test_missing_object_is_not_found(store: ArchiveStore) -> None:
    key = content_key(sha256_hex(b"never stored"))

    assert not store.exists(key)
    with pytest.raises(ObjectNotFound):
        store.get(key)


JUNK_KEYS = [
    "../../etc/passwd",
    "sha256/../../../etc/passwd",
    "/etc/passwd",
    "sha256/ab/cd/" + "g" * 64,
    "sha256/00/00/" + "ab" * 32,  # fan-out does not match the digest
    "sha256/AB/CD/" + "AB" * 32,
    content_key(sha256_hex(b"x")) + "\n",
    content_key(sha256_hex(b"x")) + "/..",
    "",
]


@pytest.mark.parametrize("key", JUNK_KEYS)
def test_junk_keys_name_nothing(store: ArchiveStore, key: str) -> None:
    assert not store.exists(key)
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(ObjectNotFound):  # callers may treat junk as "not found" ...
        store.get(key)
    with pytest.raises(ValueError):  # ... or as a bad argument
        store.get(key)


def test_check_passes_on_a_healthy_store(store: ArchiveStore) -> None:
    store.check()
