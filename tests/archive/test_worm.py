"""Write-once objects: S3 Object Lock (moto) refuses deletion and replacement; the filesystem imitates it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive import (
    FilesystemStore,
    InvalidKey,
    LockMode,
    ObjectExists,
    ObjectLocked,
    ObjectLockMissing,
    ObjectNotFound,
    S3Store,
    sha256_hex,
)
from tests.fixtures.s3 import S3Bucket, make_s3_client

KEY = "messages/2026/11/3f1c0b7e-0000-4000-8000-000000000001"


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_s3_delete_with_version_id_is_refused_before_retain_until(
    s3_store: S3Store, s3_bucket: S3Bucket
) -> None:
    stored = s3_store.write_once(
        KEY, b"exact bytes", content_type="x", retain_until=later(3600), mode=LockMode.COMPLIANCE
    )
    with pytest.raises(ObjectLocked):
        s3_store.delete_version(KEY, stored.version_id)
    raw = make_s3_client(s3_bucket.endpoint_url)
    with pytest.raises(raw.exceptions.ClientError):
        raw.delete_object(Bucket=s3_bucket.bucket_name, Key=f"ccm/archive/{KEY}", VersionId=stored.version_id)
    assert s3_store.read_version(KEY, stored.version_id) == b"exact bytes"
    state = s3_store.lock_state(KEY, stored.version_id)
    assert state.mode == "COMPLIANCE" and state.retain_until is not None and not state.legal_hold


def test_s3_legal_hold_blocks_deletion_until_released(s3_store: S3Store) -> None:
    stored = s3_store.write_once(
        KEY, b"held", content_type="x", retain_until=later(1), mode=LockMode.GOVERNANCE
    )
    s3_store.set_legal_hold(KEY, stored.version_id, on=True)
    assert s3_store.lock_state(KEY, stored.version_id).legal_hold
    time.sleep(1.2)  # retention over: only the hold protects it now
    with pytest.raises(ObjectLocked):
        s3_store.delete_version(KEY, stored.version_id)
    s3_store.set_legal_hold(KEY, stored.version_id, on=False)
    s3_store.delete_version(KEY, stored.version_id)
    with pytest.raises(ObjectNotFound):
        s3_store.read_version(KEY, stored.version_id)


def test_s3_new_put_to_the_same_key_never_alters_the_archived_version(
    s3_store: S3Store, s3_bucket: S3Bucket
) -> None:
    stored = s3_store.write_once(
        KEY, b"original", content_type="x", retain_until=later(3600), mode=LockMode.COMPLIANCE
    )
    with pytest.raises(ObjectExists):
        s3_store.write_once(
            KEY, b"forged", content_type="x", retain_until=later(3600), mode=LockMode.COMPLIANCE
        )
    raw = make_s3_client(s3_bucket.endpoint_url)
    raw.put_object(Bucket=s3_bucket.bucket_name, Key=f"ccm/archive/{KEY}", Body=b"forged")  # no condition
    assert s3_store.read_version(KEY, stored.version_id) == b"original"
    assert stored.sha256 == sha256_hex(b"original")
    current = s3_store.current_version(KEY)
    assert current is not None and current.version_id != stored.version_id
    assert list(s3_store.list_keys("messages/")) == [KEY]


def test_s3_bucket_without_object_lock_is_refused_with_a_clear_error(s3_bucket: S3Bucket) -> None:
    raw = make_s3_client(s3_bucket.endpoint_url)
    name = f"ccm-nolock-{uuid.uuid4().hex[:12]}"
    raw.create_bucket(Bucket=name)
    store = S3Store(name, "", client=raw)
    with pytest.raises(ObjectLockMissing, match="Object Lock"):
        store.require_object_lock()
    S3Store(s3_bucket.bucket_name, "", client=raw).require_object_lock()


def test_filesystem_refuses_overwrite_keeps_files_read_only_and_honours_retention(tmp_path: Path) -> None:
    now = [datetime.now(UTC)]
    store = FilesystemStore(tmp_path, clock=lambda: now[0])
    stored = store.write_once(KEY, b"v1", content_type="x", retain_until=later(60), mode=LockMode.COMPLIANCE)
    with pytest.raises(ObjectExists):
        store.write_once(KEY, b"v2", content_type="x", retain_until=later(60), mode=LockMode.COMPLIANCE)
    path = tmp_path / KEY
    assert path.stat().st_mode & 0o222 == 0 and path.read_bytes() == b"v1"
    with pytest.raises(ObjectLocked):
        store.delete_version(KEY, stored.version_id)
    store.set_legal_hold(KEY, stored.version_id, on=True)
    now[0] = later(120)
    with pytest.raises(ObjectLocked, match="legal hold"):
        store.delete_version(KEY, stored.version_id)
    store.set_legal_hold(KEY, stored.version_id, on=False)
    store.delete_version(KEY, stored.version_id)
    assert not path.exists() and list(store.list_keys("messages/")) == []


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs", "messages/../../x", "sha256/aa/bb/cc", ".retention/x"]
)
def test_filesystem_refuses_keys_outside_its_objects(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidKey):
        FilesystemStore(tmp_path).write_once(
            key, b"x", content_type="x", retain_until=later(5), mode=LockMode.COMPLIANCE
        )
