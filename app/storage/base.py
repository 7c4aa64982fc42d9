"""The storage interface every backend implements, and the checks they share.

Keys, metadata and tags are validated here so the folder backend used in development
refuses exactly what S3 would refuse (or could not map to a file), and code written
against one backend behaves the same on the other.
"""

from __future__ import annotations

import abc
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, ClassVar, Protocol
from urllib.parse import quote

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: Chunk size for streaming reads and writes.
CHUNK_SIZE = 1 * MiB
MAX_KEY_BYTES = 1024
#: Longest path segment most filesystems accept; enforced on S3 too so keys stay portable.
MAX_SEGMENT_BYTES = 255
#: S3's limit for presigned URLs (seven days).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: User-metadata name under which the SHA-256 of the content is kept.
SHA256_METADATA_KEY = "sha256"

_METADATA_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
_METADATA_MAX_BYTES = 2 * KiB
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")
_MAX_TAGS = 10
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+( *;[ -~]*)?", re.ASCII)
#: S3's multipart limits: part numbers 1-10,000; every part but the last at least 5 MiB.
MIN_PART_NUMBER = 1
MAX_PART_NUMBER = 10_000
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024


class ObjectNotFound(KeyError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no object stored under {self.key!r}"


class InvalidKey(ValueError):
    """The key cannot name an object (unsafe, malformed or too long)."""


class InvalidMetadata(ValueError):
    """Metadata, tags or content type that the store would refuse."""


class UploadMismatch(ValueError):
    """The streamed content did not match the size (or hash) it was declared with."""


class StorageUnavailable(RuntimeError):
    """The store cannot be reached or used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What is known about one stored object; ``list`` fills only key, size, etag, time."""

    key: str
    size: int
    #: Aware UTC datetime.
    last_modified: datetime
    etag: str | None = None
    #: Hex SHA-256 of the content, when the store knows it.
    sha256: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """One part of a multipart upload as the store holds it."""

    part_number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class MultipartUpload:
    """A multipart upload that was started and neither completed nor aborted."""

    key: str
    upload_id: str
    #: Aware UTC datetime.
    initiated: datetime


class InvalidUpload(ValueError):
    """The multipart upload does not exist (any more), or its parts cannot be assembled."""


def validate_part_number(part_number: int) -> int:
    """Return ``part_number`` if S3 accepts it (1-10,000)."""
    if (
        not isinstance(part_number, int)
        or isinstance(part_number, bool)
        or not MIN_PART_NUMBER <= part_number <= MAX_PART_NUMBER
    ):
        raise ValueError(
            f"part numbers must be whole numbers from {MIN_PART_NUMBER} to {MAX_PART_NUMBER}"
        )
    return part_number


class ReadableStream(Protocol):
    """Anything with ``read(size)`` returning bytes (files, request streams, BytesIO)."""

    def read(self, size: int = -1, /) -> bytes: ...


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is safe as both an S3 key and a relative file path."""
    if not isinstance(key, str) or key == "":
        raise InvalidKey("key must be a non-empty string")
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise InvalidKey("key must not contain control characters")
    if "\\" in key:
        raise InvalidKey("key must not contain backslashes")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey("key must be valid UTF-8 text") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(f"key must be at most {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise InvalidKey("key must be relative (no leading '/')")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("key must not contain empty, '.' or '..' segments")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(
                f"each '/'-separated part of a key must be at most {MAX_SEGMENT_BYTES} bytes"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` unchanged if it is empty or the start of a valid key."""
    if prefix == "":
        return prefix
    validate_key(prefix.rstrip("/") or "/")
    return prefix


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of ``metadata`` if every name and value would survive an HTTP header."""
    result = dict(metadata or {})
    total = 0
    for name, value in result.items():
        if not isinstance(name, str) or not _METADATA_NAME.fullmatch(name):
            raise InvalidMetadata(
                f"metadata name {name!r} must be lowercase letters, digits and '-'"
            )
        if name == SHA256_METADATA_KEY:
            raise InvalidMetadata(f"metadata name {name!r} is reserved for the content hash")
        if not isinstance(value, str) or not all(" " <= ch <= "~" for ch in value):
            raise InvalidMetadata(f"metadata {name!r} must be printable ASCII text")
        total += len(name) + len(value)
    if total > _METADATA_MAX_BYTES:
        raise InvalidMetadata(f"metadata must total at most {_METADATA_MAX_BYTES} bytes")
    return result


def validate_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of ``tags`` if they respect S3's object-tag rules."""
    result = dict(tags or {})
    if len(result) > _MAX_TAGS:
        raise InvalidMetadata(f"an object can have at most {_MAX_TAGS} tags")
    for name, value in result.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 128 or not _TAG_TEXT.fullmatch(name):
            raise InvalidMetadata(
                f"tag name {name!r} must be 1-128 letters, digits, spaces or + - = . _ : / @"
            )
        if name.lower().startswith("aws:"):
            raise InvalidMetadata("tag names starting with 'aws:' are reserved")
        if not isinstance(value, str) or len(value) > 256 or not _TAG_TEXT.fullmatch(value):
            raise InvalidMetadata(
                f"tag {name!r} value must be up to 256 letters, digits, spaces or + - = . _ : / @"
            )
    return result


def validate_content_type(content_type: str | None) -> str:
    """Return a usable MIME type: the given one if well formed, else the binary default."""
    if content_type is None or content_type == "":
        return DEFAULT_CONTENT_TYPE
    if len(content_type) > 255 or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidMetadata(f"content type {content_type!r} is not a valid MIME type")
    return content_type


def validate_sha256(sha256: str | None) -> str | None:
    """Return ``sha256`` if it is None or a SHA-256 as 64 lowercase hexadecimal characters."""
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256_HEX.fullmatch(sha256)):
        raise ValueError("a SHA-256 must be 64 lowercase hexadecimal characters")
    return sha256


def validate_expires(expires: int) -> int:
    """Return ``expires`` if it is a lifetime S3 accepts for a presigned URL."""
    if not 1 <= expires <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expires must be between 1 and {MAX_PRESIGN_SECONDS} seconds")
    return expires


def content_disposition(filename: str | None) -> str:
    """Return an ``attachment`` Content-Disposition with an ASCII and an RFC 5987 filename."""
    if not filename:
        return "attachment"
    cleaned = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")
    ascii_name = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["\\;]', "_", ascii_name).strip() or "download"
    quoted = quote(cleaned, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


class HashingReader:
    """Wrap a stream: hash and count what passes, enforce the declared size, never seek.

    ``read(n)`` returns exactly ``n`` bytes until the end of the stream (request streams
    may return short reads, which multipart uploads would turn into undersized parts). It
    reads and hashes at most ``CHUNK_SIZE`` at a time, while the bytes are still in the CPU's
    cache: cheaper than pulling a whole 8 MiB part through first.
    """

    def __init__(
        self,
        stream: ReadableStream,
        *,
        size: int | None = None,
        sha256: str | None = None,
    ) -> None:
        self._stream = stream
        self._expected_size = size
        self._expected_sha256 = sha256
        self._hash = hashlib.sha256()
        self.bytes_read = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def read(self, size: int = -1, /) -> bytes:
        if self._eof:
            return b""
        parts: list[bytes] = []
        wanted = size if size is not None and size >= 0 else None
        got = 0
        while wanted is None or got < wanted:
            piece = CHUNK_SIZE if wanted is None else min(CHUNK_SIZE, wanted - got)
            data = self._stream.read(piece)
            if not data:
                self._finish()
                break
            parts.append(data)
            got += len(data)
            self._count(data)
        return b"".join(parts)

    def _count(self, data: bytes) -> None:
        self._hash.update(data)
        self.bytes_read += len(data)
        if self._expected_size is not None and self.bytes_read > self._expected_size:
            raise UploadMismatch(f"stream is longer than the declared {self._expected_size} bytes")

    def _finish(self) -> None:
        self._eof = True
        if self._expected_size is not None and self.bytes_read != self._expected_size:
            raise UploadMismatch(
                f"stream ended after {self.bytes_read} of the declared {self._expected_size} bytes"
            )
        if self._expected_sha256 is not None and self.sha256 != self._expected_sha256:
            raise UploadMismatch(
                f"the content's SHA-256 is {self.sha256}, not the expected {self._expected_sha256}"
            )


class Storage(abc.ABC):
    """An object store: keys map to immutable byte streams with metadata and tags."""

    #: Short backend name for logs and health checks ("s3" or "folder").
    name: ClassVar[str]

    @abc.abstractmethod
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
        """Store the stream under ``key`` in chunks, all or nothing; return its size and SHA-256.

        If ``size`` is given and the stream is longer or shorter, or ``sha256`` (lowercase
        hex) is given and the content hashes differently, nothing is stored and
        ``UploadMismatch`` is raised. The stream is hashed once, on its way to the store.
        """

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Return a readable stream of the object's content; raise ObjectNotFound if absent."""

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the object's content in chunks of at most ``chunk_size`` bytes."""
        with self.open(key) as stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Return everything known about the object; raise ObjectNotFound if absent."""

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under ``key``."""
        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object and every stored version of it; do nothing if it is absent."""

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove many objects and every stored version of each; absent keys are fine."""
        for key in keys:
            self.delete(key)

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield the objects whose key starts with ``prefix``, sorted by key, page by page."""

    @abc.abstractmethod
    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Copy content, content type, metadata and tags of ``src`` to ``dst``; return dst."""

    @abc.abstractmethod
    def presign_get(self, key: str, expires: int = 60, filename: str | None = None) -> str:
        """Return a URL that downloads the object (as an attachment) for ``expires`` seconds."""

    @abc.abstractmethod
    def presign_put(self, key: str, expires: int = 300, content_type: str | None = None) -> str:
        """Return a URL that accepts an HTTP PUT of the object's content for ``expires`` s."""

    # -- multipart uploads (browsers upload parts straight to the store) -----------------

    @abc.abstractmethod
    def create_multipart(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Start a multipart upload of ``key`` (invisible until completed); return its id."""

    @abc.abstractmethod
    def presign_part(self, key: str, upload_id: str, part_number: int, expires: int = 3600) -> str:
        """Return a URL accepting an HTTP PUT of one part; its response carries the ETag."""

    @abc.abstractmethod
    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: ReadableStream, size: int
    ) -> UploadedPart:
        """Store one part from a stream of exactly ``size`` bytes (server-side uploads)."""

    @abc.abstractmethod
    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """The parts received so far, by part number; raise InvalidUpload if there is none."""

    @abc.abstractmethod
    def complete_multipart(
        self, key: str, upload_id: str, parts: list[UploadedPart] | None = None
    ) -> ObjectInfo:
        """Assemble the parts (the given ones, else every part received) into the object."""

    @abc.abstractmethod
    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard the upload and every part of it; do nothing if it is already gone."""

    @abc.abstractmethod
    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """Yield the uploads in progress whose key starts with ``prefix``."""

    @abc.abstractmethod
    def check(self) -> None:
        """Return if the store is reachable and usable; raise StorageUnavailable if not."""
