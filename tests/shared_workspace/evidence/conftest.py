"""Evidence tests: two participating inspectorates, an outsider, and the store behind the app
switched between the folder backend and the S3 API server (moto) on loopback."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.storage import Storage
from app.storage.folder import FolderStorage
from tests.shared_workspace.fixtures import Inspectorate, inspectorate

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[Storage]:
    """The app's object store for this test: a fresh folder, or a fresh bucket on moto."""
    config = app.extensions["config"]
    if request.param == "folder":
        backend: Storage = FolderStorage(
            tmp_path / "objects", config.effective_secret_key, config.base_url
        )
    else:
        backend = request.getfixturevalue("s3_storage")
    saved = app.extensions.get("storage")
    app.extensions["storage"] = backend
    try:
        yield backend
    finally:
        if saved is None:
            app.extensions.pop("storage", None)
        else:
            app.extensions["storage"] = saved


@pytest.fixture
def settings(app: Flask) -> Iterator[Any]:
    """Change evidence settings for one test: ``settings(evidence_max_bytes=10)``."""
    original = app.extensions["config"]

    def change(**values: Any) -> None:
        app.extensions["config"] = dataclasses.replace(original, **values)

    yield change
    app.extensions["config"] = original


@dataclasses.dataclass
class World:
    lead: Inspectorate
    partner: Inspectorate
    outsider: Inspectorate
    workspace: int
    foreign_workspace: int


@pytest.fixture
def world(client: FlaskClient, session: Session) -> World:
    lead = inspectorate(session, client, "hmiprobation")
    partner = inspectorate(session, client, "hmiprisons")
    outsider = inspectorate(session, client, "hmicfrs")
    inspectorate(session, client, "hmcpsi")
    ws = lead.call(
        "POST", "/api/v1/workspaces", {"title": "Resettlement", "participants": ["hmiprisons"]}
    ).get_json()["id"]
    foreign = outsider.call(
        "POST", "/api/v1/workspaces", {"title": "Custody", "participants": ["hmcpsi"]}
    ).get_json()["id"]
    return World(lead, partner, outsider, ws, foreign)


def new_item(party: Inspectorate, workspace: int, **values: Any) -> dict[str, Any]:
    body = {"title": "Case file review notes", "method": "file_examination"}
    body.update(values)
    response = party.call("POST", f"/api/v1/workspaces/{workspace}/evidence", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def put_stream(
    party: Inspectorate,
    path: str,
    data: bytes,
    name: str,
    sha256: str | None = None,
    **headers: str,
):  # type: ignore[no-untyped-def]
    query = {"name": name}
    if sha256 is not None:
        query["sha256"] = sha256
    return party.client.put(
        path,
        query_string=query,
        data=data,
        headers={**party.headers, "Content-Type": "application/octet-stream", **headers},
        # The test client drops "Content-Length: 0"; real clients send it.
        environ_overrides={"CONTENT_LENGTH": str(len(data))},
    )


def send_part(client: FlaskClient, url: str, data: bytes) -> tuple[int, str]:
    """PUT one part to a presigned URL: through the app for the folder, over HTTP for S3."""
    if "/storage/p/" in url:
        response = client.put(urlsplit(url).path, data=data)
        return response.status_code, response.headers.get("ETag", "")
    sent = requests.put(url, data=data, timeout=30)
    return sent.status_code, sent.headers.get("ETag", "")


def upload(
    party: Inspectorate,
    ws: int,
    item: int,
    data: bytes,
    name: str = "notes.pdf",
    *,
    sha256: str | None = None,
    complete: bool = True,
):  # type: ignore[no-untyped-def]
    """A browser's multipart upload through the API; returns (file id, complete response)."""
    base = f"/api/v1/workspaces/{ws}/evidence/{item}"
    started = party.call(
        "POST", f"{base}/uploads", {"filename": name, "size": len(data), "content_type": ""}
    )
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    file_id, part_size = body["file"]["id"], body["part_size"]
    numbers = list(range(1, body["part_count"] + 1))
    urls = party.call("POST", f"{base}/files/{file_id}/parts", {"part_numbers": numbers})
    assert urls.status_code == 200, urls.get_json()
    for n in numbers:
        status, _etag = send_part(
            party.client, urls.get_json()["urls"][str(n)], data[(n - 1) * part_size : n * part_size]
        )
        assert status == 200
    if not complete:
        return file_id, None
    digest = sha256 or hashlib.sha256(data).hexdigest()
    done = party.call("POST", f"{base}/files/{file_id}/complete", {"sha256": digest})
    return file_id, done


def file_state(party: Inspectorate, ws: int, item: int, file_id: int) -> dict[str, Any]:
    response = party.call("GET", f"/api/v1/workspaces/{ws}/evidence/{item}/files/{file_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["file"]  # type: ignore[no-any-return]
