"""S3Store specifics against moto's S3 server: checksums, conditional writes, tampering, outages."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from botocore.exceptions import ClientError

from archive import (
    ArchiveIntegrityError,
    ArchiveUnavailable,
    ObjectNotFound,
    S3Store,
    content_key,
    sha256_hex,
)
from tests.fixtures.s3 import S3Bucket, make_s3_client
from tests.fixtures.smtp import free_port

DATA = b"%PDF-1.7 statement for Anna\n%%EOF\n"


def test_object_carries_its_digest_and_content_type(s3_store: S3Store, s3_bucket: S3Bucket) -> None:
    archived = s3_store.put(DATA, content_type="application/pdf")

    client = make_s3_client(s3_bucket.endpoint_url)
    head = client.head_object(
        Bucket=s3_bucket.bucket_name, Key=f"ccm/archive/{archived.key}", ChecksumMode="ENABLED"
    )
    client.close()
    assert head["Metadata"]["sha256"] == archived.sha256
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(DATA).digest()).decode()
    assert head["ContentType"] == "application/pdf"
    assert s3_store.url == f"s3://{s3_bucket.bucket_name}/ccm/archive/"


def test_prefixed_key_is_accepted_too(s3_store: S3Store) -> None:
    archived = s3_store.put(DATA, content_type="application/pdf")

    assert s3_store.get(f"ccm/archive/{archived.key}") == DATA


def test_moto_honours_if_none_match(s3_store: S3Store, s3_bucket: S3Bucket) -> None:
    """The guarantee S3Store's conditional write relies on: a second create of a key is refused."""
    archived = s3_store.put(DATA, content_type="application/pdf")
    client = make_s3_client(s3_bucket.endpoint_url)

    with pytest.raises(ClientError) as refused:
        client.put_object(
            Bucket=s3_bucket.bucket_name, Key=f"ccm/archive/{archived.key}", Body=b"other", IfNoneMatch="*"
        )
    client.close()
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3_store.get(archived.key) == DATA


class RacingStore(S3Store):
    """An S3Store whose first existence check misses, as when another writer creates the key just after it."""

    raced = False

    def _verified_head(self, name: str, digest: str) -> bool:
        if not self.raced:
            self.raced = True
            return False
        return super()._verified_head(name, digest)


def test_losing_a_race_to_identical_content_is_fine(s3_store: S3Store, s3_bucket: S3Bucket) -> None:
    s3_store.put(DATA, content_type="application/pdf")  # the other writer
    racer = RacingStore(s3_bucket.bucket_name, "ccm/archive", client=make_s3_client(s3_bucket.endpoint_url))

    archived = racer.put(DATA, content_type="application/pdf")

    assert racer.raced
    assert racer.get(archived.key) == DATA
    racer.close()


def test_losing_a_race_to_different_content_is_an_integrity_error(s3_bucket: S3Bucket) -> None:
    client = make_s3_client(s3_bucket.endpoint_url)
    key = content_key(sha256_hex(DATA))
    client.put_object(
        Bucket=s3_bucket.bucket_name, Key=key, Body=b"forged", Metadata={"sha256": sha256_hex(b"forged")}
    )
    racer = RacingStore(s3_bucket.bucket_name, client=client)

    with pytest.raises(ArchiveIntegrityError):
        racer.put(DATA, content_type="application/pdf")
    racer.close()


@pytest.mark.parametrize("with_metadata", [True, False])
def test_replaced_object_is_detected(s3_store: S3Store, s3_bucket: S3Bucket, with_metadata: bool) -> None:
    archived = s3_store.put(DATA, content_type="application/pdf")
    client = make_s3_client(s3_bucket.endpoint_url)
    metadata = {"sha256": sha256_hex(b"tampered")} if with_metadata else {}
    client.put_object(
        Bucket=s3_bucket.bucket_name, Key=f"ccm/archive/{archived.key}", Body=b"tampered", Metadata=metadata
    )
    client.close()

    with pytest.raises(ArchiveIntegrityError):
        s3_store.get(archived.key)
    with pytest.raises(ArchiveIntegrityError):
        s3_store.put(DATA, content_type="application/pdf")


def test_missing_bucket_is_unavailable(s3_bucket: S3Bucket) -> None:
    store = S3Store("no-such-bucket-here", client=make_s3_client(s3_bucket.endpoint_url))

    with pytest.raises(ArchiveUnavailable, match="does not exist"):
        store.check()
    with pytest.raises(ArchiveUnavailable):
        store.put(DATA, content_type="application/pdf")
    with pytest.raises(ObjectNotFound):  # NoSuchKey and NoSuchBucket differ: only the key is "not found"
        S3Store(s3_bucket.bucket_name, client=make_s3_client(s3_bucket.endpoint_url)).get(
            content_key("0" * 64)
        )
    store.close()


def test_unreachable_endpoint_is_unavailable_quickly(s3_bucket: S3Bucket) -> None:
    store = S3Store.connect(
        "archive",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region="us-east-1",
        connect_timeout=0.5,
        max_attempts=1,
    )
    started = time.monotonic()

    with pytest.raises(ArchiveUnavailable, match="unreachable"):
        store.check()
    with pytest.raises(ArchiveUnavailable):
        store.put(DATA, content_type="application/pdf")
    with pytest.raises(ArchiveUnavailable):
        store.get(content_key(sha256_hex(DATA)))
    store.close()
    assert time.monotonic() - started < 3
