"""Both archive stores behind one fixture, so the contract tests run against each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import ArchiveStore, FilesystemStore, S3Store
from tests.fixtures.s3 import S3Bucket, make_s3_client


@pytest.fixture
def s3_store(s3_bucket: S3Bucket) -> Iterator[S3Store]:
    """An S3Store on a fresh moto bucket, under a prefix (as deployments usually configure)."""
    store = S3Store(s3_bucket.bucket_name, "ccm/archive", client=make_s3_client(s3_bucket.endpoint_url))
    yield store
    store.close()


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArchiveStore:
    """Each store implementation in turn."""
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "archive")
    s3: S3Store = request.getfixturevalue("s3_store")
    return s3
