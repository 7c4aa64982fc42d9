# ruff: noqa: F811 - the storage contract's fixtures are imported by name and used as arguments
"""The multipart upload contract (what browsers use), run against both backends."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest

from app.storage.base import (
    InvalidKey,
    InvalidUpload,
    MiB,
    Storage,
    UploadedPart,
)
from app.storage.folder import FolderStorage
from app.storage.s3 import S3Storage
from tests.app.test_storage import (  # noqa: F401 - fixtures shared with the storage contract
    Http,
    folder_storage,
    http,
    storage,
)

PART = 5 * MiB


def _data(size: int, seed: int = 1) -> bytes:
    block = hashlib.sha256(seed.to_bytes(4, "big")).digest()
    return (block * (size // len(block) + 1))[:size]


def test_parts_uploaded_through_presigned_urls_assemble_into_the_object(
    storage: Storage, http: Http
) -> None:
    data = _data(2 * PART + 123)
    upload_id = storage.create_multipart(
        "quarantine/t/w/u1", content_type="application/pdf", tags={"retention-class": "standard"}
    )
    assert not storage.exists("quarantine/t/w/u1")
    etags = {}
    for number, start in ((3, 2 * PART), (1, 0), (2, PART)):
        url = storage.presign_part("quarantine/t/w/u1", upload_id, number)
        response = http("PUT", url, data=data[start : start + PART])
        assert response.status == 200, response.body
        etags[number] = response.headers["ETag"].strip('"')

    parts = storage.list_parts("quarantine/t/w/u1", upload_id)
    assert [(p.part_number, p.size) for p in parts] == [(1, PART), (2, PART), (3, 123)]
    assert {p.part_number: p.etag for p in parts} == etags
    assert [u.upload_id for u in storage.list_multipart_uploads("quarantine/")] == [upload_id]

    info = storage.complete_multipart("quarantine/t/w/u1", upload_id, parts)

    assert info.size == len(data)
    assert b"".join(storage.iter_chunks("quarantine/t/w/u1")) == data
    head = storage.head("quarantine/t/w/u1")
    assert (head.content_type, head.tags) == ("application/pdf", {"retention-class": "standard"})
    assert list(storage.list_multipart_uploads()) == []


def test_a_part_sent_again_after_a_dropped_connection_replaces_the_first(
    storage: Storage,
) -> None:
    upload_id = storage.create_multipart("resume/me")
    storage.upload_part("resume/me", upload_id, 1, io.BytesIO(b"x" * PART), PART)
    with pytest.raises(ConnectionResetError):
        storage.upload_part("resume/me", upload_id, 2, _Dropping(b"y" * 1000, 10), 1000)
    assert [p.part_number for p in storage.list_parts("resume/me", upload_id)] == [1]

    storage.upload_part("resume/me", upload_id, 2, io.BytesIO(b"y" * 1000), 1000)
    storage.complete_multipart("resume/me", upload_id)

    assert storage.head("resume/me").size == PART + 1000


class _Dropping(io.RawIOBase):
    def __init__(self, data: bytes, after: int) -> None:
        self.data, self.after, self.sent = data, after, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.sent >= self.after:
            raise ConnectionResetError("dropped")
        piece = self.data[self.sent : self.after]
        buffer[: len(piece)] = piece
        self.sent += len(piece)
        return len(piece)


def test_abort_discards_every_part_and_is_idempotent(storage: Storage) -> None:
    upload_id = storage.create_multipart("gone/soon")
    storage.upload_part("gone/soon", upload_id, 1, io.BytesIO(b"abc"), 3)

    storage.abort_multipart("gone/soon", upload_id)
    storage.abort_multipart("gone/soon", upload_id)

    assert list(storage.list_multipart_uploads()) == []
    assert not storage.exists("gone/soon")
    with pytest.raises(InvalidUpload):
        storage.list_parts("gone/soon", upload_id)
    with pytest.raises(InvalidUpload):
        storage.complete_multipart("gone/soon", upload_id)


@pytest.mark.parametrize("part_number", [0, -1, 10_001, True])
def test_part_numbers_out_of_range_are_refused(storage: Storage, part_number: int) -> None:
    upload_id = storage.create_multipart("numbers")
    with pytest.raises(ValueError, match="part numbers"):
        storage.presign_part("numbers", upload_id, part_number)
    with pytest.raises(ValueError, match="part numbers"):
        storage.upload_part("numbers", upload_id, part_number, io.BytesIO(b"a"), 1)


def test_completing_with_a_part_that_was_not_uploaded_is_refused(storage: Storage) -> None:
    upload_id = storage.create_multipart("wrong/parts")
    storage.upload_part("wrong/parts", upload_id, 1, io.BytesIO(b"abc"), 3)

    with pytest.raises(InvalidUpload):
        storage.complete_multipart("wrong/parts", upload_id, [UploadedPart(1, "0" * 32, 3)])
    assert not storage.exists("wrong/parts")


def test_an_upload_id_only_works_for_its_own_key(storage: Storage) -> None:
    upload_id = storage.create_multipart("mine")
    with pytest.raises((InvalidUpload, InvalidKey)):
        storage.upload_part("../mine", upload_id, 1, io.BytesIO(b"a"), 1)
    if isinstance(storage, FolderStorage):
        with pytest.raises(InvalidUpload):
            storage.upload_part("theirs", upload_id, 1, io.BytesIO(b"a"), 1)
        with pytest.raises(InvalidUpload):
            storage.list_parts("mine", "../../etc")


def test_uploads_in_progress_are_listed_with_their_start_time(storage: Storage) -> None:
    first = storage.create_multipart("quarantine/a")
    second = storage.create_multipart("quarantine/b")
    storage.create_multipart("elsewhere/c")

    listed = list(storage.list_multipart_uploads("quarantine/"))

    assert [(u.key, u.upload_id) for u in listed] == [
        ("quarantine/a", first),
        ("quarantine/b", second),
    ]
    assert all(u.initiated.utcoffset() == timedelta(0) for u in listed)


def test_folder_part_url_refuses_other_methods_and_expiry(folder_storage: FolderStorage) -> None:
    from urllib.parse import urlsplit

    from tests.app.test_storage import folder_app

    client = folder_app(folder_storage).test_client()
    upload_id = folder_storage.create_multipart("p")
    path = urlsplit(folder_storage.presign_part("p", upload_id, 1, expires=60)).path
    object_put = urlsplit(folder_storage.presign_put("p")).path

    wrong_route = object_put.replace("/storage/o/", "/storage/p/")
    assert client.put(wrong_route, data=b"x").status_code == 403
    assert client.put(path.replace("/storage/p/", "/storage/o/"), data=b"x").status_code == 403
    signed_at = folder_storage.clock()
    folder_storage.clock = lambda: signed_at + timedelta(seconds=61)
    assert client.put(path, data=b"x").status_code == 403
    assert folder_storage.list_parts("p", upload_id) == []


@pytest.mark.s3
def test_s3_multipart_requests_encryption(s3_storage: S3Storage) -> None:
    upload_id = s3_storage.create_multipart("enc")
    s3_storage.upload_part("enc", upload_id, 1, io.BytesIO(b"abc"), 3)
    s3_storage.complete_multipart("enc", upload_id)

    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="enc")
    assert head["ServerSideEncryption"] == "AES256"
