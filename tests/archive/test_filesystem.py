"""FilesystemStore specifics: read-only files, no overwrite, tampering detected, unusable roots reported."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from archive import ArchiveIntegrityError, ArchiveUnavailable, FilesystemStore

DATA = b"Invoice 2024-0001\r\nTotal: 120.00 EUR\r\n"


def test_file_lives_under_its_key_read_only(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)

    archived = store.put(DATA, content_type="text/plain")

    path = tmp_path / archived.key
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert store.url == tmp_path.as_uri()
    assert [p.name for p in path.parent.iterdir()] == [archived.sha256]  # no temp files left behind


def test_tampered_file_is_detected_on_get_and_never_overwritten(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    archived = store.put(DATA, content_type="text/plain")
    path = tmp_path / archived.key
    path.chmod(0o644)
    tampered = bytearray(path.read_bytes())
    tampered[0] ^= 0x01
    path.write_bytes(bytes(tampered))

    with pytest.raises(ArchiveIntegrityError):
        store.get(archived.key)
    with pytest.raises(ArchiveIntegrityError):
        store.put(DATA, content_type="text/plain")
    assert path.read_bytes() == bytes(tampered)  # the evidence is left as found


def test_concurrent_puts_of_the_same_content_agree(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    results = []

    def put() -> None:
        results.append(store.put(DATA, content_type="text/plain"))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    assert store.get(results[0].key) == DATA


def test_check_creates_a_missing_root(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "a" / "b")

    store.check()

    assert (tmp_path / "a" / "b").is_dir()


def test_unusable_root_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the archive root should be")
    store = FilesystemStore(blocker)

    with pytest.raises(ArchiveUnavailable, match="not-a-directory"):
        store.check()
    with pytest.raises(ArchiveUnavailable):
        store.put(DATA, content_type="text/plain")
