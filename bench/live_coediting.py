"""20 live editors (pycrdt clients over WebSockets) typing into one section at 10 edits per
second each: every edit reaches every client, and how long it takes.

A fresh PostgreSQL database (dropped afterwards) holds a joint inspection led by HMI Probation
with HMI Prisons, ten people of each named in it, and a short report. The app runs under
gunicorn as the app role: one gthread worker with enough threads for every socket (a socket
holds a thread for its lifetime), so all editors share one room; no Redis.

First the baseline: the same 20 clients send the same number of frames of the same size to a
bare WebSocket relay served by the same gunicorn process (``/bench-relay``: every frame to
every other client, nothing else). Then ``BENCH_SECONDS`` (default 60) of live editing: each
client inserts a short token every 100 ms, at the end of its own paragraph of the section
(as people type) and every tenth edit at a random place in anyone's paragraph; an
edit is timed from just before it is sent to when each other client has applied it (read
from the client's state vector). The figure is the p95 propagation delay in ms (target 250),
the ratio p95 live / p95 relay (informative); any edit missing on any client at the end fails
the benchmark.
"""

from __future__ import annotations

import bisect
import os
import random
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.harness import LOOPBACK, BenchResult, GunicornServer, note
from bench.rls import ensure_app_role, migrate, scratch_database, server_env

NAME = "live_coediting"
TARGET_MS = 250.0
CLIENTS = 20
EDITS_PER_SECOND = 10.0
DEFAULT_SECONDS = 60.0
RELAY_SECONDS = 15.0
RELAY_PATH = "/bench-relay"
USER_AGENT = "bench-live/1.0"
SERVER_SETTINGS = {"workers": 1, "worker_class": "gthread", "threads": 64}


def bench_seconds() -> float:
    value = os.environ.get("BENCH_SECONDS", "").strip()
    seconds = float(value) if value else DEFAULT_SECONDS
    if not 1 <= seconds <= 600:
        raise ValueError(f"BENCH_SECONDS must be between 1 and 600, got {value!r}")
    return seconds


# --- served by gunicorn: the app, plus the bare relay beside it -------------------------------

_app: Any = None
_app_lock = threading.Lock()
_relay: set[Any] = set()
_relay_lock = threading.Lock()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """``bench.live_coediting:application``: the full app, and the bare relay at RELAY_PATH."""
    global _app
    if environ.get("PATH_INFO") == RELAY_PATH:
        return _serve_relay(environ, start_response)
    with _app_lock:
        if _app is None:
            from app import create_app

            _app = create_app()
    return _app(environ, start_response)


def _serve_relay(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    from simple_websocket import ConnectionClosed, Server

    ws = Server(environ)
    with _relay_lock:
        _relay.add(ws)
    try:
        while True:
            frame = ws.receive()
            if frame is None:
                continue
            with _relay_lock:
                peers = [p for p in _relay if p is not ws]
            for peer in peers:
                try:
                    peer.send(frame)
                except Exception:  # noqa: BLE001, S112 - a peer that left
                    continue
    except ConnectionClosed:
        pass
    finally:
        with _relay_lock:
            _relay.discard(ws)
    raise StopIteration()  # gunicorn: the socket was taken over, write nothing


# --- measuring ---------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


def _state_vector(data: bytes) -> dict[int, int]:
    from shared_workspace.documents.live_protocol import _Reader

    reader = _Reader(data)
    return {reader.var_uint(): reader.var_uint() for _ in range(reader.var_uint())}


def relay_round(port: int, seconds: float) -> list[float]:
    """Latencies (s) of frames through the bare relay, same clients, rate and frame size."""
    from simple_websocket import Client, ConnectionClosed

    latencies: list[float] = []
    lock = threading.Lock()
    clients = [Client.connect(f"ws://{LOOPBACK}:{port}{RELAY_PATH}") for _ in range(CLIENTS)]
    stop = threading.Event()

    def read(client: Any) -> None:
        try:
            while not stop.is_set():
                frame = client.receive(timeout=0.5)
                if frame:
                    sent = struct.unpack("d", frame[:8])[0]
                    with lock:
                        latencies.append(time.perf_counter() - sent)
        except ConnectionClosed:
            pass

    def send(client: Any, rng: random.Random) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.send(struct.pack("d", time.perf_counter()) + rng.randbytes(40))
            time.sleep(1 / EDITS_PER_SECOND)

    readers = [threading.Thread(target=read, args=(c,), daemon=True) for c in clients]
    senders = [
        threading.Thread(target=send, args=(c, random.Random(i)), daemon=True)
        for i, c in enumerate(clients)
    ]
    for thread in readers + senders:
        thread.start()
    for thread in senders:
        thread.join()
    time.sleep(1.0)
    stop.set()
    for client in clients:
        client.close()
    return latencies


class Editor:
    """One simulated editor: a LiveClient, the edits it sent and what it has received."""

    def __init__(self, url: str, headers: dict[str, str], ledger: Ledger) -> None:
        from shared_workspace.documents.live_client import LiveClient

        self.ledger = ledger
        self.client = LiveClient(url, headers, on_remote=self._received)
        self.seen: dict[int, int] = {}

    def _received(self, client: Any) -> None:
        with client.lock:
            state = _state_vector(client.doc.get_state())
        now = time.perf_counter()
        for sender, clock in state.items():
            if clock > self.seen.get(sender, 0) and sender != client.doc.client_id:
                self.ledger.arrived(sender, self.seen.get(sender, 0), clock, now)
                self.seen[sender] = clock


class Ledger:
    """When each edit (sender, clock after it) was sent, and its delays to every receiver."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: sender → (clocks after each edit, in order; when each was sent)
        self.sent: dict[int, tuple[list[int], list[float]]] = {}
        self.delays: list[float] = []

    def record(self, sender: int, clock: int, at: float) -> None:
        with self.lock:
            clocks, times = self.sent.setdefault(sender, ([], []))
            clocks.append(clock)
            times.append(at)

    def arrived(self, sender: int, after: int, upto: int, now: float) -> None:
        with self.lock:
            clocks, times = self.sent.get(sender, ([], []))
            first, last = bisect.bisect_right(clocks, after), bisect.bisect_right(clocks, upto)
            self.delays.extend(now - at for at in times[first:last])

    def edits(self) -> int:
        return sum(len(clocks) for clocks, _times in self.sent.values())


def live_round(port: int, seeded: Any, secret: str, seconds: float) -> tuple[list[float], int]:
    """Latencies (s) of live edits, and how many (edit, receiver) pairs never arrived."""
    from shared_workspace.documents.live_protocol import update_message

    ledger = Ledger()
    path = f"/workspaces/{seeded.workspace_id}/documents/{seeded.document_id}/sections/live/live"
    editors = [
        Editor(
            f"ws://{LOOPBACK}:{port}{path}",
            {"Cookie": session_cookie(secret, w.user_id, w.tenant_id), "User-Agent": USER_AGENT},
            ledger,
        )
        for w in seeded.writers
    ]
    for editor in editors:
        editor.client.connect()
    time.sleep(0.5)

    def edit(editor: Editor, number: int) -> None:
        rng = random.Random(number)
        client = editor.client
        deadline = time.monotonic() + seconds
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            token = f" e{number:02d}-{sequence:04d}"
            with client.lock:
                # Mostly at the end of one's own paragraph, as people type; every tenth edit
                # somewhere in anyone's paragraph.
                mine = number if sequence % 10 else rng.randrange(CLIENTS)
                text = client.fragment.children[mine].children[0]
                at = len(text) if sequence % 10 else rng.randint(0, len(text))
                before = client.doc.get_state()
                text.insert(at, token)
                update = client.doc.get_update(before)
                clock = _state_vector(client.doc.get_state())[client.doc.client_id]
                sent = time.perf_counter()
                ledger.record(client.doc.client_id, clock, sent)
            client.send(update_message(update))
            time.sleep(max(0.0, 1 / EDITS_PER_SECOND - (time.perf_counter() - sent)))

    threads = [
        threading.Thread(target=edit, args=(e, i), daemon=True) for i, e in enumerate(editors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every edit must reach every client: wait for the last ones in flight.
    expected = ledger.edits() * (CLIENTS - 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(ledger.delays) < expected:
        time.sleep(0.2)
    states = {e.client.html() for e in editors}
    for editor in editors:
        editor.client.disconnect()
    missing = expected - len(ledger.delays)
    if len(states) != 1:
        note(f"{NAME}: the clients ended with {len(states)} different texts")
        missing = max(missing, 1)
    return ledger.delays, missing


def session_cookie(secret: str, user_id: int, tenant_id: int) -> str:
    """The session cookie of a signed-in browser with USER_AGENT on loopback."""
    from flask import Flask, session
    from flask_login import login_user

    from tenants.login import login_manager

    app = Flask("bench-cookies")
    app.secret_key = secret
    login_manager.init_app(app)

    class Person:
        is_active = True
        is_authenticated = True

        def get_id(self) -> str:
            return f"{tenant_id}:{user_id}:1"

    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": LOOPBACK}, headers={"User-Agent": USER_AGENT}
    ):
        login_user(Person())  # type: ignore[arg-type]
        now = int(time.time())
        session.update(signed_in_at=now, last_seen=now)
        session.permanent = True
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))  # type: ignore[attr-defined]
    return f"session={value}"


def run() -> BenchResult:
    from bench.document_merge import seed_report

    seconds = bench_seconds()
    note(
        f"{NAME}: {CLIENTS} pycrdt clients x {EDITS_PER_SECOND:g} edits/s on one section for "
        f"{seconds:g}s; relay baseline {RELAY_SECONDS:g}s; gunicorn 1 worker x "
        f"{SERVER_SETTINGS['threads']} threads"
    )
    ensure_app_role()
    sections = [
        {
            "key": "live",
            "title": "Written live",
            "body": "".join(f"<p>Paragraph {n}.</p>" for n in range(CLIENTS)),
        },
        {"key": "other", "title": "Another section", "body": "<p>Untouched.</p>"},
    ]
    with scratch_database(NAME) as database:
        migrate(database)
        seeded = seed_report(database, sections, writers_per_tenant=CLIENTS // 2)
        with tempfile.TemporaryDirectory(prefix="bench-live-") as instance:
            env = server_env(database, instance)
            env["DB_POOL_SIZE"] = "16"
            with GunicornServer(
                "bench.live_coediting:application",
                env=env,
                path="/healthz",
                expect_json={"status": "ok"},
                **SERVER_SETTINGS,
            ) as server:
                relay = relay_round(server.port, RELAY_SECONDS)
                note(f"{NAME}: relay {len(relay)} deliveries, p95 {p95(relay) * 1000:.1f} ms")
                cpu = server.cpu_seconds()
                live, missing = live_round(server.port, seeded, env["SECRET_KEY"], seconds)
                if cpu is not None and server.cpu_seconds() is not None:
                    note(f"{NAME}: server CPU {server.cpu_seconds() - cpu:.1f}s in the live round")
    live_p95, relay_p95 = p95(live) * 1000, p95(relay) * 1000
    note(
        f"{NAME}: live {len(live)} deliveries, {missing} missing; p50 "
        f"{sorted(live)[len(live) // 2] * 1000 if live else float('nan'):.1f} ms, p95 "
        f"{live_p95:.1f} ms (relay p95 {relay_p95:.1f} ms)"
    )
    if missing:
        raise RuntimeError(f"{missing} edit deliveries never arrived")
    return BenchResult(
        name=NAME,
        figure=live_p95,
        unit="ms",
        ratio=live_p95 / relay_p95,
        target=TARGET_MS,
        higher_is_better=False,
        target_applies_to="figure",
    )
