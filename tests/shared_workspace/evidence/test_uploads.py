"""Uploads, and every bad input the issue lists, against both storage backends."""

from __future__ import annotations

import hashlib

import pytest

from app.storage import Storage
from tests.shared_workspace.evidence.conftest import (
    PDF,
    World,
    file_state,
    new_item,
    put_stream,
    send_part,
    upload,
)


def _keys(store: Storage) -> list[str]:
    return [info.key for info in store.list()]


def test_a_browser_upload_lands_in_quarantine_then_is_scanned_into_evidence(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = PDF + b"%" + b"x" * 200

    file_id, done = upload(world.lead, world.workspace, item, data)

    assert done.status_code == 202, done.get_json()
    scanned = file_state(world.lead, world.workspace, item, file_id)
    assert scanned["state"] == "clean", scanned
    assert (scanned["size"], scanned["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert scanned["content_type"] == "application/pdf"
    keys = _keys(store)
    assert len(keys) == 1 and keys[0].startswith("evidence/") and keys[0].endswith(f"/{file_id}")
    head = store.head(keys[0])
    assert head.tags["retention-class"] == "standard"
    assert list(store.list_multipart_uploads()) == []
    partner_view = file_state(world.partner, world.workspace, item, file_id)
    assert partner_view["state"] == "clean"


def test_a_multi_part_upload_resumes_from_the_parts_the_store_holds(
    world: World, store: Storage, settings
) -> None:
    settings(evidence_part_bytes=5 * 1024 * 1024)
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = PDF + b"%" + bytes(range(256)) * (41 * 1024)  # just over two 5 MiB parts
    file_id, _ = upload(world.lead, world.workspace, item, data, complete=False)
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files/{file_id}"

    status = world.lead.call("GET", base).get_json()
    assert [p["part_number"] for p in status["parts"]] == [1, 2, 3]
    # The connection dropped while part 2 was resent: the store keeps the last complete copy.
    url = world.lead.call("POST", f"{base}/parts", {"part_numbers": [2]}).get_json()["urls"]["2"]
    assert send_part(world.lead.client, url, data[5 * 1024 * 1024 : 10 * 1024 * 1024])[0] == 200

    done = world.lead.call("POST", f"{base}/complete", {"sha256": hashlib.sha256(data).hexdigest()})
    assert done.status_code == 202, done.get_json()
    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "clean"


def test_a_streamed_upload_is_hashed_on_the_way_and_scanned(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    path = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files"
    data = b"role,finding\nSenior probation officer,caseload too high\n"

    response = put_stream(world.lead, path, data, "findings.csv", hashlib.sha256(data).hexdigest())

    assert response.status_code == 201, response.get_json()
    file = response.get_json()["file"]
    assert file_state(world.lead, world.workspace, item, file["id"])["content_type"] == "text/csv"


# -- bad input ------------------------------------------------------------------------------


def test_over_the_size_limit_is_413_with_the_limit_stated(
    world: World, store: Storage, settings
) -> None:
    settings(evidence_max_bytes=1024)
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"

    started = world.lead.call("POST", f"{base}/uploads", {"filename": "big.pdf", "size": 1025})
    streamed = put_stream(world.lead, f"{base}/files", PDF * 100, "big.pdf")

    for response in (started, streamed):
        assert response.status_code == 413
        assert "1 KiB (1024 bytes)" in response.get_json()["detail"]
    assert _keys(store) == []
    assert list(store.list_multipart_uploads()) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 600),
        ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 600),
    ],
    ids=["exe-named-pdf", "elf-named-jpg"],
)
def test_a_disallowed_type_is_415_whatever_its_extension(
    world: World, store: Storage, name: str, content: bytes
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"

    streamed = put_stream(world.lead, f"{base}/files", content, name)
    named = world.lead.call("POST", f"{base}/uploads", {"filename": "tool.exe", "size": 10})

    assert streamed.status_code == 415, streamed.get_json()
    assert "whatever its name says" in streamed.get_json()["detail"]
    assert named.status_code == 415
    # A browser upload is judged by the scan: rejected, deleted, and the uploader told why.
    file_id, done = upload(world.lead, world.workspace, item, content, name)
    assert done.status_code == 202
    rejected = file_state(world.lead, world.workspace, item, file_id)
    assert rejected["state"] == "rejected"
    assert "a program" in rejected["reason"]
    assert _keys(store) == []


def test_a_zip_that_is_not_an_office_document_is_rejected(world: World, store: Storage) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.bin", b"not a document")
    item = new_item(world.lead, world.workspace)["item"]["id"]

    file_id, _ = upload(world.lead, world.workspace, item, buffer.getvalue(), "minutes.docx")

    rejected = file_state(world.lead, world.workspace, item, file_id)
    assert rejected["state"] == "rejected"
    assert "ZIP archive that is not an Office document" in rejected["reason"]


def test_a_declared_hash_mismatch_keeps_nothing(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"
    data = PDF + b"%" + b"y" * 100

    streamed = put_stream(world.lead, f"{base}/files", data, "a.pdf", "0" * 64)
    file_id, done = upload(world.lead, world.workspace, item, data, "b.pdf", sha256="1" * 64)

    assert streamed.status_code == 422
    assert "SHA-256" in streamed.get_json()["detail"]
    assert done.status_code == 422, done.get_json()
    assert "SHA-256 does not match" in done.get_json()["errors"]["sha256"][0]
    rejected = file_state(world.lead, world.workspace, item, file_id)
    assert (rejected["state"], "SHA-256 does not match" in rejected["reason"]) == ("rejected", True)
    assert _keys(store) == []
    assert list(store.list_multipart_uploads()) == []


def test_a_declared_size_mismatch_is_refused(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"
    started = world.lead.call(
        "POST", f"{base}/uploads", {"filename": "short.pdf", "size": 500}
    ).get_json()
    file_id = started["file"]["id"]
    url = world.lead.call(
        "POST", f"{base}/files/{file_id}/parts", {"part_numbers": [1]}
    ).get_json()["urls"]["1"]
    send_part(world.lead.client, url, PDF)

    done = world.lead.call("POST", f"{base}/files/{file_id}/complete", {"sha256": "a" * 64})

    assert done.status_code == 422
    assert "not the declared 500" in done.get_json()["detail"]
    assert not any(k.startswith("evidence/") for k in _keys(store))


def test_zero_bytes_are_refused(world: World, store: Storage) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"

    started = world.lead.call("POST", f"{base}/uploads", {"filename": "empty.pdf", "size": 0})
    streamed = put_stream(world.lead, f"{base}/files", b"", "empty.pdf")

    for response in (started, streamed):
        assert response.status_code == 422, response.get_json()
        assert "empty" in response.get_json()["detail"]
    assert _keys(store) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "..",
        "folder/notes.pdf",
        "a\\b.pdf",
        "notes\x00.pdf",
        "bell\x07.pdf",
        "rtl\u202eFDP.exe",
        "",
    ],
    ids=["traversal", "dots", "slash", "backslash", "nul", "bell", "bidi", "empty"],
)
def test_path_traversal_and_control_characters_in_names_are_refused(
    world: World, store: Storage, name: str
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"

    started = world.lead.call("POST", f"{base}/uploads", {"filename": name, "size": 10})
    streamed = put_stream(world.lead, f"{base}/files", PDF, name)

    for response in (started, streamed):
        assert response.status_code in (422, 415), response.get_json()
        assert response.get_json()["errors"].get("filename") or response.get_json()["errors"]
    assert _keys(store) == []


def test_a_duplicate_file_is_warned_about_and_linked(world: World, store: Storage) -> None:
    first = new_item(world.lead, world.workspace)["item"]["id"]
    second = new_item(world.partner, world.workspace, title="Data return")["item"]["id"]
    data = PDF + b"% same"
    original, _ = upload(world.lead, world.workspace, first, data)

    file_id, done = upload(world.partner, world.workspace, second, data, "copy.pdf")

    assert done.status_code == 202
    body = done.get_json()
    assert [d["id"] for d in body["duplicates"]] == [original]
    assert f"file {original} of item {first}" in body["warnings"][0]
    assert (
        file_state(world.partner, world.workspace, second, file_id)["duplicate_of_id"] == original
    )


def test_uploads_into_another_tenants_or_a_non_participating_workspace_are_404(
    world: World, store: Storage
) -> None:
    theirs = new_item(world.outsider, world.foreign_workspace)["item"]["id"]
    ours = new_item(world.lead, world.workspace)["item"]["id"]

    for party, ws, item in (
        (world.lead, world.foreign_workspace, theirs),
        (world.outsider, world.workspace, ours),
        (world.lead, world.workspace, theirs),
    ):
        base = f"/api/v1/workspaces/{ws}/evidence/{item}"
        started = party.call("POST", f"{base}/uploads", {"filename": "x.pdf", "size": 10})
        streamed = put_stream(party, f"{base}/files", PDF, "x.pdf")
        assert (started.status_code, streamed.status_code) == (404, 404)
    # A participant of the workspace cannot add files to another inspectorate's item.
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{ours}"
    refused = world.partner.call("POST", f"{base}/uploads", {"filename": "x.pdf", "size": 10})
    assert refused.status_code == 403
    assert _keys(store) == []


@pytest.mark.parametrize("numbers", [[0], [2], [10_001], [-1]])
def test_part_numbers_out_of_range_are_refused(
    world: World, store: Storage, numbers: list[int]
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}"
    file_id = world.lead.call(
        "POST", f"{base}/uploads", {"filename": "one.pdf", "size": 100}
    ).get_json()["file"]["id"]

    response = world.lead.call("POST", f"{base}/files/{file_id}/parts", {"part_numbers": numbers})

    assert response.status_code == 422
    assert "from 1 to 1" in response.get_json()["detail"]


def test_completing_someone_elses_upload_is_refused(
    world: World, store: Storage, session, client
) -> None:
    from app.db import set_context
    from tenants import auth
    from tenants.models import Role
    from tests.shared_workspace.fixtures import Inspectorate
    from tests.tenants.fixtures import create_user

    colleague = create_user(session, world.lead.tenant, roles=list(Role))
    set_context(session, tenant_id=world.lead.tenant.id, user_id=colleague.id)
    _row, token = auth.create_token(session, colleague, name="c", scopes={"read", "write"})
    session.commit()
    other = Inspectorate(
        "hmiprobation",
        world.lead.tenant,
        colleague,
        token,
        client,
        {"Authorization": f"Bearer {token}"},
    )
    item = new_item(world.lead, world.workspace)["item"]["id"]
    file_id, _ = upload(world.lead, world.workspace, item, PDF, complete=False)
    base = f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files/{file_id}"

    by_colleague = other.call(
        "POST", f"{base}/complete", {"sha256": hashlib.sha256(PDF).hexdigest()}
    )
    by_partner = world.partner.call("POST", f"{base}/complete", {"sha256": "a" * 64})
    by_outsider = world.outsider.call("POST", f"{base}/complete", {"sha256": "a" * 64})
    presign = other.call("POST", f"{base}/parts", {"part_numbers": [1]})

    assert (by_colleague.status_code, presign.status_code) == (403, 403)
    assert by_partner.status_code == 403
    assert by_outsider.status_code == 404
    assert file_state(world.lead, world.workspace, item, file_id)["state"] == "uploading"
