"""The storage contract, run against both backends (folder, and S3 through moto)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.datastructures import Headers

from app.config import Config, ConfigError
from app.storage import get_storage, init_app, storage_from_config
from app.storage.base import (
    InvalidKey,
    InvalidMetadata,
    MiB,
    ObjectNotFound,
    Storage,
    StorageUnavailable,
    UploadMismatch,
)
from app.storage.folder import FolderStorage
from app.storage.s3 import S3Storage
from app.storage.views import bp
from tests.s3_server import s3_config

BASE_URL = "http://storage.test"
SECRET = "test-secret-key"


class GeneratedStream(io.RawIOBase):
    """Deterministic bytes made on demand, in short reads like a socket; never read whole."""

    BLOCK = 64 * 1024
    MAX_READ = 256 * 1024

    def __init__(self, size: int, *, fail_after: int | None = None) -> None:
        self.size = size
        self.position = 0
        self.fail_after = fail_after
        self.largest_request = 0

    def readable(self) -> bool:
        return True

    def _byte_block(self, index: int) -> bytes:
        return hashlib.sha256(index.to_bytes(8, "big")).digest() * (self.BLOCK // 32)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        self.largest_request = max(self.largest_request, len(view))
        if self.fail_after is not None and self.position >= self.fail_after:
            raise ConnectionResetError("client went away")
        wanted = min(len(view), self.MAX_READ, self.size - self.position)
        filled = 0
        while filled < wanted:
            index, offset = divmod(self.position, self.BLOCK)
            piece = self._byte_block(index)[offset : offset + wanted - filled]
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
            self.position += len(piece)
        return filled

    def readall(self) -> bytes:
        raise AssertionError("the whole stream was read into memory at once")


def generated_sha256(size: int) -> str:
    digest = hashlib.sha256()
    stream = GeneratedStream(size)
    while chunk := stream.read(MiB):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class HttpResult:
    status: int
    body: bytes
    headers: Headers


Http = Callable[..., HttpResult]


@pytest.fixture
def folder_storage(tmp_path: Path) -> FolderStorage:
    return FolderStorage(tmp_path / "store", SECRET, BASE_URL)


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest) -> Storage:
    name = "folder_storage" if request.param == "folder" else "s3_storage"
    backend = request.getfixturevalue(name)
    assert isinstance(backend, Storage)
    return backend


def folder_app(storage: Storage) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(bp)
    app.extensions["storage"] = storage
    return app


@pytest.fixture
def http(storage: Storage) -> Http:
    """Send a plain HTTP request to a presigned URL of either backend."""
    if isinstance(storage, FolderStorage):
        client = folder_app(storage).test_client()

        def send_to_app(
            method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
        ) -> HttpResult:
            assert url.startswith((BASE_URL + "/storage/o/", BASE_URL + "/storage/p/"))
            response = client.open(urlsplit(url).path, method=method, data=data, headers=headers)
            return HttpResult(response.status_code, response.get_data(), response.headers)

        return send_to_app

    def send_over_network(
        method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpResult:
        response = requests.request(method, url, data=data, headers=headers, timeout=30)
        received = Headers(list(response.headers.items()))
        return HttpResult(response.status_code, response.content, received)

    return send_over_network


def leftovers(storage: Storage) -> list[str]:
    """Partial writes the backend still holds: temp files, or unfinished multipart uploads."""
    if isinstance(storage, FolderStorage):
        tmp = storage.root / "tmp"
        return sorted(os.listdir(tmp)) if tmp.exists() else []
    assert isinstance(storage, S3Storage)
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


@contextmanager
def counting_list_requests(storage: Storage, page_size: int) -> Iterator[list[str]]:
    """Make S3 list in small pages and record each list request (none for the folder)."""
    calls: list[str] = []
    if not isinstance(storage, S3Storage):
        yield calls
        return
    events = storage.client.meta.events
    events.register(
        "before-call.s3.ListObjectsV2",
        lambda **_kwargs: calls.append("list"),
        unique_id="test-list-counter",
    )
    storage.list_page_size = page_size
    try:
        yield calls
    finally:
        storage.list_page_size = 1000
        events.unregister("before-call.s3.ListObjectsV2", unique_id="test-list-counter")


# -- round trips -------------------------------------------------------------------------


def test_put_then_read_back_gives_same_bytes_size_and_sha256(storage: Storage) -> None:
    data = b"inspection evidence\n" * 1000
    expected = hashlib.sha256(data).hexdigest()

    stored = storage.put("evidence/report.txt", io.BytesIO(data), content_type="text/plain")

    assert (stored.key, stored.size, stored.sha256) == ("evidence/report.txt", len(data), expected)
    with storage.open("evidence/report.txt") as stream:
        assert stream.read() == data
    assert b"".join(storage.iter_chunks("evidence/report.txt", chunk_size=4096)) == data
    head = storage.head("evidence/report.txt")
    assert (head.size, head.sha256, head.content_type) == (len(data), expected, "text/plain")
    assert head.last_modified.utcoffset() == timedelta(0)
    assert storage.exists("evidence/report.txt")


def test_empty_object_round_trips(storage: Storage) -> None:
    stored = storage.put("empty", io.BytesIO(b""))

    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert b"".join(storage.iter_chunks("empty")) == b""
    assert storage.head("empty").content_type == "application/octet-stream"


def test_twenty_mib_object_streams_through_in_chunks(storage: Storage) -> None:
    size = 20 * MiB
    source = GeneratedStream(size)

    stored = storage.put("big/blob.bin", source, size=size)

    expected = generated_sha256(size)
    assert (stored.size, stored.sha256) == (size, expected)
    assert source.largest_request < size
    digest = hashlib.sha256()
    largest_chunk = 0
    for chunk in storage.iter_chunks("big/blob.bin"):
        largest_chunk = max(largest_chunk, len(chunk))
        digest.update(chunk)
    assert digest.hexdigest() == expected
    assert largest_chunk <= MiB
    assert storage.head("big/blob.bin").size == size


def test_upload_that_fails_midway_stores_nothing(storage: Storage) -> None:
    with pytest.raises(ConnectionResetError):
        storage.put("broken.bin", GeneratedStream(12 * MiB, fail_after=9 * MiB))

    assert not storage.exists("broken.bin")
    assert leftovers(storage) == []


@pytest.mark.parametrize("seekable", [True, False], ids=["seekable", "stream"])
@pytest.mark.parametrize("actual", [5, 15], ids=["shorter", "longer"])
def test_upload_not_matching_declared_size_stores_nothing(
    storage: Storage, seekable: bool, actual: int
) -> None:
    source = io.BytesIO(b"x" * actual) if seekable else GeneratedStream(actual)

    with pytest.raises(UploadMismatch):
        storage.put("sized.bin", source, size=10)

    assert not storage.exists("sized.bin")
    assert leftovers(storage) == []


def test_overwrite_replaces_content_and_metadata(storage: Storage) -> None:
    storage.put("doc", io.BytesIO(b"first"), metadata={"version": "1"}, tags={"stage": "draft"})
    storage.put("doc", io.BytesIO(b"second"), metadata={"version": "2"})

    head = storage.head("doc")
    assert (head.size, head.metadata, head.tags) == (6, {"version": "2"}, {})
    assert b"".join(storage.iter_chunks("doc")) == b"second"


# -- missing objects and deletion --------------------------------------------------------


def test_missing_object_raises_object_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound) as raised:
        storage.head("nope/missing.txt")
    assert isinstance(raised.value, KeyError)
    with pytest.raises(ObjectNotFound):
        storage.open("nope/missing.txt")
    with pytest.raises(ObjectNotFound):
        list(storage.iter_chunks("nope/missing.txt"))
    assert not storage.exists("nope/missing.txt")


def test_delete_is_idempotent(storage: Storage) -> None:
    storage.put("to/delete.txt", io.BytesIO(b"bye"))

    storage.delete("to/delete.txt")
    storage.delete("to/delete.txt")
    storage.delete("never/existed")

    assert not storage.exists("to/delete.txt")
    with pytest.raises(ObjectNotFound):
        storage.head("to/delete.txt")
    assert list(storage.list()) == []


def test_delete_leaves_keys_that_share_the_prefix(storage: Storage) -> None:
    for key in ("case", "case-2", "case0", "cases/a"):
        storage.put(key, io.BytesIO(key.encode()))

    storage.delete("case")

    assert [info.key for info in storage.list()] == ["case-2", "case0", "cases/a"]


# -- listing -----------------------------------------------------------------------------


def test_list_filters_by_prefix_sorts_by_key_and_spans_pages(storage: Storage) -> None:
    many = [f"many/{index:05d}" for index in range(130)]
    others = ["a-b", "a/b", "a0", "many-sibling", "other/x"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: storage.put(key, io.BytesIO(key.encode())), many + others))

    with counting_list_requests(storage, page_size=50) as list_requests:
        listed = list(storage.list("many/"))

    assert [info.key for info in listed] == many
    assert listed[7].size == len(b"many/00007")
    assert listed[7].last_modified.utcoffset() == timedelta(0)
    if isinstance(storage, S3Storage):
        assert len(list_requests) == 3
    everything = [info.key for info in storage.list()]
    assert everything == sorted(many + others)
    assert everything[:3] == ["a-b", "a/b", "a0"]
    assert [info.key for info in storage.list("many")] == ["many-sibling", *many]
    assert [info.key for info in storage.list("a/")] == ["a/b"]
    assert list(storage.list("nothing/here/")) == []


# -- copy, metadata, tags ----------------------------------------------------------------


def test_copy_keeps_content_type_metadata_and_tags(storage: Storage) -> None:
    data = b"%PDF-1.7 letter"
    storage.put(
        "letters/original.pdf",
        io.BytesIO(data),
        content_type="application/pdf",
        metadata={"workspace-id": "42"},
        tags={"retention": "7y"},
    )

    copied = storage.copy("letters/original.pdf", "letters/copy.pdf")

    assert copied.key == "letters/copy.pdf"
    head = storage.head("letters/copy.pdf")
    assert head.content_type == "application/pdf"
    assert head.metadata == {"workspace-id": "42"}
    assert head.tags == {"retention": "7y"}
    assert head.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(storage.iter_chunks("letters/copy.pdf")) == data
    assert storage.exists("letters/original.pdf")


def test_copy_of_missing_object_raises_object_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        storage.copy("missing", "target")
    assert not storage.exists("target")


def test_tags_and_metadata_round_trip(storage: Storage) -> None:
    metadata = {"tenant": "hmicfrs", "uploaded-by": "user-17"}
    tags = {"classification": "OFFICIAL-SENSITIVE", "hold": "case 2024/7"}

    stored = storage.put("tagged.bin", io.BytesIO(b"t"), metadata=metadata, tags=tags)

    assert (stored.metadata, stored.tags) == (metadata, tags)
    head = storage.head("tagged.bin")
    assert (head.metadata, head.tags) == (metadata, tags)


@pytest.mark.parametrize(
    ("metadata", "tags", "content_type"),
    [
        ({"Not Lower": "x"}, None, None),
        ({"sha256": "forged"}, None, None),
        ({"note": "caf\u00e9"}, None, None),
        ({"note": "x" * 3000}, None, None),
        (None, {f"t{i}": "v" for i in range(11)}, None),
        (None, {"aws:reserved": "v"}, None),
        (None, {"bad": "semi;colon"}, None),
        (None, None, "not a mime type"),
        (None, None, "text/plain\r\nX-Injected: 1"),
        (None, None, "text/plain\n"),
        ({"name\n": "x"}, None, None),
    ],
    ids=[
        "upper-name",
        "reserved-name",
        "non-ascii",
        "too-big",
        "too-many-tags",
        "aws-tag",
        "bad-tag-char",
        "bad-type",
        "header-injection",
        "type-trailing-newline",
        "name-trailing-newline",
    ],
)
def test_invalid_metadata_tags_or_type_are_refused(
    storage: Storage, metadata: Any, tags: Any, content_type: Any
) -> None:
    with pytest.raises(InvalidMetadata):
        storage.put(
            "meta.bin", io.BytesIO(b"m"), metadata=metadata, tags=tags, content_type=content_type
        )
    assert not storage.exists("meta.bin")


# -- hostile keys ------------------------------------------------------------------------

HOSTILE_KEYS = [
    "../etc/passwd",
    "a/../../b",
    "/abs",
    "a\\b",
    "a\x00b",
    "a\nb",
    "",
    "x" * 2000,
    "a//b",
    "a/./b",
    "trailing/",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=lambda key: repr(key)[:20])
def test_hostile_keys_are_refused_by_every_operation(storage: Storage, key: str) -> None:
    operations: list[Callable[[], object]] = [
        lambda: storage.put(key, io.BytesIO(b"pwned")),
        lambda: storage.head(key),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.copy("safe", key),
        lambda: storage.presign_get(key),
        lambda: storage.presign_put(key),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()
    assert list(storage.list()) == []


def test_folder_keys_cannot_escape_through_a_symlink(
    folder_storage: FolderStorage, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder_storage.put("inside", io.BytesIO(b"ok"))
    (folder_storage.root / "objects" / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidKey):
        folder_storage.put("link/escaped", io.BytesIO(b"pwned"))
    assert list(outside.iterdir()) == []
    assert [info.key for info in folder_storage.list()] == ["inside"]


def test_folder_key_cannot_be_both_object_and_prefix(folder_storage: FolderStorage) -> None:
    folder_storage.put("a", io.BytesIO(b"file"))

    with pytest.raises(InvalidKey, match="clashes"):
        folder_storage.put("a/b", io.BytesIO(b"nested"))
    folder_storage.put("c/d", io.BytesIO(b"nested"))
    with pytest.raises(InvalidKey, match="clashes"):
        folder_storage.put("c", io.BytesIO(b"file"))
    folder_storage.delete("c/d")
    folder_storage.put("c", io.BytesIO(b"file now"))
    assert folder_storage.head("c").size == 8


# -- presigned URLs ----------------------------------------------------------------------


def test_presigned_get_downloads_with_a_plain_http_get(storage: Storage, http: Http) -> None:
    storage.put("letters/final.pdf", io.BytesIO(b"%PDF final"), content_type="application/pdf")

    url = storage.presign_get("letters/final.pdf", expires=60, filename="Lettre finale é.pdf")
    response = http("GET", url)

    assert response.status == 200
    assert response.body == b"%PDF final"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Lettre%20finale%20%C3%A9.pdf" in disposition


def test_presigned_put_uploads_with_a_plain_http_put(storage: Storage, http: Http) -> None:
    url = storage.presign_put("uploads/photo.jpg", expires=300, content_type="image/jpeg")

    response = http("PUT", url, data=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"})

    assert response.status == 200
    assert b"".join(storage.iter_chunks("uploads/photo.jpg")) == b"\xff\xd8jpeg"
    assert storage.head("uploads/photo.jpg").content_type == "image/jpeg"


@pytest.mark.parametrize("expires", [0, -1, 8 * 24 * 3600])
def test_presign_refuses_lifetimes_s3_would_refuse(storage: Storage, expires: int) -> None:
    with pytest.raises(ValueError, match="expires"):
        storage.presign_get("any", expires=expires)


def test_expired_folder_url_answers_403(folder_storage: FolderStorage) -> None:
    folder_storage.put("soon-gone.txt", io.BytesIO(b"secret"))
    url = folder_storage.presign_get("soon-gone.txt", expires=60)
    client = folder_app(folder_storage).test_client()
    signed_at = folder_storage.clock()

    folder_storage.clock = lambda: signed_at + timedelta(seconds=61)
    response = client.get(urlsplit(url).path)

    assert response.status_code == 403
    assert b"expired" in response.data
    assert b"secret" not in response.data


def test_folder_url_refuses_tampering_and_wrong_method(folder_storage: FolderStorage) -> None:
    folder_storage.put("doc.txt", io.BytesIO(b"secret"))
    client = folder_app(folder_storage).test_client()
    get_path = urlsplit(folder_storage.presign_get("doc.txt")).path
    put_path = urlsplit(folder_storage.presign_put("doc.txt")).path

    assert client.get(get_path[:-3] + "abc").status_code == 403
    assert client.get(put_path).status_code == 403
    assert client.put(get_path, data=b"overwrite").status_code == 403
    assert b"".join(folder_storage.iter_chunks("doc.txt")) == b"secret"
    other_secret = FolderStorage(folder_storage.root, "another-secret", BASE_URL)
    forged = urlsplit(other_secret.presign_get("doc.txt")).path
    assert client.get(forged).status_code == 403


def test_folder_download_is_a_sandboxed_attachment_and_404_when_missing(
    folder_storage: FolderStorage,
) -> None:
    folder_storage.put(
        "page.html", io.BytesIO(b"<script>alert(1)</script>"), content_type="text/html"
    )
    client = folder_app(folder_storage).test_client()

    response = client.get(urlsplit(folder_storage.presign_get("page.html")).path)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Length"] == "25"

    url = folder_storage.presign_get("page.html")
    folder_storage.delete("page.html")
    assert client.get(urlsplit(url).path).status_code == 404


def test_folder_upload_url_requires_the_signed_content_type(folder_storage: FolderStorage) -> None:
    client = folder_app(folder_storage).test_client()
    path = urlsplit(folder_storage.presign_put("in.csv", content_type="text/csv")).path

    refused = client.put(path, data=b"a,b", headers={"Content-Type": "text/html"})

    assert refused.status_code == 403
    assert not folder_storage.exists("in.csv")
    assert client.put(path, data=b"a,b", headers={"Content-Type": "text/csv"}).status_code == 200
    assert folder_storage.head("in.csv").content_type == "text/csv"


# -- readiness and configuration ---------------------------------------------------------


def test_check_passes_on_a_usable_store(storage: Storage) -> None:
    storage.check()


def test_folder_check_fails_clearly_when_root_is_not_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")

    with pytest.raises(StorageUnavailable, match="not writable"):
        FolderStorage(blocker, SECRET, BASE_URL).check()


@pytest.mark.s3
def test_s3_check_fails_clearly_when_bucket_is_missing(s3_server: str) -> None:
    storage = S3Storage.from_config(s3_config(s3_server, "no-such-bucket-here"))

    with pytest.raises(StorageUnavailable, match="no-such-bucket-here"):
        storage.check()


def test_storage_from_config_picks_the_backend(tmp_path: Path) -> None:
    folder = storage_from_config(Config(storage_url=f"file://{tmp_path}/objects"))
    s3 = storage_from_config(Config(storage_url="s3://evidence-bucket/app/objects"))

    assert isinstance(folder, FolderStorage) and folder.name == "folder"
    assert folder.root == tmp_path / "objects"
    assert isinstance(s3, S3Storage) and s3.name == "s3"
    assert (s3.bucket, s3.prefix) == ("evidence-bucket", "app/objects/")
    with pytest.raises(ConfigError):
        storage_from_config(Config(storage_url="file://relative/path"))
    with pytest.raises(ConfigError):
        storage_from_config(Config(storage_url="ftp://elsewhere"))


def test_get_storage_is_built_lazily_once_per_app(tmp_path: Path) -> None:
    app = Flask(__name__)
    config = Config(storage_url=f"file://{tmp_path}/objects")
    init_app(app, config)

    assert "storage" not in app.extensions
    assert not (tmp_path / "objects").exists()
    with app.app_context():
        first = get_storage()
        assert get_storage() is first
    assert isinstance(first, FolderStorage)
    assert "storage.download" in app.view_functions


# -- S3 only -----------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_put_requests_server_side_encryption(s3_storage: S3Storage) -> None:
    s3_storage.put("secret.bin", io.BytesIO(b"s"))
    s3_storage.put("secret-big.bin", GeneratedStream(9 * MiB))

    for key in ("secret.bin", "secret-big.bin"):
        head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256"


@pytest.mark.s3
def test_s3_delete_removes_every_version_in_a_versioned_bucket(s3_storage: S3Storage) -> None:
    client, bucket = s3_storage.client, s3_storage.bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3_storage.put("versioned.txt", io.BytesIO(b"one"))
    s3_storage.put("versioned.txt", io.BytesIO(b"two"))
    s3_storage.put("versioned.txt.keep", io.BytesIO(b"neighbour"))
    before = client.list_object_versions(Bucket=bucket, Prefix="versioned.txt")
    assert len([v for v in before["Versions"] if v["Key"] == "versioned.txt"]) == 2

    s3_storage.delete("versioned.txt")

    after = client.list_object_versions(Bucket=bucket, Prefix="versioned.txt")
    remaining = [*after.get("Versions", []), *after.get("DeleteMarkers", [])]
    assert [entry["Key"] for entry in remaining] == ["versioned.txt.keep"]
    s3_storage.delete("versioned.txt")


@pytest.mark.s3
def test_s3_batch_delete_removes_every_version_and_delete_marker(s3_storage: S3Storage) -> None:
    """What the retention sweep calls: in a versioned bucket nothing of a destroyed object
    survives (old versions, delete markers), across folders, and neighbours are kept."""
    client, bucket = s3_storage.client, s3_storage.bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    doomed = ["batch/a/1.pdf", "batch/a/2.pdf", "batch/b/3.pdf"]
    for key in doomed:
        s3_storage.put(key, io.BytesIO(b"one"))
        s3_storage.put(key, io.BytesIO(b"two"))
    client.delete_object(Bucket=bucket, Key="batch/a/2.pdf")  # a delete marker on top
    s3_storage.put("batch/a/1.pdf.keep", io.BytesIO(b"neighbour"))
    s3_storage.put("batch/b/4.pdf", io.BytesIO(b"neighbour"))

    s3_storage.delete_many([*doomed, "batch/c/never-existed.pdf"])

    after = client.list_object_versions(Bucket=bucket, Prefix="batch/")
    remaining = sorted(
        entry["Key"] for entry in [*after.get("Versions", []), *after.get("DeleteMarkers", [])]
    )
    assert remaining == ["batch/a/1.pdf.keep", "batch/b/4.pdf"]
    s3_storage.delete_many(doomed)  # again: nothing left to delete is not an error
    s3_storage.delete_many(["batch/a/1.pdf.keep", "batch/b/4.pdf"])


@pytest.mark.s3
def test_s3_prefix_keeps_objects_under_it_and_out_of_keys(s3_storage: S3Storage) -> None:
    prefixed = S3Storage(s3_storage.bucket, "tenant-a/objects", s3_storage.client)

    prefixed.put("doc.txt", io.BytesIO(b"d"))

    raw = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]
    assert [entry["Key"] for entry in raw] == ["tenant-a/objects/doc.txt"]
    assert [info.key for info in prefixed.list()] == ["doc.txt"]
    assert prefixed.head("doc.txt").size == 1
