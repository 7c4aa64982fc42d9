"""20 writers hammering one 100-page report through the real API lose no edit.

A fresh PostgreSQL database (dropped afterwards) holds the report of ``document_merge``
(60 sections, about 50,000 words) in a joint inspection led by HMI Probation with HMI
Prisons; ten people of each inspectorate are named in it and hold read/write API tokens.
The app runs under gunicorn as the app role (3 gthread workers x 4 threads).

Twenty writer threads (ten per inspectorate) share ten sections, one writer of each
inspectorate per section, for ``BENCH_SECONDS`` (default 60). Each writer, over and over:
GETs the document (its ETag), appends a paragraph holding a unique token
(``edit-<writer>-<sequence>``) to its section and PUTs the whole document with If-Match.
Every third save is deliberately made on a stale base (the text and ETag it read two
rounds earlier), to force merges and conflicts. On 409 it resolves the conflict through
the problem's ``resolve`` link: the saved text of the section (``head_body``) plus its own
paragraph, again on each further 409. A token counts as written only once its PUT or
resolve answered 200 (a 200 whose document lacks the token is reported as well).

At the end one GET reads the document and counts the written tokens present. The figure
is the number of edits written; the ratio present / written, target 1.0 (higher is
better): any lost edit is a MISS, and stderr lists the lost tokens.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.document_merge import Writer, paragraph, report_sections, seed_report, word_count
from bench.harness import LOOPBACK, BenchResult, GunicornServer, median, note
from bench.rls import _connect, ensure_app_role, migrate, scratch_database, server_env

NAME = "document_concurrency"
TARGET = 1.0
WRITERS = 20
#: Writers share sections in pairs, one of each inspectorate per section.
SHARED_SECTIONS = WRITERS // 2
#: Every STALE_EVERY-th save of a writer uses the text it read STALE_EVERY - 1 rounds ago.
STALE_EVERY = 3
#: Resolve attempts per edit before giving it up (each further 409 is another attempt).
MAX_RESOLVES = 25
DEFAULT_SECONDS = 60.0
REQUEST_TIMEOUT = 60.0
#: How long the writers may take to finish the edit under way once the time is up.
DRAIN_TIMEOUT = 30.0
SERVER_SETTINGS = {"workers": 3, "worker_class": "gthread", "threads": 4}

TOKEN = re.compile(r"edit-(\d{2})-(\d{5})")


def bench_seconds() -> float:
    """``BENCH_SECONDS`` (for a shorter trial run), else 60."""
    value = os.environ.get("BENCH_SECONDS", "").strip()
    seconds = float(value) if value else DEFAULT_SECONDS
    if not 1 <= seconds <= 600:
        raise ValueError(f"BENCH_SECONDS must be between 1 and 600, got {value!r}")
    return seconds


# --- HTTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    etag: str
    text: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.text)


def call(
    port: int,
    method: str,
    path: str,
    token: str,
    body: object | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request on a fresh connection, so a failed request never leaves it unclear whether
    a later one on the same connection was sent."""
    sent_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers["Content-Type"] = "application/json"
    began = time.perf_counter()
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=data, headers=sent_headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Answer(
            response.status, response.getheader("ETag") or "", text, time.perf_counter() - began
        )
    finally:
        conn.close()


# --- the writers ----------------------------------------------------------------------------


@dataclass
class Tally:
    """What one writer did; only its own thread touches it until the end."""

    written: list[str] = field(default_factory=list)
    #: Tokens whose edit was given up or failed: not counted as written.
    unconfirmed: list[str] = field(default_factory=list)
    gets: int = 0
    saves: int = 0
    stale_saves: int = 0
    merges: int = 0
    conflicts: int = 0
    resolved: int = 0
    #: A resolve answered 409 again (someone saved the same section in the meantime).
    reconflicts: int = 0
    abandoned: int = 0
    #: A 200 whose document did not hold the edit just written (must stay 0).
    missing_in_answer: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    get_seconds: list[float] = field(default_factory=list)
    save_seconds: list[float] = field(default_factory=list)

    def error(self, what: str, answer: Answer | None, detail: str = "") -> None:
        key = f"{what} {answer.status if answer else 'exception'}"
        self.errors[key] += 1
        if len(self.first_errors) < 3:
            shown = answer.text[:300] if answer else detail
            self.first_errors.append(f"{key}: {shown}")


@dataclass(frozen=True)
class WriterSpec:
    number: int
    writer: Writer
    section_key: str


def _writable(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The sections as a writer sends them back (the API refuses unknown fields)."""
    return [{"key": s["key"], "title": s["title"], "body": s["body"]} for s in sections]


def _appended(sections: Sequence[Mapping[str, str]], key: str, text: str) -> list[dict[str, str]]:
    return [{**s, "body": s["body"] + text} if s["key"] == key else dict(s) for s in sections]


def write_until(
    spec: WriterSpec, port: int, path: str, deadline: float, tally: Tally, rng: random.Random
) -> None:
    """One writer's loop: read, append a paragraph with a new token, save (every third time
    on a stale base), resolve conflicts; until ``deadline``. Never raises: failures are
    tallied, and an edit whose outcome is unknown counts as unconfirmed, not written."""
    earlier: deque[tuple[str, list[dict[str, str]]]] = deque(maxlen=STALE_EVERY - 1)
    sequence = 0
    while time.monotonic() < deadline:
        mark = ""
        try:
            got = call(port, "GET", path, spec.writer.token)
            tally.gets += 1
            tally.get_seconds.append(got.seconds)
            if got.status != 200 or not got.etag:
                tally.error("GET", got)
                time.sleep(0.2)
                continue
            fresh = (got.etag, _writable(got.json()["sections"]))
            sequence += 1
            stale = sequence % STALE_EVERY == 0 and len(earlier) == earlier.maxlen
            etag, sections = earlier[0] if stale else fresh
            earlier.append(fresh)
            tally.stale_saves += int(stale)
            mark = f"edit-{spec.number:02d}-{sequence:05d}"
            text = f"<p>Writer {spec.number} adds {mark}. {paragraph(rng, 2)[3:-4]}</p>"
            edited = _appended(sections, spec.section_key, text)
            _save(spec, port, path, etag, edited, mark, text, tally)
        except Exception as exc:  # noqa: BLE001 - a writer reports its failures, never dies
            tally.error("save" if mark else "GET", None, repr(exc))
            if mark:
                tally.unconfirmed.append(mark)
            time.sleep(0.2)


def _save(
    spec: WriterSpec,
    port: int,
    path: str,
    etag: str,
    sections: list[dict[str, str]],
    mark: str,
    text: str,
    tally: Tally,
) -> None:
    token = spec.writer.token
    answer = call(port, "PUT", path, token, {"sections": sections}, {"If-Match": etag})
    tally.saves += 1
    tally.save_seconds.append(answer.seconds)
    if answer.status == 200:
        merged = answer.json().get("merged_with") is not None
        _written(answer, mark, tally)
        tally.merges += int(merged)
        return
    if answer.status != 409:
        tally.error("PUT", answer)
        tally.unconfirmed.append(mark)
        return
    tally.conflicts += 1
    problem = answer.json()
    for _attempt in range(MAX_RESOLVES):
        resolutions = {}
        for conflict in problem["conflicts"]:
            kept = conflict["head_body"] or ""
            resolutions[conflict["key"]] = (
                kept + text if conflict["key"] == spec.section_key else kept
            )
        answer = call(port, "POST", problem["resolve"], token, {"resolutions": resolutions})
        tally.save_seconds.append(answer.seconds)
        if answer.status == 200:
            _written(answer, mark, tally)
            tally.resolved += 1
            return
        if answer.status != 409:
            tally.error("resolve", answer)
            tally.unconfirmed.append(mark)
            return
        tally.reconflicts += 1
        problem = answer.json()
    tally.abandoned += 1
    tally.unconfirmed.append(mark)


def _written(answer: Answer, mark: str, tally: Tally) -> None:
    tally.written.append(mark)
    if mark not in answer.text:
        tally.missing_in_answer.append(mark)


# --- the benchmark --------------------------------------------------------------------------


def specs(writers: Sequence[Writer]) -> list[WriterSpec]:
    """Writer 2k (HMI Probation) and 2k + 1 (HMI Prisons) share the k-th shared section;
    the shared sections are spread through the report (every sixth one)."""
    lead, other = writers[:SHARED_SECTIONS], writers[SHARED_SECTIONS:]
    result = []
    for k in range(SHARED_SECTIONS):
        key = f"s{6 * k + 3:02d}"
        result.append(WriterSpec(2 * k, lead[k], key))
        result.append(WriterSpec(2 * k + 1, other[k], key))
    return result


def count_present(
    sections: Sequence[Mapping[str, Any]], writers: Sequence[WriterSpec]
) -> tuple[Counter[str], list[str]]:
    """Every token in the document (with how often it appears), and those found outside
    their writer's section."""
    home = {spec.number: spec.section_key for spec in writers}
    found: Counter[str] = Counter()
    misplaced = []
    for section in sections:
        for match in TOKEN.finditer(section["body"]):
            found[match.group(0)] += 1
            if home.get(int(match.group(1))) != section["key"]:
                misplaced.append(match.group(0))
    return found, misplaced


def _pct(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))]


def run() -> BenchResult:
    """Seed a scratch database, start the app, run the writers, count the edits.

    The server is stopped and the database dropped on return, also after an error.
    """
    seconds = bench_seconds()
    note(
        f"{NAME}: {WRITERS} writers on {SHARED_SECTIONS} shared sections of one report for "
        f"{seconds:g}s; every {STALE_EVERY}rd save on a stale base; gunicorn "
        f"{SERVER_SETTINGS['workers']} workers x {SERVER_SETTINGS['threads']} threads"
    )
    ensure_app_role()
    sections = report_sections()
    with scratch_database(NAME) as database:
        migrate(database)
        seeded = seed_report(database, sections, writers_per_tenant=SHARED_SECTIONS, tokens=True)
        writers = specs(seeded.writers)
        path = f"/api/v1/workspaces/{seeded.workspace_id}/documents/{seeded.document_id}"
        note(
            f"{NAME}: seeded {database}: report of {len(sections)} sections, "
            f"{word_count(sections):,} words; {len(writers)} writers with API tokens"
        )
        with (
            tempfile.TemporaryDirectory(prefix="bench-documents-") as instance,
            GunicornServer(
                "app.wsgi:app",
                env=server_env(database, instance),
                path="/healthz",
                expect_json={"status": "ok"},
                **SERVER_SETTINGS,
            ) as server,
        ):
            first = call(server.port, "GET", path, writers[0].writer.token)
            if first.status != 200:
                raise RuntimeError(f"GET {path}: {first.status} {first.text[:300]}")
            tallies = [Tally() for _ in writers]
            started = time.monotonic()
            deadline = started + seconds
            threads = [
                threading.Thread(
                    target=write_until,
                    args=(spec, server.port, path, deadline, tally, random.Random(spec.number)),
                    name=f"writer-{spec.number:02d}",
                    daemon=True,
                )
                for spec, tally in zip(writers, tallies, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=max(0.0, deadline + DRAIN_TIMEOUT - time.monotonic()))
            elapsed = time.monotonic() - started
            running = [thread.name for thread in threads if thread.is_alive()]
            if running:
                raise RuntimeError(
                    f"{len(running)} writers still busy {DRAIN_TIMEOUT:g}s after the end: "
                    f"{', '.join(running)}"
                )
            final = call(server.port, "GET", path, writers[0].writer.token)
            if final.status != 200:
                raise RuntimeError(f"final GET {path}: {final.status} {final.text[:300]}")
            document = final.json()
        with _connect(database) as owner:
            versions, pending_open = owner.execute(
                "SELECT (SELECT count(*) FROM document_versions WHERE document_id = %(d)s),"
                " (SELECT count(*) FROM document_pending_saves"
                "  WHERE document_id = %(d)s AND resolved_at IS NULL)",
                {"d": seeded.document_id},
            ).fetchone() or (0, 0)
    return report(writers, tallies, document, elapsed, versions, pending_open)


def report(
    writers: Sequence[WriterSpec],
    tallies: Sequence[Tally],
    document: Mapping[str, Any],
    elapsed: float,
    versions: int,
    pending_open: int,
) -> BenchResult:
    """Count the written tokens present in the final document; say everything on stderr."""
    written = [mark for tally in tallies for mark in tally.written]
    unconfirmed = {mark for tally in tallies for mark in tally.unconfirmed}
    found, misplaced = count_present(document["sections"], writers)
    present = [mark for mark in written if mark in found]
    lost = sorted(set(written) - set(found))
    duplicated = sorted(mark for mark, n in found.items() if n > 1)
    strangers = sorted(set(found) - set(written))
    total = Counter[str]()
    for tally in tallies:
        total.update(tally.errors)

    def added(attribute: str) -> int:
        return sum(getattr(tally, attribute) for tally in tallies)

    saves = added("saves")
    note(
        f"{NAME}: {elapsed:.1f}s: {added('gets')} GETs, {saves} PUTs "
        f"({added('stale_saves')} on a stale base), {len(written)} edits written "
        f"({len(written) / elapsed:.2f}/s); final version {document['version']} "
        f"({versions} versions stored)"
    )
    note(
        f"{NAME}: {added('merges')} saves merged (merged_with set), {added('conflicts')} "
        f"conflicts (409), {added('resolved')} resolved, {added('reconflicts')} resolves "
        f"answered 409 again, {added('abandoned')} edits given up after {MAX_RESOLVES} "
        f"resolves; {pending_open} pending saves left unresolved"
    )
    note(
        f"{NAME}: written {len(written)}, present {len(present)}, lost {len(lost)}; "
        f"duplicated {len(duplicated)}, outside their section {len(misplaced)}, "
        f"present but unconfirmed {len(strangers)} (of {len(unconfirmed)} unconfirmed)"
    )
    all_get = [s * 1000 for tally in tallies for s in tally.get_seconds]
    all_save = [s * 1000 for tally in tallies for s in tally.save_seconds]
    if all_get and all_save:
        note(
            f"{NAME}: GET median {median(all_get):.0f} ms, p95 {_pct(all_get, 95):.0f} ms; "
            f"PUT/resolve median {median(all_save):.0f} ms, p95 {_pct(all_save, 95):.0f} ms"
        )
    if total:
        note(f"{NAME}: errors {dict(total)}")
        for tally in tallies:
            for line in tally.first_errors:
                note(f"{NAME}: error: {line}")
    missing = [mark for tally in tallies for mark in tally.missing_in_answer]
    if missing:
        note(f"{NAME}: 200 answers without the edit just written: {' '.join(missing)}")
    if lost:
        note(f"{NAME}: LOST EDITS ({len(lost)}): {' '.join(lost)}")
    if duplicated:
        note(f"{NAME}: tokens present more than once: {' '.join(duplicated[:50])}")
    if misplaced:
        note(f"{NAME}: tokens outside their writer's section: {' '.join(misplaced[:50])}")
    ratio = len(present) / len(written) if written else float("nan")
    return BenchResult(
        name=NAME,
        figure=float(len(written)),
        unit="edits",
        ratio=ratio,
        target=TARGET,
        higher_is_better=True,
    )
