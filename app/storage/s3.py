"""S3 backend (AWS S3, MinIO or any S3-compatible store) through boto3."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import urlencode, urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.config import Config, ConfigError
from app.storage.base import (
    CHUNK_SIZE,
    SHA256_METADATA_KEY,
    GiB,
    HashingReader,
    InvalidUpload,
    MiB,
    MultipartUpload,
    ObjectInfo,
    ObjectNotFound,
    ReadableStream,
    Storage,
    StorageUnavailable,
    UploadedPart,
    UploadMismatch,
    content_disposition,
    validate_content_type,
    validate_expires,
    validate_key,
    validate_metadata,
    validate_part_number,
    validate_prefix,
    validate_sha256,
    validate_tags,
)

#: Multipart above 8 MiB, in 8 MiB parts: memory per upload stays bounded by a few parts.
#: Four parts in flight keep the store busy while the next part arrives over the client's
#: one connection; more add memory and threads contending for the interpreter lock, and
#: measured slower (bench/README.md, upload_throughput).
UPLOAD_CONFIG = TransferConfig(
    multipart_threshold=8 * MiB,
    multipart_chunksize=8 * MiB,
    max_concurrency=4,
    preferred_transfer_client="classic",
)
#: Copies are one atomic CopyObject request up to S3's 5 GiB limit, multipart beyond.
COPY_CONFIG = TransferConfig(
    multipart_threshold=5 * GiB,
    multipart_chunksize=512 * MiB,
    max_concurrency=4,
    preferred_transfer_client="classic",
)
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_UPLOAD_CODES = frozenset({"NoSuchUpload", "404"})
#: Largest part ``upload_part`` buffers (browsers send parts straight to S3 instead).
MAX_BUFFERED_PART = 64 * MiB
_DELETE_BATCH = 1000


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/optional/prefix`` into the bucket and a prefix ending in '/'."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"STORAGE_URL must look like s3://bucket/prefix, got {url!r}")
    prefix = parts.path.strip("/")
    if prefix:
        validate_key(prefix)
        prefix += "/"
    return parts.netloc, prefix


def _is_not_found(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _NOT_FOUND_CODES


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _prehash(stream: ReadableStream) -> tuple[str, int] | None:
    """Hash a seekable stream and rewind it, so the hash can go in the object's metadata."""
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable():
        return None
    seek = stream.seek  # type: ignore[attr-defined]
    try:
        start = stream.tell()  # type: ignore[attr-defined]
    except OSError:
        return None
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    seek(start)
    return digest.hexdigest(), size


class _BodyReader(io.RawIOBase):
    """Adapt a botocore StreamingBody to a raw stream, so callers get a real BufferedReader."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage(Storage):
    """Objects in one bucket under an optional key prefix, encrypted at rest (SSE-S3)."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: Any,
        *,
        region: str | None = None,
        server_side_encryption: str | None = "AES256",
        list_page_size: int = 1000,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.client = client
        self.region = region
        self.server_side_encryption = server_side_encryption
        #: Keys fetched per ListObjectsV2 request (S3 caps it at 1,000).
        self.list_page_size = list_page_size

    @classmethod
    def from_config(cls, config: Config) -> S3Storage:
        """Build the backend from ``STORAGE_URL`` and the ``S3_*`` settings (no I/O)."""
        bucket, prefix = parse_s3_url(config.storage_url)
        endpoint = config.s3_endpoint_url or None
        boto_config = BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=60,
            # S3-compatible stores differ in their support for the newer default checksums;
            # integrity is checked by our own SHA-256 instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        credentials: dict[str, str] = {}
        if config.s3_access_key_id and config.s3_secret_access_key:
            credentials = {
                "aws_access_key_id": config.s3_access_key_id,
                "aws_secret_access_key": config.s3_secret_access_key,
            }
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=config.s3_region or None,
            config=boto_config,
            **credentials,
        )
        return cls(bucket, prefix, client, region=config.s3_region or None)

    def _full(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _sse(self) -> dict[str, str]:
        if self.server_side_encryption:
            return {"ServerSideEncryption": self.server_side_encryption}
        return {}

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (tests, compose and development only)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    def put(
        self,
        key: str,
        stream: ReadableStream,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        size: int | None = None,
        sha256: str | None = None,
    ) -> ObjectInfo:
        """Stream to S3 (multipart above 8 MiB); a failed or mismatched upload stores nothing.

        The SHA-256 is saved with the object (and returned by ``head``) when it is known
        before the upload completes: given as ``sha256``, or got by hashing a seekable stream
        first. Either way the content is hashed on its way through and the upload is
        abandoned, before it completes, if it does not match.
        """
        full = self._full(key)
        content_type = validate_content_type(content_type)
        user_metadata = validate_metadata(metadata)
        object_tags = validate_tags(tags)
        prehashed = _prehash(stream)
        stored_metadata = dict(user_metadata)
        expected_sha = validate_sha256(sha256)
        if prehashed is not None:
            prehashed_sha, prehashed_size = prehashed
            if size is not None and prehashed_size != size:
                raise UploadMismatch(f"stream has {prehashed_size} bytes, not the declared {size}")
            if sha256 is not None and prehashed_sha != sha256:
                raise UploadMismatch(
                    f"the content's SHA-256 is {prehashed_sha}, not the expected {sha256}"
                )
            expected_sha = prehashed_sha
        if expected_sha is not None:
            stored_metadata[SHA256_METADATA_KEY] = expected_sha
        reader = HashingReader(stream, size=size, sha256=expected_sha)
        extra: dict[str, Any] = {
            "ContentType": content_type,
            "Metadata": stored_metadata,
            **self._sse(),
        }
        if object_tags:
            extra["Tagging"] = urlencode(object_tags)
        self.client.upload_fileobj(reader, self.bucket, full, ExtraArgs=extra, Config=UPLOAD_CONFIG)
        return ObjectInfo(
            key=key,
            size=reader.bytes_read,
            last_modified=datetime.now(UTC),
            sha256=reader.sha256,
            content_type=content_type,
            metadata=user_metadata,
            tags=object_tags,
        )

    def open(self, key: str) -> BinaryIO:
        """Return a buffered stream of the object's current version."""
        full = self._full(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full)
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectNotFound(key) from None
            raise
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=CHUNK_SIZE)

    def head(self, key: str) -> ObjectInfo:
        """Return size, ETag, SHA-256 (if stored), content type, metadata and tags."""
        full = self._full(key)
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=full)
            tag_set = self.client.get_object_tagging(Bucket=self.bucket, Key=full)["TagSet"]
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectNotFound(key) from None
            raise
        metadata = dict(response.get("Metadata", {}))
        sha256 = metadata.pop(SHA256_METADATA_KEY, None)
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            last_modified=_utc(response["LastModified"]),
            etag=response.get("ETag", "").strip('"') or None,
            sha256=sha256,
            content_type=response.get("ContentType"),
            metadata=metadata,
            tags={tag["Key"]: tag["Value"] for tag in tag_set},
        )

    def exists(self, key: str) -> bool:
        """Return whether the object exists, with a single HEAD request."""
        full = self._full(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as error:
            if _is_not_found(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """Delete every version and delete marker of the key (needs s3:ListBucketVersions)."""
        full = self._full(key)
        doomed: list[dict[str, str]] = []
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            doomed.extend(
                {"Key": full, "VersionId": entry["VersionId"]}
                for entry in entries
                if entry["Key"] == full
            )
            # Versions come in key order and ``full`` sorts before every longer key that
            # shares it as a prefix, so once another key appears ours are all listed.
            if any(entry["Key"] != full for entry in entries):
                break
        for start in range(0, len(doomed), _DELETE_BATCH):
            batch = doomed[start : start + _DELETE_BATCH]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageUnavailable(
                    f"could not delete {key!r} from S3: {first.get('Code')} {first.get('Message')}"
                )

    def delete_many(self, keys: Iterable[str]) -> None:
        """Delete many keys with batch requests (1,000 per request). In a bucket that has ever
        had versioning on, every version and delete marker goes, listed per folder."""
        wanted = sorted({self._full(key) for key in keys})
        if not wanted:
            return
        status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        doomed: list[dict[str, str]]
        if status is None:  # never versioned: deleting the key deletes the object
            doomed = [{"Key": full} for full in wanted]
        else:
            doomed = []
            folders: dict[str, set[str]] = {}
            for full in wanted:
                folders.setdefault(full.rpartition("/")[0] + "/", set()).add(full)
            paginator = self.client.get_paginator("list_object_versions")
            for folder, members in folders.items():
                for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
                    entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                    doomed.extend(
                        {"Key": entry["Key"], "VersionId": entry["VersionId"]}
                        for entry in entries
                        if entry["Key"] in members
                    )
        for start in range(0, len(doomed), _DELETE_BATCH):
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": doomed[start : start + _DELETE_BATCH], "Quiet": True},
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageUnavailable(
                    f"could not delete {first.get('Key')!r} from S3: "
                    f"{first.get('Code')} {first.get('Message')}"
                )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield objects in key order, fetching ``list_page_size`` keys per request."""
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=self.prefix + prefix,
            PaginationConfig={"PageSize": self.list_page_size},
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield ObjectInfo(
                    key=entry["Key"][len(self.prefix) :],
                    size=entry["Size"],
                    last_modified=_utc(entry["LastModified"]),
                    etag=entry.get("ETag", "").strip('"') or None,
                )

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Server-side copy keeping content type, metadata (with SHA-256) and tags."""
        full_src, full_dst = self._full(src), self._full(dst)
        if full_src == full_dst:
            return self.head(src)
        try:
            self.client.copy(
                {"Bucket": self.bucket, "Key": full_src},
                self.bucket,
                full_dst,
                ExtraArgs={"MetadataDirective": "COPY", "TaggingDirective": "COPY", **self._sse()},
                Config=COPY_CONFIG,
            )
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectNotFound(src) from None
            raise
        return self.head(dst)

    def presign_get(self, key: str, expires: int = 60, filename: str | None = None) -> str:
        """Return an S3 presigned GET URL that downloads the object as an attachment."""
        params = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "ResponseContentDisposition": content_disposition(filename),
        }
        url = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=validate_expires(expires)
        )
        return str(url)

    def presign_put(self, key: str, expires: int = 300, content_type: str | None = None) -> str:
        """Return an S3 presigned PUT URL; if ``content_type`` is given the PUT must send it.

        Encryption at rest then comes from the bucket's default encryption.
        """
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self._full(key)}
        if content_type:
            params["ContentType"] = validate_content_type(content_type)
        url = self.client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=validate_expires(expires)
        )
        return str(url)

    # -- multipart uploads -------------------------------------------------------------

    def _no_upload(self, error: ClientError, key: str) -> InvalidUpload | None:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _NO_UPLOAD_CODES:
            return InvalidUpload(f"no upload in progress for {key!r}")
        return None

    def create_multipart(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """CreateMultipartUpload with encryption and tags requested up front."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "ContentType": validate_content_type(content_type),
            "Metadata": validate_metadata(metadata),
            **self._sse(),
        }
        object_tags = validate_tags(tags)
        if object_tags:
            kwargs["Tagging"] = urlencode(object_tags)
        return str(self.client.create_multipart_upload(**kwargs)["UploadId"])

    def presign_part(self, key: str, upload_id: str, part_number: int, expires: int = 3600) -> str:
        """A presigned UploadPart URL (the bucket's CORS rules must expose the ETag header)."""
        params = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "UploadId": upload_id,
            "PartNumber": validate_part_number(part_number),
        }
        url = self.client.generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=validate_expires(expires)
        )
        return str(url)

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: ReadableStream, size: int
    ) -> UploadedPart:
        """UploadPart from a stream of ``size`` bytes.

        The part is buffered (SigV4 over plain HTTP signs the payload, which needs a
        seekable body), so parts are limited to ``MAX_BUFFERED_PART`` bytes here.
        """
        if size > MAX_BUFFERED_PART:
            raise ValueError(f"server-side parts are at most {MAX_BUFFERED_PART} bytes")
        reader = HashingReader(stream, size=size)
        body = io.BytesIO(reader.read(size))
        reader.read(1)  # reach the end, so a longer stream is refused
        try:
            response = self.client.upload_part(
                Bucket=self.bucket,
                Key=self._full(key),
                UploadId=upload_id,
                PartNumber=validate_part_number(part_number),
                Body=body,
                ContentLength=size,
            )
        except ClientError as error:
            raise self._no_upload(error, key) or error from None
        return UploadedPart(part_number, response["ETag"].strip('"'), size)

    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """Every part received so far, following S3's pages of 1,000."""
        parts: list[UploadedPart] = []
        paginator = self.client.get_paginator("list_parts")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket, Key=self._full(key), UploadId=upload_id
            ):
                parts.extend(
                    UploadedPart(p["PartNumber"], p["ETag"].strip('"'), p["Size"])
                    for p in page.get("Parts", [])
                )
        except ClientError as error:
            raise self._no_upload(error, key) or error from None
        return sorted(parts, key=lambda part: part.part_number)

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[UploadedPart] | None = None
    ) -> ObjectInfo:
        """CompleteMultipartUpload with the given parts (default: every part received)."""
        chosen = self.list_parts(key, upload_id) if parts is None else parts
        if not chosen:
            raise InvalidUpload("an upload needs at least one part")
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._full(key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in chosen]
                },
            )
        except ClientError as error:
            known = self._no_upload(error, key)
            if known is not None:
                raise known from None
            code = error.response.get("Error", {}).get("Code", "?")
            raise InvalidUpload(f"the parts cannot be assembled ({code})") from None
        return self.head(key)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """AbortMultipartUpload; an upload already gone is fine."""
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._full(key), UploadId=upload_id
            )
        except ClientError as error:
            if self._no_upload(error, key) is None:
                raise

    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """ListMultipartUploads under the prefix, page by page."""
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for upload in page.get("Uploads", []):
                yield MultipartUpload(
                    key=upload["Key"][len(self.prefix) :],
                    upload_id=upload["UploadId"],
                    initiated=_utc(upload["Initiated"]),
                )

    def check(self) -> None:
        """Raise StorageUnavailable unless the bucket answers a HEAD request."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            raise StorageUnavailable(
                f"S3 bucket {self.bucket!r} is not usable (error {code}): {error}"
            ) from error
        except BotoCoreError as error:
            raise StorageUnavailable(
                f"S3 bucket {self.bucket!r} cannot be reached: {error}"
            ) from error
