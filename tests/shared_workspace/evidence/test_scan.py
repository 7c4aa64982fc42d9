"""The scan job: real types from content, ClamAV through clamd, idempotent after a crash."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zipfile
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.audit import AuditEvent
from app.db import set_context
from app.storage import Storage
from shared_workspace.evidence import api as evidence_api
from shared_workspace.evidence import jobs, scan
from shared_workspace.evidence.models import EvidenceFile
from tests.shared_workspace.evidence.conftest import PDF, World, file_state, new_item, upload

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{kind}/document.xml", "<doc/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "pdf"),
        (_office("word"), "office"),
        (_office("xl"), "office"),
        (_office("ppt"), "office"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "office"),
        (b"name,role\nA,B\nC,D\n", "csv"),
        (b"Notes from the focus group: staff described delays.\n", "text"),
        (
            b"From: a@example.org\nTo: b@example.org\nSubject: RFI\n\nPlease send the data.\n",
            "email",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image"),
        (b"ID3\x03\x00\x00\x00" + b"\x00" * 100, "audio"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, "video"),
        (b"MZ\x90\x00" + b"\x00" * 600, "other"),
        (b"PK\x03\x04not really a zip", "other"),
    ],
    ids=[
        "pdf",
        "docx",
        "xlsx",
        "pptx",
        "ole2",
        "csv",
        "text",
        "email",
        "png",
        "jpeg",
        "mp3",
        "mp4",
        "exe",
        "broken-zip",
    ],
)
def test_the_real_type_comes_from_the_content(content: bytes, kind: str) -> None:
    assert scan.detect(io.BytesIO(content)).kind == kind


class FakeClamd:
    """clamd's INSTREAM protocol on loopback, flagging the EICAR test string."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.address = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.scanned = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _read(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            more = conn.recv(size - len(data))
            if not more:
                raise ConnectionError
            data += more
        return data

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                assert self._read(conn, 10) == b"zINSTREAM\0"
                content = b""
                while size := struct.unpack("!L", self._read(conn, 4))[0]:
                    content += self._read(conn, size)
                self.scanned += 1
                found = b"Eicar-Test-Signature FOUND" if EICAR in content else b"OK"
                conn.sendall(b"stream: " + found + b"\0")


@pytest.fixture
def clamd(settings) -> Iterator[FakeClamd]:  # type: ignore[no-untyped-def]
    fake = FakeClamd()
    settings(clamd_address=fake.address)
    yield fake
    fake.server.close()


def test_clamav_rejects_a_virus_and_passes_a_clean_file(
    world: World, store: Storage, clamd: FakeClamd
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]

    bad, _ = upload(world.lead, world.workspace, item, EICAR + b"\n", "notes.txt")
    good, _ = upload(world.lead, world.workspace, item, b"Interview notes, no names.\n", "ok.txt")

    rejected = file_state(world.lead, world.workspace, item, bad)
    assert rejected["state"] == "rejected"
    assert "Eicar-Test-Signature" in rejected["reason"]
    assert file_state(world.lead, world.workspace, item, good)["state"] == "clean"
    assert clamd.scanned == 2
    assert [info.key.rsplit("/", 1)[1] for info in store.list()] == [str(good)]


def test_clamd_out_of_reach_leaves_the_file_waiting_for_a_rescan(
    world: World, store: Storage, settings, monkeypatch, app
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    queued: list[tuple] = []
    monkeypatch.setattr(evidence_api, "enqueue", lambda func, *args: queued.append(args))
    file_id, _ = upload(world.lead, world.workspace, item, PDF)
    settings(clamd_address="tcp://127.0.0.1:1")

    with pytest.raises(scan.ScannerUnavailable), app.app_context():
        jobs.scan_file(*queued[0])

    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "uploaded"
    assert store.exists(f"quarantine/{world.lead.tenant.id}/{world.workspace}/{file_id}")


class Killed(BaseException):
    """The worker dies here (not an error the job could catch)."""


@pytest.mark.parametrize("step", ["copied", "released"])
def test_a_scan_killed_midway_and_rerun_ends_scanned_exactly_once(
    world: World, store: Storage, session, monkeypatch, step: str, app
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    queued: list[tuple] = []
    monkeypatch.setattr(evidence_api, "enqueue", lambda func, *args: queued.append(args))
    file_id, done = upload(world.lead, world.workspace, item, PDF + b"% kill me")
    assert done.status_code == 202 and len(queued) == 1

    def crash(at: str) -> None:
        if at == step:
            raise Killed(at)

    monkeypatch.setattr(jobs, "crash_hook", crash)
    with pytest.raises(Killed), app.app_context():
        jobs.scan_file(*queued[0])
    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "uploaded"

    monkeypatch.setattr(jobs, "crash_hook", None)
    with app.app_context():
        assert jobs.scan_file(*queued[0]) == "clean"
        assert jobs.scan_file(*queued[0]) == "clean"  # and again: nothing changes

    tenant, ws = world.lead.tenant.id, world.workspace
    assert [info.key for info in store.list()] == [f"evidence/{tenant}/{ws}/{item}/{file_id}"]
    assert list(store.list("quarantine/")) == []
    assert list(store.list_multipart_uploads()) == []
    set_context(session, tenant_id=tenant)
    scans = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "evidence_file.scanned", AuditEvent.object_id == str(file_id)
        )
    ).all()
    assert [event.changes["verdict"] for event in scans] == ["clean"]
    assert session.get(EvidenceFile, file_id).state == "clean"


@pytest.mark.s3
def test_a_versioned_bucket_keeps_no_old_version_of_a_quarantined_file(
    world: World, s3_storage, app, monkeypatch
) -> None:
    s3_storage.client.put_bucket_versioning(
        Bucket=s3_storage.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    app.extensions["storage"] = s3_storage
    try:
        item = new_item(world.lead, world.workspace)["item"]["id"]
        file_id, _ = upload(world.lead, world.workspace, item, PDF)
        versions = s3_storage.client.list_object_versions(Bucket=s3_storage.bucket)
    finally:
        app.extensions.pop("storage", None)
    keys = {v["Key"] for v in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]}
    assert keys == {f"evidence/{world.lead.tenant.id}/{world.workspace}/{item}/{file_id}"}
