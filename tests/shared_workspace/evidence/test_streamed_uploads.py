"""Streamed uploads through the API (``PUT .../files``) larger than one part, and read the way
gunicorn hands the body over, against both storage backends."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Request
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import IterUnreader
from werkzeug.exceptions import ClientDisconnected
from werkzeug.test import EnvironBuilder

from app.storage import Storage
from app.storage.base import MiB
from app.storage.request_body import LengthBody, request_body
from tests.shared_workspace.evidence.conftest import PDF, World, file_state, new_item

#: Larger than the 8 MiB S3 part, so the S3 backend uploads it in parts.
BIG = 9 * MiB + 123


def big_pdf(size: int = BIG) -> bytes:
    block = hashlib.sha256(b"streamed").digest() * (MiB // 32)
    body = PDF + (block * (size // len(block) + 1))
    return body[:size]


class GunicornBody(Body):  # type: ignore[misc]
    """gunicorn's ``wsgi.input``, whose own 1 KiB-at-a-time ``read`` must not be used."""

    def read(self, size: Any = None) -> bytes:
        raise AssertionError("the body was read through gunicorn's slow Body.read")


def gunicorn_input(data: bytes, declared: int | None = None) -> Body:
    """A Content-Length body as gunicorn parses it, arriving in uneven socket-sized reads."""
    pieces = [data[start : start + 8191] for start in range(0, len(data), 8191)]
    return GunicornBody(LengthReader(IterUnreader(pieces), declared or len(data)))


def stream(world: World, item: int, data: bytes, *, sha256: str, **environ: Any):  # type: ignore[no-untyped-def]
    return world.lead.client.put(
        f"/api/v1/workspaces/{world.workspace}/evidence/{item}/files",
        query_string={"name": "big.pdf", "sha256": sha256},
        data=data,
        headers={**world.lead.headers, "Content-Type": "application/pdf"},
        environ_overrides={"CONTENT_LENGTH": str(environ.pop("length", len(data))), **environ},
    )


def nothing_kept(store: Storage) -> bool:
    return list(store.list()) == [] and list(store.list_multipart_uploads()) == []


def test_a_streamed_upload_of_several_parts_is_stored_whole_and_scanned(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = big_pdf()
    digest = hashlib.sha256(data).hexdigest()

    response = stream(world, item, data, sha256=digest)

    assert response.status_code == 201, response.get_json()
    scanned = file_state(world.lead, world.workspace, item, response.get_json()["file"]["id"])
    assert (scanned["state"], scanned["size"], scanned["sha256"]) == ("clean", len(data), digest)


def test_a_streamed_upload_of_several_parts_with_a_wrong_hash_keeps_nothing(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = big_pdf()

    response = stream(world, item, data, sha256="0" * 64)

    assert response.status_code == 422
    problem = response.get_json()
    assert "SHA-256" in problem["detail"] and "sha256" in problem["errors"]
    assert nothing_kept(store)


def test_under_gunicorn_the_body_is_read_from_its_length_reader(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = big_pdf()
    digest = hashlib.sha256(data).hexdigest()

    response = stream(
        world, item, b"", sha256=digest, length=len(data), **{"wsgi.input": gunicorn_input(data)}
    )

    assert response.status_code == 201, response.get_json()
    scanned = file_state(world.lead, world.workspace, item, response.get_json()["file"]["id"])
    assert (scanned["state"], scanned["size"], scanned["sha256"]) == ("clean", len(data), digest)


def test_a_client_that_goes_away_midway_gets_400_and_nothing_is_kept(
    world: World, store: Storage
) -> None:
    item = new_item(world.lead, world.workspace)["item"]["id"]
    data = big_pdf(20 * MiB)
    sent = data[: 12 * MiB]  # one whole S3 part, then the connection closes

    response = stream(
        world,
        item,
        b"",
        sha256=hashlib.sha256(data).hexdigest(),
        **{
            "wsgi.input": gunicorn_input(sent, declared=len(data)),
            "length": len(data),
        },
    )

    assert response.status_code == 400, response.get_json()
    assert nothing_kept(store)


# -- choosing the reader ---------------------------------------------------------------------


def request_with(wsgi_input: Any, length: int) -> Request:
    environ = EnvironBuilder(method="PUT", data=b"").get_environ()
    environ.update({"wsgi.input": wsgi_input, "CONTENT_LENGTH": str(length)})
    return Request(environ)


def test_an_untouched_gunicorn_body_is_read_from_its_length_reader_and_no_further() -> None:
    data = b"evidence " * 5000
    body = request_body(request_with(gunicorn_input(data), len(data)))

    assert isinstance(body, LengthBody)
    assert body.read(10) == data[:10]
    assert body.read() == data[10:]
    assert body.read(1) == b""


@pytest.mark.parametrize("case", ["partly read", "chunked", "other server"])
def test_any_other_body_is_read_through_werkzeug(case: str) -> None:
    data = b"evidence " * 5000
    wsgi_input: Any
    if case == "partly read":
        wsgi_input = Body(LengthReader(IterUnreader([data]), len(data)))
        wsgi_input.read(5)
    elif case == "chunked":
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
        wsgi_input = Body(ChunkedReader(None, IterUnreader([chunked])))
    else:
        wsgi_input = io.BytesIO(data)
    request = request_with(wsgi_input, len(data))

    assert request_body(request) is request.stream


def test_a_length_body_cut_short_raises_client_disconnected() -> None:
    data = b"x" * 10_000
    body = LengthBody(LengthReader(IterUnreader([data[:4000]]), len(data)), len(data))

    assert body.read(len(data)) == data[:4000]
    with pytest.raises(ClientDisconnected):
        body.read(len(data))
