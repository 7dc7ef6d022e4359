"""open_store: the settings URL picks the store; anything unrecognised is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive import FilesystemStore, S3Store, open_store
from tests.fixtures.s3 import S3Bucket


def test_file_url(tmp_path: Path) -> None:
    store = open_store(tmp_path.as_uri())

    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path


def test_plain_path(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "archive"))

    assert isinstance(store, FilesystemStore)
    assert store.url == (tmp_path / "archive").as_uri()


def test_s3_url_builds_a_working_store(s3_bucket: S3Bucket) -> None:
    store = open_store(
        f"s3://{s3_bucket.bucket_name}/letters/",
        s3_endpoint_url=s3_bucket.endpoint_url,
        s3_region="us-east-1",
    )

    assert isinstance(store, S3Store)
    assert store.url == f"s3://{s3_bucket.bucket_name}/letters/"
    store.check()
    archived = store.put(b"hello", content_type="text/plain")
    assert store.get(archived.key) == b"hello"
    store.close()


@pytest.mark.parametrize(
    "url", ["http://example.com/archive", "s3://", "file://remote-host/path", "ftp://x/y", ""]
)
def test_unsupported_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported archive URL") as refused:
        open_store(url)
    assert repr(url) in str(refused.value)
