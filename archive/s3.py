"""The archive in an S3-compatible bucket: content-addressed objects written at most once.

A put first looks for the object (identical content is then a no-op) and otherwise writes with
`If-None-Match: *`, so even a concurrent writer cannot replace what is archived; the SHA-256 travels as
`ChecksumSHA256` (the server checks the upload) and as `sha256` metadata (cheap verification by HEAD).

The write-once objects of `archive.worm` need a bucket with Object Lock (which implies versioning): each is
written with `If-None-Match: *`, a retention mode and retain-until date, and read back by its `VersionId`,
so a later PUT to the same key (which S3 would store as a new version) never changes what is archived, and
S3 itself refuses to delete the version before its retention ends or while a legal hold is on.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archive.base import (
    ArchivedObject,
    ArchiveError,
    ArchiveIntegrityError,
    ArchiveUnavailable,
    InvalidKey,
    ObjectNotFound,
    content_key,
    digest_of_key,
    sha256_hex,
)
from archive.worm import (
    LockMode,
    LockState,
    ObjectExists,
    ObjectLocked,
    ObjectLockMissing,
    StoredVersion,
    check_object_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND = frozenset({"NoSuchKey", "NotFound", "404", "NoSuchVersion"})
_ALREADY_EXISTS = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_UNAVAILABLE = frozenset(
    {
        "NoSuchBucket",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalError",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
    }
)


class S3Store:
    """Objects `{prefix}sha256/ab/cd/abcd…` in `bucket`; keys returned are the prefix-free content keys."""

    def __init__(self, bucket: str, prefix: str = "", *, client: S3Client) -> None:
        if not bucket:
            raise ValueError("S3 archive needs a bucket name")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.url = f"s3://{bucket}/{self.prefix}"
        self._client = client

    @classmethod
    def connect(
        cls,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> S3Store:
        """A store with its own boto3 client; credentials from boto3's usual chain (env, profile, role)."""
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        return cls(bucket, prefix, client=client)

    def put(self, data: bytes, *, content_type: str) -> ArchivedObject:
        """Archive `data` once; if its key is taken, check the stored object is this content."""
        digest = sha256_hex(data)
        archived = ArchivedObject(content_key(digest), digest, len(data), content_type)
        name = self.prefix + archived.key
        if self._verified_head(name, digest):
            return archived
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode("ascii"),
                Metadata={"sha256": digest},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if _code(exc) not in _ALREADY_EXISTS:
                raise _translate(exc, name) from exc
            if not self._verified_head(name, digest):  # the conflicting writer's object vanished again
                raise ArchiveUnavailable(f"conditional write of {name} conflicted; retry") from exc
        except BotoCoreError as exc:
            raise _translate(exc, name) from exc
        return archived

    def get(self, key: str) -> bytes:
        """The archived bytes, refused with `ArchiveIntegrityError` if they no longer match their key."""
        name, digest = self._name(key)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=name)
            data = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, name) from exc
        if sha256_hex(data) != digest:
            raise ArchiveIntegrityError(f"s3://{self.bucket}/{name} does not match its SHA-256")
        return data

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key` (junk keys name nothing)."""
        try:
            name, _ = self._name(key)
        except InvalidKey:
            return False
        return self._head(name) is not None

    def check(self) -> None:
        """HEAD the bucket: `ArchiveUnavailable` saying whether it is missing, forbidden or unreachable."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            reason = {"404": "does not exist", "NoSuchBucket": "does not exist", "403": "is not accessible"}
            raise ArchiveUnavailable(
                f"S3 bucket {self.bucket!r} {reason.get(code, f'failed a HEAD ({code})')}"
            ) from exc
        except BotoCoreError as exc:
            raise ArchiveUnavailable(f"S3 endpoint unreachable for bucket {self.bucket!r}: {exc}") from exc

    def require_object_lock(self) -> None:
        """`ObjectLockMissing` with a clear message unless the bucket enforces Object Lock."""
        try:
            config = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) == "ObjectLockConfigurationNotFoundError":
                raise ObjectLockMissing(_NO_LOCK.format(bucket=self.bucket)) from exc
            raise _translate(exc, self.bucket) from exc
        except BotoCoreError as exc:
            raise _translate(exc, self.bucket) from exc
        if config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise ObjectLockMissing(_NO_LOCK.format(bucket=self.bucket))

    def write_once(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime, mode: LockMode
    ) -> StoredVersion:
        """PUT with retention, refused by S3 if the key already exists; returns the new version."""
        name = self.prefix + check_object_key(key)
        digest = sha256_hex(data)
        try:
            response = self._client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode("ascii"),
                Metadata={"sha256": digest},
                IfNoneMatch="*",
                ObjectLockMode=mode.value,
                ObjectLockRetainUntilDate=retain_until,
            )
        except ClientError as exc:
            if _code(exc) in _ALREADY_EXISTS:
                raise ObjectExists(f"s3://{self.bucket}/{name} is already archived") from exc
            raise _translate(exc, name) from exc
        except BotoCoreError as exc:
            raise _translate(exc, name) from exc
        version_id = response.get("VersionId")
        if not version_id:
            raise ObjectLockMissing(f"S3 returned no VersionId for {name}: bucket versioning is off")
        return StoredVersion(key, version_id, digest, len(data))

    def current_version(self, key: str) -> StoredVersion | None:
        """The latest version of `key` by HEAD (its digest from the metadata written with it)."""
        head = self._head(self.prefix + check_object_key(key))
        if head is None or not head.get("VersionId"):
            return None
        digest = head.get("Metadata", {}).get("sha256") or _hex_of_checksum(head.get("ChecksumSHA256"))
        size = int(head.get("ContentLength", 0))
        return StoredVersion(key, str(head["VersionId"]), str(digest or ""), size)

    def read_version(self, key: str, version_id: str) -> bytes:
        """Exactly that version's bytes, however many later writes the key has seen."""
        name = self.prefix + check_object_key(key)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=name, VersionId=version_id)
            body: bytes = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, name) from exc
        return body

    def lock_state(self, key: str, version_id: str) -> LockState:
        """Read from HEAD: some S3 implementations do not serve `GetObjectRetention`."""
        name = self.prefix + check_object_key(key)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=name, VersionId=version_id)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, name) from exc
        return LockState(
            head.get("ObjectLockMode"),
            head.get("ObjectLockRetainUntilDate"),
            head.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def set_legal_hold(self, key: str, version_id: str, *, on: bool) -> None:
        name = self.prefix + check_object_key(key)
        try:
            status: Any = "ON" if on else "OFF"
            self._client.put_object_legal_hold(
                Bucket=self.bucket, Key=name, VersionId=version_id, LegalHold={"Status": status}
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, name) from exc

    def delete_version(self, key: str, version_id: str) -> None:
        """Permanently delete the version; S3 answers AccessDenied while it is retained or held."""
        name = self.prefix + check_object_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=name, VersionId=version_id)
        except ClientError as exc:
            if _code(exc) == "AccessDenied":
                raise ObjectLocked(f"S3 refused to delete {name} (retention or legal hold)") from exc
            raise _translate(exc, name) from exc
        except BotoCoreError as exc:
            raise _translate(exc, name) from exc

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Current keys under `prefix`, without the store's own prefix."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, prefix) from exc

    def close(self) -> None:
        """Release the client's pooled connections."""
        self._client.close()

    def _name(self, key: str) -> tuple[str, str]:
        """The object name and digest for a content key (a key already carrying the prefix is accepted)."""
        if self.prefix and key.startswith(self.prefix):
            key = key[len(self.prefix) :]
        return self.prefix + key, digest_of_key(key)

    def _head(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self._client.head_object(Bucket=self.bucket, Key=name, ChecksumMode="ENABLED"))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise _translate(exc, name) from exc
        except BotoCoreError as exc:
            raise _translate(exc, name) from exc

    def _verified_head(self, name: str, digest: str) -> bool:
        """False when absent; True when present with this digest; `ArchiveIntegrityError` otherwise."""
        head = self._head(name)
        if head is None:
            return False
        recorded = {
            head.get("Metadata", {}).get("sha256"),
            _hex_of_checksum(head.get("ChecksumSHA256")),
        } - {None}
        if recorded and recorded != {digest}:
            raise ArchiveIntegrityError(f"s3://{self.bucket}/{name} exists with a different SHA-256")
        if not recorded:  # written by something else: only the bytes themselves can tell
            self.get(name)
        return True


_NO_LOCK = (
    "S3 bucket {bucket!r} does not have Object Lock enabled: the compliance archive needs it. Create the"
    " bucket with Object Lock (`aws s3api create-bucket --object-lock-enabled-for-bucket ...`); it cannot"
    " be added to a bucket created without it on every S3 implementation."
)


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _hex_of_checksum(value: Any) -> str | None:
    """S3 reports ChecksumSHA256 in base64; multipart composites ("…-3") cannot be compared."""
    if not isinstance(value, str) or "-" in value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _translate(exc: ClientError | BotoCoreError, name: str) -> ArchiveError:
    """boto3's errors as the archive's: missing object, unavailable store, or a plain failure."""
    if isinstance(exc, BotoCoreError):
        return ArchiveUnavailable(f"S3 unreachable ({name}): {exc}")
    code = _code(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _NOT_FOUND:
        return ObjectNotFound(f"no archived object {name}")
    if code in _UNAVAILABLE or status == 429 or status >= 500:
        return ArchiveUnavailable(f"S3 refused {name}: {code} (HTTP {status})")
    return ArchiveError(f"S3 error on {name}: {code} (HTTP {status})")
