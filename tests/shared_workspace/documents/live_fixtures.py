"""A live server for the live co-editing tests: the app on its own committed database, served
on loopback by a thread, with three participating inspectorates and an outsider."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import flask
from flask import Flask
from werkzeug.serving import make_server

from app.db import get_database, get_session, set_context
from shared_workspace.documents import live_rooms
from shared_workspace.documents.live_client import LiveClient
from tenants.login import start_session
from tenants.models import User
from tests.conftest import committed_app
from tests.shared_workspace.fixtures import Inspectorate, inspectorate, name_everyone

USER_AGENT = "live-tests/1.0"


@dataclass
class World:
    app: Flask
    base: str
    database_name: str
    probation: Inspectorate
    prisons: Inspectorate
    constabulary: Inspectorate
    outsider: Inspectorate
    workspace_id: int

    def cookie(self, party: Inspectorate) -> str:
        return session_cookie(self.app, party.user.id, party.tenant.id)

    def headers(self, party: Inspectorate) -> dict[str, str]:
        return {"Cookie": self.cookie(party), "User-Agent": USER_AGENT}

    def url(self, document_id: int, key: str = "summary", workspace_id: int | None = None) -> str:
        ws = workspace_id or self.workspace_id
        return f"ws{self.base[4:]}/workspaces/{ws}/documents/{document_id}/sections/{key}/live"

    def client(
        self, party: Inspectorate, document_id: int, key: str = "summary", **kw
    ) -> LiveClient:  # type: ignore[no-untyped-def]
        return LiveClient(self.url(document_id, key), self.headers(party), **kw)

    def document(self, body: str = "<p>Start.</p>", owner: str | None = None) -> int:
        lead = self.probation
        response = lead.call(
            "POST",
            f"/api/v1/workspaces/{self.workspace_id}/documents",
            {
                "kind": "report",
                "title": "Joint report",
                "sections": [
                    {"key": "summary", "title": "Summary", "body": body},
                    {"key": "owned", "title": "Owned", "body": "<p>Theirs.</p>"},
                ],
            },
        )
        assert response.status_code == 201, response.get_json()
        document_id = response.get_json()["id"]
        if owner:
            path = f"/api/v1/workspaces/{self.workspace_id}/documents/{document_id}"
            answer = lead.call("PUT", path + "/sections/owned/owner", {"tenant": owner})
            assert answer.status_code == 200, answer.get_json()
        return int(document_id)

    def versions(self, document_id: int) -> list[dict]:  # type: ignore[type-arg]
        path = f"/api/v1/workspaces/{self.workspace_id}/documents/{document_id}/versions"
        answer = self.probation.call("GET", path)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()  # type: ignore[no-any-return]

    def handshake(self, path: str, headers: dict[str, str]) -> int:
        """The status a WebSocket handshake gets (101 when upgraded)."""
        host, port = self.base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request(
                "GET",
                path,
                headers={
                    "Upgrade": "websocket",
                    "Connection": "Upgrade",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Version": "13",
                    **headers,
                },
            )
            return conn.getresponse().status
        finally:
            conn.close()


def session_cookie(app: Flask, user_id: int, tenant_id: int) -> str:
    """The session cookie a browser holds after signing in (bound to USER_AGENT on 127.0.0.1)."""
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
    ):
        db = get_session()
        set_context(db, tenant_id=tenant_id, user_id=user_id)
        user = db.get(User, user_id)
        assert user is not None
        start_session(user)
        value = app.session_interface.get_signing_serializer(app).dumps(dict(flask.session))  # type: ignore[attr-defined]
        db.rollback()
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def wait_for(check: Callable[[], object], seconds: float = 10.0, what: str = "") -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


def live_world(tmp: Path) -> Iterator[World]:
    live_rooms.RECHECK_SECONDS = 0.5
    with committed_app("cjji_live", tmp) as (app, name):
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        session = get_database(app).sessionmaker()
        parties = [
            inspectorate(session, client, slug, colour=colour)
            for slug, colour in (
                ("hmiprobation", "#1d70b8"),
                ("hmiprisons", "#d4351c"),
                ("hmicfrs", "#00703c"),
                ("hmcpsi", "#4c2c92"),
            )
        ]
        session.close()
        lead = parties[0]
        workspace_id = lead.call(
            "POST",
            "/api/v1/workspaces",
            {"title": "Resettlement", "participants": ["hmiprisons", "hmicfrs"]},
        ).get_json()["id"]
        name_everyone(workspace_id, *parties[:3])
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield World(
                app,
                f"http://127.0.0.1:{server.server_port}",
                name,
                *parties,
                workspace_id=workspace_id,
            )
        finally:
            server.shutdown()
            hub = app.extensions.get("live_hub")
            if hub is not None:
                hub.stop()
            live_rooms.RECHECK_SECONDS = 5.0
