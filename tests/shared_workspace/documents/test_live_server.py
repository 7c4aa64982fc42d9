"""Live co-editing over real WebSockets: Python pycrdt clients against the app served on
loopback, on a database whose work really commits."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from simple_websocket import Client
from simple_websocket import ConnectionError as HandshakeRefused

from shared_workspace.documents import live_protocol as wire
from shared_workspace.documents.live_client import LiveClient
from shared_workspace.documents.richtext import MAX_SECTION_CHARS
from tests import services
from tests.shared_workspace.documents.live_fixtures import World, live_world, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from live_world(tmp_path_factory.mktemp("live"))


def _stored(world: World, document_id: int, user_id: int | None = None) -> int:
    with psycopg.connect(services.pg_url(world.database_name), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM live_document_updates u JOIN live_document_sections s"
            " ON s.id = u.live_section_id WHERE s.document_id = %s"
            " AND (%s::int IS NULL OR u.user_id = %s)",
            (document_id, user_id, user_id),
        ).fetchone()
    return int(row[0]) if row else 0


def _closed(client: LiveClient) -> tuple[int | None, str]:
    assert client.closed.wait(10), "the server did not close the socket"
    return client.close_code, client.close_reason


def test_two_inspectorates_type_at_once_and_the_version_names_both(world: World) -> None:
    document_id = world.document("<p>Start.</p>")
    probation = world.client(world.probation, document_id).connect()
    prisons = world.client(world.prisons, document_id).connect()
    words = {"probation": [f" p{i}" for i in range(25)], "prisons": [f" q{i}" for i in range(25)]}

    def type_all(client: LiveClient, pieces: list[str]) -> None:
        for piece in pieces:
            client.type_text(piece, at=3)

    threads = [
        threading.Thread(target=type_all, args=(probation, words["probation"])),
        threading.Thread(target=type_all, args=(prisons, words["prisons"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: probation.html() == prisons.html(), what="both clients to converge")
    text = probation.html()
    for piece in words["probation"] + words["prisons"]:
        assert piece.strip() in text
    probation.disconnect()
    prisons.disconnect()

    version = wait_for(
        lambda: next((v for v in world.versions(document_id) if "live editing" in v["note"]), None),
        what="the compacted version",
    )
    assert "hmiprobation lead person (HMIPROBATION)" in version["note"]  # type: ignore[index]
    assert "hmiprisons lead person (HMIPRISONS)" in version["note"]  # type: ignore[index]
    path = f"/api/v1/workspaces/{world.workspace_id}/documents/{document_id}"
    saved = world.probation.call("GET", path).get_json()
    summary = next(s for s in saved["sections"] if s["key"] == "summary")
    assert summary["body"] == text


def test_edits_made_while_disconnected_merge_on_reconnect(world: World) -> None:
    document_id = world.document("<p>Shared paragraph.</p>")
    away = world.client(world.probation, document_id).connect()
    here = world.client(world.constabulary, document_id).connect()
    away.disconnect()
    away.type_text(" Typed on the train.")
    here.type_text(" Typed in the office.")
    wait_for(lambda: "office" in here.html())
    away.connect()
    wait_for(lambda: away.html() == here.html(), what="the reconnected client to merge")
    assert "Typed on the train." in here.html()
    assert "Typed in the office." in away.html()
    away.disconnect()
    here.disconnect()
    wait_for(
        lambda: any("live editing" in v["note"] for v in world.versions(document_id)),
        what="the compacted version",
    )


def test_a_read_only_participant_receives_but_cannot_send(world: World) -> None:
    document_id = world.document(owner="hmiprisons")
    writer = world.client(world.prisons, document_id, "owned").connect()
    reader = world.client(world.probation, document_id, "owned").connect()
    writer.type_text(" More of ours.")
    wait_for(lambda: "More of ours." in reader.html(), what="the reader to receive the edit")
    before = _stored(world, document_id)
    reader.type_text(" Sneaked in.")
    code, reason = _closed(reader)
    assert code == wire.CLOSE_FORBIDDEN
    assert "read this section" in reason
    assert _stored(world, document_id) == before
    assert "Sneaked" not in writer.html()
    writer.disconnect()


BAD_FRAMES = {
    "text frame": "hello",
    "unknown type": b"\x09\x00",
    "truncated number": b"\x00\xff",
    "trailing bytes": wire.sync_message(wire.SYNC_STEP1, b"\x00") + b"\x00",
    "unknown sync step": b"\x00\x07\x00",
    "not an update": wire.update_message(b"\x01\x02garbage"),
    "awareness not JSON": wire.awareness_message(b"\x01\x05\x01\x03{x}"),
}


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_a_malformed_frame_closes_the_socket_with_a_reason_and_stores_nothing(
    world: World, frame: bytes | str
) -> None:
    document_id = world.document()
    client = world.client(world.probation, document_id).connect()
    before = _stored(world, document_id)
    client.ws.send(frame)
    code, reason = _closed(client)
    assert code == wire.CLOSE_MALFORMED
    assert reason.startswith("Malformed message")
    assert _stored(world, document_id) == before


def test_an_oversized_message_is_refused(world: World) -> None:
    document_id = world.document()
    client = world.client(world.probation, document_id).connect()
    before = _stored(world, document_id)
    client.ws.send(wire.update_message(b"\x00" * (wire.MAX_FRAME + 10)))
    code, reason = _closed(client)
    # The websocket layer (simple-websocket, max_message_size=MAX_FRAME) refuses it from the
    # frame header with RFC 6455's "message too big", before a byte of it is buffered; the
    # protocol's own 4413 check (a unit test above) backs it for frames that reach us.
    assert (code, reason) == (1009, "Message is too big")
    assert _stored(world, document_id) == before


def test_typing_past_the_section_limit_is_refused_and_not_stored(world: World) -> None:
    """A section a version could not hold (200,000 characters) is refused as it is typed,
    not stored and left stranded: the writer is told the limit and how to fix it."""
    document_id = world.document("<p>" + "x" * (MAX_SECTION_CHARS - 2_000) + "</p>")
    client = world.client(world.probation, document_id).connect()
    client.type_text(" Fits.")
    wait_for(lambda: _stored(world, document_id, world.probation.user.id) == 1)
    client.type_text("y" * 3_000)
    code, reason = _closed(client)
    assert code == wire.CLOSE_TOO_LARGE
    assert "200,000 characters" in reason and "Split" in reason
    assert _stored(world, document_id, world.probation.user.id) == 1


def test_characters_that_grow_when_written_as_html_count_at_their_html_length(
    world: World,
) -> None:
    """An "&" is one byte typed and five characters stored ("&amp;"): the limit is on what a
    version holds, so 60,000 of them (300,000 characters) are refused before being stored."""
    document_id = world.document("<p>Start.</p>")
    client = world.client(world.probation, document_id).connect()
    client.type_text("&" * 30_000)
    wait_for(lambda: _stored(world, document_id, world.probation.user.id) == 1)
    client.type_text("&" * 30_000)
    code, reason = _closed(client)
    assert code == wire.CLOSE_TOO_LARGE and "200,000 characters" in reason
    assert _stored(world, document_id, world.probation.user.id) == 1


def test_a_flood_is_cut_off(world: World) -> None:
    document_id = world.document()
    client = world.client(world.probation, document_id).connect()
    for clock in range(1, 600):
        if not client.send(wire.MESSAGE_QUERY_AWARENESS.to_bytes(1, "big")):
            break
        del clock
    code, reason = _closed(client)
    assert code == wire.CLOSE_TOO_MANY
    assert "Too many" in reason


def test_presence_names_come_from_the_server_not_the_client(world: World) -> None:
    document_id = world.document()
    prisons = world.client(world.prisons, document_id).connect()
    probation = world.client(world.probation, document_id).connect()
    prisons.say_where({"anchor": {"x": 1}, "head": {"x": 1}})
    state = wait_for(
        lambda: prisons.awareness.get(0) or probation.awareness.get(prisons.doc.client_id),
        what="the awareness update",
    )
    assert state["user"] == {  # type: ignore[index]
        "name": "hmiprisons lead person",
        "inspectorate": "HMIPRISONS",
        "colour": "#d4351c",
        "tenant": world.prisons.tenant.id,
    }
    prisons.disconnect()
    wait_for(lambda: probation.awareness.get(prisons.doc.client_id, "x") is None, what="removal")
    probation.disconnect()


def test_someone_whose_inspectorate_leaves_the_workspace_is_disconnected(world: World) -> None:
    document_id = world.document()
    client = world.client(world.constabulary, document_id).connect()
    with psycopg.connect(services.pg_url(world.database_name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE workspace_participants SET workspace_id = workspace_id * -1"
            " WHERE workspace_id = %s AND tenant_id = %s",
            (world.workspace_id, world.constabulary.tenant.id),
        )
        try:
            code, reason = _closed(client)
        finally:
            conn.execute(
                "UPDATE workspace_participants SET workspace_id = workspace_id * -1"
                " WHERE workspace_id = %s AND tenant_id = %s",
                (-world.workspace_id, world.constabulary.tenant.id),
            )
    assert code == wire.CLOSE_FORBIDDEN
    assert "no longer take part" in reason


def test_the_socket_answers_like_a_page_for_forged_and_foreign_ids(world: World) -> None:
    document_id = world.document()
    path = f"/workspaces/{world.workspace_id}/documents/{document_id}/sections/summary/live"
    mine = world.headers(world.probation)
    assert world.handshake(path, mine) == 101
    assert world.handshake(path.replace(str(document_id), "999999"), mine) == 404
    assert world.handshake(path.replace("summary", "nosuch"), mine) == 404
    assert world.handshake(path, world.headers(world.outsider)) == 404
    assert world.handshake(path, {**mine, "Origin": "https://evil.example"}) == 403
    other = f"/workspaces/{world.workspace_id + 999}/documents/{document_id}/sections/summary/live"
    assert world.handshake(other, mine) == 404
    host = world.base.removeprefix("http://")
    with pytest.raises(HandshakeRefused):
        Client.connect(f"ws://{host}{path}")  # signed out: redirected to sign in, not upgraded


def test_a_plain_get_is_answered_like_a_page_then_400(world: World) -> None:
    import http.client

    document_id = world.document()
    path = f"/workspaces/{world.workspace_id}/documents/{document_id}/sections/summary/live"
    host, port = world.base.removeprefix("http://").split(":")

    def status(headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            return conn.getresponse().status
        finally:
            conn.close()

    assert status({}) == 302  # sign in first
    assert status(world.headers(world.outsider)) == 404
    assert status(world.headers(world.probation)) == 400


class _FakeSocket:
    """Stands in for a browser's socket on a Hub: records what it is sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.event = threading.Event()

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.sent.append(b"closed")


def test_two_processes_edit_one_section_through_redis(world: World, redis) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from pycrdt import Doc, XmlFragment

    from app.db import get_database
    from shared_workspace.documents import live_service
    from shared_workspace.documents.live_content import FRAGMENT
    from shared_workspace.documents.live_rooms import Hub
    from tenants.models import User

    document_id = world.document("<p>Across processes.</p>")
    fake_app = SimpleNamespace(
        extensions={
            "config": SimpleNamespace(redis_url=services.REDIS_URL),
            "database": get_database(world.app),
        }
    )
    one, two = Hub(fake_app), Hub(fake_app)  # type: ignore[arg-type]
    try:
        with get_database(world.app).transaction() as session:
            live_service.act_as(session, world.probation.user.id, world.probation.tenant.id)
            who = live_service.identity_of(session.get(User, world.probation.user.id))
        target = live_service.Target(world.workspace_id, document_id, "summary")
        here, there = _FakeSocket(), _FakeSocket()
        conn_one = one.join(target, who, live_service.Access.EDIT, here)
        two.join(target, who, live_service.Access.EDIT, there)
        doc = Doc()
        doc.apply_update(conn_one.room.doc.get_update())
        before = doc.get_state()
        text = doc.get(FRAGMENT, type=XmlFragment).children[0].children[0]
        text.insert(len(text), " Typed on process one.")
        one.receive(conn_one, wire.update_message(doc.get_update(before)))
        room_two = two.rooms[f"{document_id}:summary"]
        wait_for(
            lambda: "process one" in str(room_two.doc.get(FRAGMENT, type=XmlFragment)),
            what="process two to apply the update",
        )
        wait_for(lambda: len(there.sent) > 1, what="process two to send it to its socket")
    finally:
        one.stop()
        two.stop()
