"""Folder backend: objects as files under one directory, for development and one machine.

Layout under ``root``: ``objects/<key>`` holds the content, ``meta/<key>`` a JSON
sidecar (content type, metadata, tags, SHA-256) and ``tmp/`` the files being written.
The meta tree mirrors the object tree exactly, so no key can collide with a sidecar,
and every write lands with ``os.replace`` so a half-written object is never visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from itsdangerous import BadData, URLSafeTimedSerializer

from app.storage.base import (
    CHUNK_SIZE,
    HashingReader,
    InvalidKey,
    InvalidUpload,
    MultipartUpload,
    ObjectInfo,
    ObjectNotFound,
    ReadableStream,
    Storage,
    StorageUnavailable,
    UploadedPart,
    validate_content_type,
    validate_expires,
    validate_key,
    validate_metadata,
    validate_part_number,
    validate_prefix,
    validate_sha256,
    validate_tags,
)

PRESIGN_SALT = "storage-presign"
#: Path of the blueprint route that serves presigned folder URLs (see views.py).
PRESIGN_PATH = "/storage/o/"
#: Path of the route that accepts presigned part uploads.
PRESIGN_PART_PATH = "/storage/p/"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_REPLACE_ATTEMPTS = 3


class InvalidPresignedToken(ValueError):
    """The presigned token is forged, malformed or meant for another method."""


class ExpiredPresignedToken(InvalidPresignedToken):
    """The presigned token was genuine but its lifetime has passed."""


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    """What a verified presigned token allows."""

    key: str
    method: str
    filename: str | None
    content_type: str | None
    expires_at: datetime
    upload_id: str | None = None
    part_number: int | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _bytes_writer(data: bytes) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


class FolderStorage(Storage):
    """Objects as files under ``root``; presigned URLs are signed tokens served by views.py."""

    name = "folder"

    def __init__(
        self,
        root: str | os.PathLike[str],
        signer_secret: str,
        base_url: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        #: Source of the current aware UTC time; tests replace it to move time.
        self.clock = clock
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._tmp = self.root / "tmp"
        #: ``uploads/<id>/upload.json`` describes an upload; ``uploads/<id>/<n>`` holds part n.
        self._uploads = self.root / "uploads"
        self._serializer = URLSafeTimedSerializer(signer_secret, salt=PRESIGN_SALT)

    # -- paths -------------------------------------------------------------------------

    def _path(self, base: Path, key: str) -> Path:
        validate_key(key)
        resolved_base = base.resolve()
        path = (resolved_base / key).resolve()
        if path == resolved_base or not path.is_relative_to(resolved_base):
            raise InvalidKey(f"key {key!r} leads outside the storage folder")
        return path

    def _data_path(self, key: str) -> Path:
        return self._path(self._objects, key)

    def _meta_path(self, key: str) -> Path:
        return self._path(self._meta, key)

    def _ensure_layout(self) -> None:
        for directory in (self._objects, self._meta, self._tmp, self._uploads):
            directory.mkdir(parents=True, exist_ok=True)

    def _check_free(self, key: str, target: Path, base: Path) -> None:
        """Refuse keys that need a file where a folder is, or the reverse (S3 allows both)."""
        conflict = InvalidKey(
            f"key {key!r} clashes with another key in folder storage "
            "(one key cannot be both an object and a prefix of others)"
        )
        if target.is_dir():
            raise conflict
        for parent in target.parents:
            if parent == base.resolve():
                break
            if parent.exists() and not parent.is_dir():
                raise conflict

    def _replace(self, tmp: Path, target: Path, key: str, base: Path) -> None:
        for _attempt in range(_REPLACE_ATTEMPTS):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                return
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                self._check_free(key, target, base)
                raise
            except FileNotFoundError:
                # A concurrent delete pruned the empty parent folder; make it again.
                continue
        raise StorageUnavailable(f"could not place {key!r} in the storage folder")

    def _prune(self, path: Path, base: Path) -> None:
        resolved_base = base.resolve()
        for parent in path.parents:
            if parent == resolved_base or not parent.is_relative_to(resolved_base):
                return
            try:
                parent.rmdir()
            except OSError:
                return

    # -- sidecars ----------------------------------------------------------------------

    def _read_meta(self, key: str) -> dict[str, Any]:
        try:
            with self._meta_path(key).open("rb") as handle:
                loaded = json.load(handle)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _write_temp(self, write: Callable[[BinaryIO], None]) -> Path:
        """Write to a new file in tmp/ and fsync it; on failure leave nothing behind."""
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="w-")
        tmp = Path(name)
        written = False
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            written = True
        finally:
            if not written:
                tmp.unlink(missing_ok=True)
        return tmp

    def _store(self, key: str, data_tmp: Path, meta: dict[str, Any]) -> None:
        """Move the written content and its sidecar into place, or remove both temp files."""
        data_target = self._data_path(key)
        meta_target = self._meta_path(key)
        meta_tmp: Path | None = None
        placed = False
        try:
            meta_tmp = self._write_temp(_bytes_writer(json.dumps(meta, sort_keys=True).encode()))
            # Sidecar first: a new key is never visible without its metadata.
            self._replace(meta_tmp, meta_target, key, self._meta)
            self._replace(data_tmp, data_target, key, self._objects)
            placed = True
        finally:
            if not placed:
                data_tmp.unlink(missing_ok=True)
                if meta_tmp is not None:
                    meta_tmp.unlink(missing_ok=True)

    def _info(self, key: str, st: os.stat_result, meta: Mapping[str, Any]) -> ObjectInfo:
        sha256 = meta.get("sha256")
        return ObjectInfo(
            key=key,
            size=st.st_size,
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            etag=sha256,
            sha256=sha256,
            content_type=meta.get("content_type"),
            metadata=dict(meta.get("metadata", {})),
            tags=dict(meta.get("tags", {})),
        )

    # -- Storage interface -------------------------------------------------------------

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
        """Stream to a temp file, fsync, then rename into place; failures leave no trace."""
        target = self._data_path(key)
        meta: dict[str, Any] = {
            "content_type": validate_content_type(content_type),
            "metadata": validate_metadata(metadata),
            "tags": validate_tags(tags),
        }
        self._ensure_layout()
        self._check_free(key, target, self._objects)
        reader = HashingReader(stream, size=size, sha256=validate_sha256(sha256))

        def write(handle: BinaryIO) -> None:
            while chunk := reader.read(CHUNK_SIZE):
                handle.write(chunk)

        data_tmp = self._write_temp(write)
        meta["sha256"] = reader.sha256
        meta["size"] = reader.bytes_read
        # Renaming keeps the inode, so this describes exactly the content we stored.
        written = data_tmp.stat()
        self._store(key, data_tmp, meta)
        return self._info(key, written, meta)

    def open(self, key: str) -> BinaryIO:
        """Return the object's file opened for reading; later writes do not affect it."""
        path = self._data_path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        return handle

    def open_with_info(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        """Open the object and describe it; the size is that of the opened file."""
        handle = self.open(key)
        try:
            info = self._info(key, os.fstat(handle.fileno()), self._read_meta(key))
        except OSError:
            handle.close()
            raise
        return handle, info

    def head(self, key: str) -> ObjectInfo:
        """Return size, SHA-256, content type, metadata and tags from the file and sidecar."""
        path = self._data_path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return self._info(key, st, self._read_meta(key))

    def delete(self, key: str) -> None:
        """Remove the file, its sidecar and any folders left empty; absent keys are fine."""
        data_path = self._data_path(key)
        meta_path = self._meta_path(key)
        if data_path.is_dir():
            return
        for path, base in ((data_path, self._objects), (meta_path, self._meta)):
            try:
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                continue
            self._prune(path, base)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield objects in key order, walking only folders that can hold matching keys."""
        validate_prefix(prefix)
        for key, st in self._walk(self._objects, "", prefix):
            yield ObjectInfo(
                key=key,
                size=st.st_size,
                last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
                etag=self._read_meta(key).get("sha256"),
            )

    def _walk(self, directory: Path, relative: str, prefix: str) -> Iterator[tuple[str, Any]]:
        try:
            with os.scandir(directory) as scan:
                entries = [*scan]
        except (FileNotFoundError, NotADirectoryError):
            return
        # Sorting folders as "name/" yields keys in the same order S3 lists them.
        ordered = sorted(
            ((entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name), entry)
            for entry in entries
        )
        for sort_name, entry in ordered:
            key = relative + sort_name
            if sort_name.endswith("/"):
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix) and entry.is_file(follow_symlinks=False):
                try:
                    validate_key(key)
                except InvalidKey:
                    continue
                yield key, entry.stat(follow_symlinks=False)

    def copy(self, src: str, dst: str) -> ObjectInfo:
        """Copy content and sidecar through a temp file; ``dst`` appears complete or not at all."""
        src_path = self._data_path(src)
        target = self._data_path(dst)
        if src_path == target:
            return self.head(src)
        self._ensure_layout()
        self._check_free(dst, target, self._objects)
        with self.open(src) as source:
            data_tmp = self._write_temp(
                lambda handle: shutil.copyfileobj(source, handle, CHUNK_SIZE)
            )
        meta = self._read_meta(src)
        written = data_tmp.stat()
        self._store(dst, data_tmp, meta)
        return self._info(dst, written, meta)

    def _sign(
        self,
        key: str,
        method: str,
        expires: int,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        part: tuple[str, int] | None = None,
    ) -> str:
        validate_key(key)
        expires_at = int(self.clock().timestamp()) + validate_expires(expires)
        payload: dict[str, Any] = {
            "k": key,
            "m": method,
            "f": filename,
            "c": content_type,
            "x": expires_at,
        }
        if part is not None:
            payload["u"], payload["n"] = part
        token = self._serializer.dumps(payload)
        path = PRESIGN_PART_PATH if part is not None else PRESIGN_PATH
        return f"{self.base_url}{path}{token}"

    def presign_get(self, key: str, expires: int = 60, filename: str | None = None) -> str:
        """Return a signed ``{base_url}/storage/o/<token>`` URL that downloads the object."""
        return self._sign(key, "GET", expires, filename=filename)

    def presign_put(self, key: str, expires: int = 300, content_type: str | None = None) -> str:
        """Return a signed URL accepting a PUT; a given content type must then be sent."""
        checked = validate_content_type(content_type) if content_type else None
        return self._sign(key, "PUT", expires, content_type=checked)

    def verify_presigned(self, token: str, method: str) -> PresignedRequest:
        """Return what the token allows, or raise InvalidPresignedToken / Expired...Token."""
        try:
            payload = self._serializer.loads(token)
        except BadData:
            raise InvalidPresignedToken("This link is not valid.") from None
        try:
            request = PresignedRequest(
                key=validate_key(payload["k"]),
                method=str(payload["m"]),
                filename=payload["f"],
                content_type=payload["c"],
                expires_at=datetime.fromtimestamp(int(payload["x"]), UTC),
                upload_id=payload.get("u"),
                part_number=payload.get("n"),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidPresignedToken("This link is not valid.") from None
        if request.method != method:
            raise InvalidPresignedToken("This link is not valid for this request.")
        if request.expires_at <= self.clock():
            raise ExpiredPresignedToken("This link has expired.")
        return request

    # -- multipart uploads ---------------------------------------------------------------

    def _upload_dir(self, key: str, upload_id: str) -> tuple[Path, dict[str, Any]]:
        """The upload's folder and description; InvalidUpload unless it is this key's upload."""
        validate_key(key)
        if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
            raise InvalidUpload(f"no upload in progress for {key!r}")
        folder = self._uploads / upload_id
        try:
            with (folder / "upload.json").open("rb") as handle:
                info = json.load(handle)
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise InvalidUpload(f"no upload in progress for {key!r}") from None
        if info.get("key") != key:
            raise InvalidUpload(f"no upload in progress for {key!r}")
        return folder, info

    def create_multipart(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Make ``uploads/<id>/`` with the upload's description; parts arrive beside it."""
        validate_key(key)
        info = {
            "key": key,
            "content_type": validate_content_type(content_type),
            "metadata": validate_metadata(metadata),
            "tags": validate_tags(tags),
            "initiated": self.clock().isoformat(),
        }
        self._ensure_layout()
        upload_id = uuid.uuid4().hex
        folder = self._uploads / upload_id
        folder.mkdir()
        described = self._write_temp(_bytes_writer(json.dumps(info, sort_keys=True).encode()))
        os.replace(described, folder / "upload.json")
        return upload_id

    def presign_part(self, key: str, upload_id: str, part_number: int, expires: int = 3600) -> str:
        """A signed ``{base_url}/storage/p/<token>`` URL accepting a PUT of one part."""
        self._upload_dir(key, upload_id)
        return self._sign(
            key, "PUT_PART", expires, part=(upload_id, validate_part_number(part_number))
        )

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: ReadableStream, size: int
    ) -> UploadedPart:
        """Write the part to a temp file, then rename it into the upload's folder."""
        folder, _info = self._upload_dir(key, upload_id)
        validate_part_number(part_number)
        reader = HashingReader(stream, size=size)
        digest = hashlib.md5(usedforsecurity=False)

        def write(handle: BinaryIO) -> None:
            while chunk := reader.read(CHUNK_SIZE):
                digest.update(chunk)
                handle.write(chunk)

        tmp = self._write_temp(write)
        etag = digest.hexdigest()
        etag_tmp = self._write_temp(_bytes_writer(etag.encode()))
        try:
            # The ETag first, so a part on disk always has the right one beside it.
            os.replace(etag_tmp, folder / f"{part_number}.etag")
            os.replace(tmp, folder / str(part_number))
        except FileNotFoundError:  # aborted meanwhile
            tmp.unlink(missing_ok=True)
            etag_tmp.unlink(missing_ok=True)
            raise InvalidUpload(f"no upload in progress for {key!r}") from None
        return UploadedPart(part_number, etag, reader.bytes_read)

    def _parts(self, folder: Path) -> list[tuple[UploadedPart, Path]]:
        found = []
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.isdecimal() and entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    found.append((int(entry.name), Path(entry.path), size))
        parts = []
        for number, path, size in sorted(found):
            try:
                etag = (folder / f"{number}.etag").read_text()
            except FileNotFoundError:
                continue
            parts.append((UploadedPart(number, etag, size), path))
        return parts

    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """The parts on disk, by number, with MD5 ETags like S3's."""
        folder, _info = self._upload_dir(key, upload_id)
        return [part for part, _path in self._parts(folder)]

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[UploadedPart] | None = None
    ) -> ObjectInfo:
        """Concatenate the parts into a temp file (streaming), then store it atomically."""
        folder, info = self._upload_dir(key, upload_id)
        target = self._data_path(key)
        self._check_free(key, target, self._objects)
        stored = {part.part_number: (part, path) for part, path in self._parts(folder)}
        wanted = sorted(parts, key=lambda p: p.part_number) if parts is not None else None
        chosen = [stored[n][1] for n in sorted(stored)] if wanted is None else []
        for part in wanted or []:
            have = stored.get(part.part_number)
            if have is None or have[0].etag != part.etag:
                raise InvalidUpload(f"part {part.part_number} was not uploaded as given")
            chosen.append(have[1])
        if not chosen:
            raise InvalidUpload("an upload needs at least one part")
        digest = hashlib.sha256()

        def write(handle: BinaryIO) -> None:
            for path in chosen:
                with path.open("rb") as source:
                    while chunk := source.read(CHUNK_SIZE):
                        digest.update(chunk)
                        handle.write(chunk)

        data_tmp = self._write_temp(write)
        meta = {
            "content_type": info["content_type"],
            "metadata": info["metadata"],
            "tags": info["tags"],
            "sha256": digest.hexdigest(),
        }
        written = data_tmp.stat()
        meta["size"] = written.st_size
        self._store(key, data_tmp, meta)
        shutil.rmtree(folder, ignore_errors=True)
        return self._info(key, written, meta)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Remove the upload's folder and parts; an unknown upload is fine."""
        try:
            folder, _info = self._upload_dir(key, upload_id)
        except InvalidUpload:
            return
        shutil.rmtree(folder, ignore_errors=True)

    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """Every upload folder whose key starts with ``prefix``, in key order."""
        validate_prefix(prefix)
        found = []
        try:
            entries = list(os.scandir(self._uploads))
        except FileNotFoundError:
            return
        for entry in entries:
            if not _UPLOAD_ID.fullmatch(entry.name):
                continue
            try:
                with open(os.path.join(entry.path, "upload.json"), "rb") as handle:
                    info = json.load(handle)
            except (FileNotFoundError, NotADirectoryError, ValueError):
                continue
            if str(info.get("key", "")).startswith(prefix):
                initiated = datetime.fromisoformat(info["initiated"])
                found.append(MultipartUpload(info["key"], entry.name, initiated))
        yield from sorted(found, key=lambda upload: (upload.key, upload.initiated))

    def check(self) -> None:
        """Raise StorageUnavailable unless the folder exists (or can be made) and is writable."""
        try:
            self._ensure_layout()
            probe = self._write_temp(_bytes_writer(b"ok"))
            probe.unlink()
        except OSError as error:
            raise StorageUnavailable(
                f"storage folder {str(self.root)!r} is not writable: {error}"
            ) from error
