"""The joint-inspection dashboard for a busy person: ``GET /workspaces`` as a signed-in user.

The issue's target: the dashboard of a user named in 200 workspaces with 50 decisions each
renders with p95 < 150 ms. On a fresh database (dropped afterwards), HMI Probation leads
200 workspaces with HMI Prisons and HMICFRS; the user signing in is named in every one of
them as development group rep and lead inspector (as is one person from each of the other
two inspectorates); each workspace has 50 decision subjects and decisions (every kind, most
open, a tenth agreed, some approvals, some voided) and the stage checklists, with overdue
items. The app runs as the production role under the same gunicorn settings as
``app_overhead``; one web session (signed in through the real form, CSRF token included)
is reused by a sequential keep-alive client in a second process.

Latency, not throughput: one request at a time, so p95 is the time to render the page.
The baseline is the bare Flask app of ``app_overhead`` (``bench._bare_app``, ``GET /healthz``)
under the same gunicorn settings, measured by the same client in the same run; the full
app's ``/healthz`` is measured too, for information (the app's per-request frame).
Rounds alternate dashboard, bare, full /healthz. The figure is the p95 of every dashboard
sample, the ratio that p95 / the bare baseline's p95; PASS when the figure is at most
150 ms (an absolute target: lower is better).

``python -m bench.dashboard --port P --path /x ...`` is the latency client itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie

from bench.app_overhead import SERVER_SETTINGS
from bench.harness import (
    LOOPBACK,
    PROJECT_ROOT,
    BenchResult,
    GunicornServer,
    clean_env,
    http_get,
    median,
    note,
    pids_cpu_seconds,
)

# The rls benchmark's PostgreSQL helpers: socket URL, app role, migration, server settings.
from bench.rls import (
    APP_ROLE,
    _connect,
    backend_pids,
    ensure_app_role,
    migrate,
    pg_url,
    scratch_database,
    server_env,
)

NAME = "dashboard"
#: p95 in milliseconds, lower is better (the issue's target).
TARGET_MS = 150.0
PATH = "/workspaces"
MARKER = "Waiting for your approval"
BASELINE_PATH = "/healthz"

WORKSPACES = 200
DECISIONS_PER_WORKSPACE = 50
LEAD = "hmiprobation"
PARTICIPANTS = ("hmiprobation", "hmiprisons", "hmicfrs")
#: The roles the signing-in user (and one person per other inspectorate) holds everywhere.
NAMED_AS = ("development_group_rep", "lead_inspector")
PASSWORD = "bench dashboard password"  # noqa: S105 - a throwaway user in a throwaway database

ROUNDS = 3
DASHBOARD_SECONDS = 5.0
BASELINE_SECONDS = 1.5
WARMUP = 0.5
#: Requests per connection before the client opens a new one (outside the timed part), so
#: both gunicorn workers serve samples.
RECONNECT_EVERY = 10
MAX_REQUESTS = 20_000
#: Below this many dashboard samples the p95 is about the maximum (said on stderr).
FEW_SAMPLES = 40
#: Fresh-connection requests before the first round, so every worker has rendered the page.
PRIMING_REQUESTS = 3


# --- the data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    lead_tenant_id: int
    #: The user who signs in (HMI Probation's), then one per other inspectorate.
    user_ids: tuple[int, ...]
    email: str
    #: The decisions "Waiting for your approval" may list (the page may show only some).
    waiting: frozenset[int]


def seed_people(database: str) -> tuple[dict[str, int], list[int], str]:
    """Founding tenants and one person per participating inspectorate, through the app's own
    services as the app role (audited, RLS-checked); only the lead's person has a password.

    Returns tenant ids by slug, the people's ids (the lead's first) and the lead's email.
    """
    from app.audit import Actor
    from app.db import Database, set_context
    from tenants.models import Role
    from tenants.seed import seed_founding_tenants
    from tenants.service import create_user

    db = Database(pg_url(database, APP_ROLE), pool_size=1)
    try:
        with db.transaction() as session:
            session.info["actor"] = Actor(None, None, "bench")
            set_context(session, tenant_id=None, platform_admin=True)
            tenants = {tenant.slug: tenant for tenant in seed_founding_tenants(session)}
            user_ids, email = [], ""
            for slug in PARTICIPANTS:
                tenant = tenants[slug]
                set_context(session, tenant_id=tenant.id)
                user = create_user(
                    session,
                    tenant=tenant,
                    email=f"development.group.rep@{tenant.domains[0]}",
                    name=f"Development group rep ({tenant.short_name})",
                    roles={Role.DEVELOPMENT_GROUP_REP, Role.LEAD_INSPECTOR},
                    password=PASSWORD if slug == LEAD else None,
                )
                user_ids.append(user.id)
                email = email or user.email
            set_context(session, tenant_id=None)
            tenant_ids = {slug: tenant.id for slug, tenant in tenants.items()}
    finally:
        db.engine.dispose()
    return tenant_ids, user_ids, email


# Bulk inserts as the superuser (no RLS, no ORM, no audit rows): every table the page reads.
# Ids come from the sequences; the database is new, so every workspace here is the bench's.
_WORKSPACES = """
INSERT INTO workspaces (title, lead_tenant_id, stage, publication_date, created_at)
SELECT 'Joint inspection ' || g || ': resettlement support for people leaving prison',
       %(lead)s, 1 + g %% 8, current_date + 60 + g, now() - make_interval(hours => g)
FROM generate_series(1, %(workspaces)s) AS g
ORDER BY g
"""
_PARTICIPANTS = """
INSERT INTO workspace_participants (workspace_id, tenant_id, joined_at)
SELECT w.id, t.tenant_id, w.created_at
FROM workspaces AS w CROSS JOIN unnest(%(tenants)s::int[]) WITH ORDINALITY AS t(tenant_id, n)
ORDER BY w.id, t.n
"""
_MEMBERS = """
INSERT INTO workspace_members (workspace_id, tenant_id, user_id, role)
SELECT w.id, u.tenant_id, u.id, r.role
FROM workspaces AS w CROSS JOIN users AS u CROSS JOIN unnest(%(roles)s::text[]) AS r(role)
WHERE u.id = ANY(%(users)s)
ORDER BY w.id, u.id, r.role
"""
#: Kinds rotate through every kind, shifted per workspace; content is a few hundred bytes.
_SUBJECTS = """
INSERT INTO decision_subjects (
    workspace_id, kind, title, content, version, content_hash, updated_at, updated_by_id
)
SELECT w.id, k.kind, k.label || ' (' || n || ')',
       json_build_object(
           'background', repeat('People leave prison without settled accommodation. ', 4),
           'aims', 'To assess how well services work together, item ' || n,
           'criteria', json_build_array('Leadership', 'Planning', 'Accommodation', 'Data')
       ),
       1, md5(w.id || ':' || n) || md5(n || ':' || w.id), now(), %(author)s
FROM workspaces AS w
CROSS JOIN generate_series(1, %(per_workspace)s) AS n
JOIN unnest(%(kinds)s::text[], %(labels)s::text[]) WITH ORDINALITY AS k(kind, label, i)
  ON k.i = 1 + (w.id + n) %% cardinality(%(kinds)s::text[])
ORDER BY w.id, n
"""
#: One decision per subject: a tenth agreed, the rest open; a quarter without a deadline;
#: every 17th open one had its approvals voided by a change.
_DECISIONS = """
INSERT INTO decisions (
    workspace_id, kind, subject_id, subject_version, subject_hash, status, due_on,
    proposed_by_id, created_at, agreed_at, voided_reason
)
SELECT s.workspace_id, s.kind, s.id, 1, s.content_hash,
       CASE WHEN s.id %% 10 = 0 THEN 'agreed' ELSE 'open' END,
       CASE WHEN s.id %% 4 = 0 THEN NULL ELSE current_date + (s.id %% 120) - 30 END,
       %(author)s, now() - make_interval(mins => s.id),
       CASE WHEN s.id %% 10 = 0 THEN now() END,
       CASE WHEN s.id %% 10 <> 0 AND s.id %% 17 = 0
            THEN s.title || ' changed after 1 approval(s): every inspectorate must approve again.'
            ELSE '' END
FROM decision_subjects AS s
ORDER BY s.id
"""
#: Agreed: every inspectorate approved. Open: every 3rd approved by HMI Prisons (still
#: waiting for the user), every 7th by the user (not waiting), every 17th's voided.
_APPROVALS = """
INSERT INTO approvals (
    decision_id, workspace_id, tenant_id, user_id, verdict, reason, subject_hash,
    created_at, voided_at
)
SELECT d.id, d.workspace_id, u.tenant_id, u.id, 'approved', '', d.subject_hash,
       d.created_at + interval '1 hour',
       CASE WHEN d.status = 'open' AND d.id %% 17 = 0 THEN now() END
FROM decisions AS d JOIN users AS u ON u.id = ANY(%(users)s)
WHERE d.status = 'agreed'
   OR (d.id %% 3 = 0 AND u.id = %(other)s)
   OR ((d.id %% 7 = 0 OR d.id %% 17 = 0) AND u.id = %(author)s)
ORDER BY d.id, u.id
"""
#: The stages' core expectations in every workspace: earlier stages done, the current
#: stage's items due around today (about half overdue), later ones without a date.
_CHECKLISTS = """
INSERT INTO checklist_items (
    workspace_id, stage, reference, text, status, assignee_id, due_on, link
)
SELECT w.id, c.stage, c.reference, c.text,
       CASE WHEN c.stage < w.stage THEN 'done' ELSE 'open' END,
       CASE WHEN c.n %% 5 = 0 THEN %(author)s END,
       CASE WHEN c.stage < w.stage THEN current_date - 100 + 10 * c.stage
            WHEN c.stage = w.stage THEN current_date + ((w.id * 7 + c.n) %% 40 - 20)::int END,
       ''
FROM workspaces AS w
CROSS JOIN unnest(%(stages)s::int[], %(refs)s::text[], %(texts)s::text[])
    WITH ORDINALITY AS c(stage, reference, text, n)
ORDER BY w.id, c.n
"""
#: What the dashboard may list as waiting (service.waiting_for_me, in SQL).
_WAITING = """
SELECT d.id FROM decisions AS d
WHERE d.status = 'open' AND d.kind = ANY(%(kinds)s)
  AND d.workspace_id IN (SELECT workspace_id FROM workspace_members WHERE user_id = %(user)s)
  AND NOT EXISTS (
      SELECT 1 FROM approvals AS a
      WHERE a.decision_id = d.id AND a.tenant_id = %(tenant)s AND a.voided_at IS NULL
  )
"""


def seed(database: str) -> Seeded:
    """Tenants and people through the app, then the workspaces in bulk SQL; ANALYZE."""
    from shared_workspace.checklists import CORE_EXPECTATIONS
    from shared_workspace.decisions import KINDS

    tenant_ids, user_ids, email = seed_people(database)
    me = user_ids[0]
    checklist = [
        (stage, reference, text)
        for stage, items in sorted(CORE_EXPECTATIONS.items())
        for reference, text in items
    ]
    params = {
        "lead": tenant_ids[LEAD],
        "workspaces": WORKSPACES,
        "tenants": [tenant_ids[slug] for slug in PARTICIPANTS],
        "roles": list(NAMED_AS),
        "users": user_ids,
        "author": me,
        "other": user_ids[1],
        "per_workspace": DECISIONS_PER_WORKSPACE,
        "kinds": list(KINDS),
        "labels": [kind.label for kind in KINDS.values()],
        "stages": [stage for stage, _ref, _text in checklist],
        "refs": [ref for _stage, ref, _text in checklist],
        "texts": [text for _stage, _ref, text in checklist],
    }
    counts = {}
    with _connect(database) as conn:
        with conn.transaction():
            for table, statement in (
                ("workspaces", _WORKSPACES),
                ("workspace_participants", _PARTICIPANTS),
                ("workspace_members", _MEMBERS),
                ("decision_subjects", _SUBJECTS),
                ("decisions", _DECISIONS),
                ("approvals", _APPROVALS),
                ("checklist_items", _CHECKLISTS),
            ):
                counts[table] = conn.execute(statement, params).rowcount
        conn.execute("ANALYZE")
        answerable = [
            kind
            for kind, spec in KINDS.items()
            if {role.value for role in spec.approver_roles} & set(NAMED_AS)
        ]
        waiting = frozenset(
            row[0]
            for row in conn.execute(
                _WAITING, {"kinds": answerable, "user": me, "tenant": tenant_ids[LEAD]}
            )
        )
        overdue = conn.execute(
            "SELECT count(*) FROM checklist_items WHERE status = 'open' AND due_on < current_date"
        ).fetchone()
    expected = WORKSPACES * DECISIONS_PER_WORKSPACE
    if counts["decisions"] != expected or counts["workspaces"] != WORKSPACES:
        raise RuntimeError(
            f"seeded {counts}, expected {WORKSPACES} workspaces and {expected} decisions"
        )
    note(
        f"{NAME}: seeded {', '.join(f'{n} {table}' for table, n in counts.items())}; "
        f"{len(waiting)} decisions wait for the user, {overdue[0] if overdue else 0} items overdue"
    )
    return Seeded(tenant_ids[LEAD], tuple(user_ids), email, waiting)


def check_wall(database: str, seeded: Seeded) -> None:
    """The app role sees nothing with no tenant set, and the lead's whole share with it."""
    with _connect(database, APP_ROLE, autocommit=False) as conn:
        none = conn.execute("SELECT count(*) FROM decisions").fetchone()
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(seeded.lead_tenant_id),))
        mine = conn.execute("SELECT count(*) FROM decisions").fetchone()
        conn.rollback()
    expected = WORKSPACES * DECISIONS_PER_WORKSPACE
    if none is None or mine is None or none[0] != 0 or mine[0] != expected:
        raise RuntimeError(
            f"the app role sees {none} decisions with no tenant and {mine} as the lead, "
            f"expected 0 and {expected}"
        )


# --- the web session --------------------------------------------------------------------

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_DECISION_LINK = re.compile(r'href="/workspaces/\d+#decision-(\d+)"')


def _remember_cookies(jar: dict[str, str], response: http.client.HTTPResponse) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def _cookie_header(jar: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(port: int, email: str, password: str) -> dict[str, str]:
    """Sign in through the real form (CSRF token and all); the headers of the session.

    No User-Agent, like the latency client: flask-login's strong session protection ties
    the session to the address and user agent it was made with.
    """
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        conn.request("GET", "/sign-in")
        response = conn.getresponse()
        page = response.read().decode("utf-8", "replace")
        _remember_cookies(jar, response)
        token = _CSRF_FIELD.search(page)
        if response.status != 200 or token is None:
            raise RuntimeError(f"GET /sign-in: {response.status}, no CSRF token: {page[:300]!r}")
        form = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": token.group(1)}
        )
        conn.request(
            "POST",
            "/sign-in",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": _cookie_header(jar),
            },
        )
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        _remember_cookies(jar, response)
        location = response.getheader("Location") or ""
        if response.status != 302 or "/sign-in" in location:
            raise RuntimeError(
                f"POST /sign-in: {response.status} to {location!r}, not signed in: {body[:500]!r}"
            )
    finally:
        conn.close()
    return {"Cookie": _cookie_header(jar)}


def check_page(port: int, headers: Mapping[str, str], seeded: Seeded) -> tuple[int, int]:
    """The page answers 200 with the marker and lists waiting decisions, only ones that wait
    for the user, each once (all of them, or a first page: either is fine here).

    Returns the page's size in bytes and how many decisions it lists. Each check is a fresh
    connection, so the workers have rendered the page before the first round.
    """
    size = listed = 0
    for _ in range(PRIMING_REQUESTS):
        status, body = http_get(port, PATH, headers=headers, timeout=60.0)
        page = body.decode("utf-8", "replace")
        if status != 200 or MARKER not in page:
            raise RuntimeError(f"{PATH}: {status}, {MARKER!r} missing: {page[:500]!r}")
        ids = [int(found) for found in _DECISION_LINK.findall(page)]
        strangers = sorted(set(ids) - seeded.waiting)
        if not ids or strangers or len(set(ids)) != len(ids):
            raise RuntimeError(
                f"{PATH} lists {len(ids)} decisions ({len(set(ids))} distinct), "
                f"{len(strangers)} of them not waiting for the user (e.g. {strangers[:5]}); "
                f"{len(seeded.waiting)} wait"
            )
        size, listed = len(body), len(ids)
    return size, listed


# --- latency ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """One sequential client's run: every measured request's time, in milliseconds."""

    samples_ms: tuple[float, ...]
    #: Every request answered, warm-up included (to share out server CPU time).
    sent: int


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (the smallest value with ``pct`` % at or below it)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def measure_latency(
    port: int,
    path: str,
    *,
    seconds: float,
    warmup: float,
    headers: Mapping[str, str] | None = None,
    expect: str = "",
) -> Latency:
    """Sequential keep-alive GETs from a second process; each measured request's time.

    Raises RuntimeError if any request fails (not 200, or without ``expect`` in its body).
    """
    command = [
        sys.executable,
        "-m",
        "bench.dashboard",
        "--port",
        str(port),
        "--path",
        path,
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        *(f"--header={name}: {value}" for name, value in (headers or {}).items()),
        f"--expect={expect}",
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=warmup + seconds + 90,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"latency client failed: {completed.stderr.strip()[-800:]}")
    result = json.loads(completed.stdout)
    if result["errors"] or not result["samples_ms"]:
        raise RuntimeError(
            f"{path}: {len(result['samples_ms'])} ok, {result['errors']} failed "
            f"({result['first_error']})"
        )
    return Latency(tuple(result["samples_ms"]), int(result["sent"]))


def latency_client(
    port: int,
    path: str,
    *,
    seconds: float,
    warmup: float,
    headers: Mapping[str, str],
    expect: bytes,
) -> dict[str, object]:
    """In the client process: GET ``path`` one at a time for ``warmup + seconds``.

    A request's time runs from sending it to having read the whole body; connections are
    replaced every RECONNECT_EVERY requests, and connecting is not timed. Bounded by time
    and by MAX_REQUESTS.
    """
    start = time.perf_counter()
    window = (start + warmup, start + warmup + seconds)
    samples: list[float] = []
    errors, sent, first_error = 0, 0, ""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
    try:
        for number in range(MAX_REQUESTS):
            if time.perf_counter() >= window[1]:
                break
            if number % RECONNECT_EVERY == 0:
                conn.close()
                conn.connect()
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=dict(headers))
                response = conn.getresponse()
                body = response.read()
                problem = "" if response.status == 200 else f"status {response.status}"
                if not problem and expect not in body:
                    problem = f"no {expect!r} in {body[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn.connect()
                problem = repr(exc)
            done = time.perf_counter()
            sent += 1
            if done < window[0]:
                continue
            if problem:
                errors += 1
                first_error = first_error or problem
            else:
                samples.append((done - began) * 1000)
    finally:
        conn.close()
    return {"samples_ms": samples, "errors": errors, "sent": sent, "first_error": first_error}


def _client_main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--header", action="append", default=[], dest="headers")
    parser.add_argument("--expect", default="")
    args = parser.parse_args()
    headers = dict(header.split(": ", 1) for header in args.headers)
    result = latency_client(
        args.port,
        args.path,
        seconds=args.seconds,
        warmup=args.warmup,
        headers=headers,
        expect=args.expect.encode(),
    )
    print(json.dumps(result))


def _summary(samples: Sequence[float]) -> str:
    return (
        f"p50 {percentile(samples, 50):.1f} ms, p95 {percentile(samples, 95):.1f} ms, "
        f"max {max(samples):.1f} ms, {len(samples)} requests"
    )


# --- the benchmark ------------------------------------------------------------------------


def run() -> BenchResult:
    """Seed a scratch database, sign in, then time the dashboard and the baselines in rounds.

    The servers are stopped and the database dropped on return, also after an error.
    """
    note(
        f"{NAME}: {WORKSPACES} workspaces x {DECISIONS_PER_WORKSPACE} decisions, sequential "
        f"client, {ROUNDS} rounds of {WARMUP:g}s warm-up + {DASHBOARD_SECONDS:g}s dashboard, "
        f"{BASELINE_SECONDS:g}s bare /healthz, {BASELINE_SECONDS:g}s full /healthz"
    )
    ensure_app_role()
    samples: dict[str, list[float]] = {"dashboard": [], "bare": [], "full": []}
    cpu_ms: list[tuple[float, float]] = []
    with scratch_database(NAME) as database:
        migrate(database)
        seeded = seed(database)
        check_wall(database, seeded)
        with (
            tempfile.TemporaryDirectory(prefix="bench-dashboard-") as instance,
            GunicornServer(
                "bench._bare_app:app",
                env=clean_env(),
                path=BASELINE_PATH,
                expect_json={"status": "ok"},
                **SERVER_SETTINGS,
            ) as bare,
            GunicornServer(
                "app.wsgi:app",
                env=server_env(database, instance),
                path=BASELINE_PATH,
                expect_json={"status": "ok"},
                **SERVER_SETTINGS,
            ) as full,
            _connect(database) as owner,
        ):
            session_headers = sign_in(full.port, seeded.email, PASSWORD)
            size, listed = check_page(full.port, session_headers, seeded)
            note(
                f"{NAME}: signed in as {seeded.email}; {PATH} is {size / 1024:.0f} KiB, "
                f"lists {listed} of the {len(seeded.waiting)} decisions waiting for the user"
            )
            for round_number in range(1, ROUNDS + 1):
                pids = backend_pids(owner, database)
                app_before, db_before = full.cpu_seconds(), pids_cpu_seconds(pids)
                run_ = measure_latency(
                    full.port,
                    PATH,
                    seconds=DASHBOARD_SECONDS,
                    warmup=WARMUP,
                    headers=session_headers,
                    expect=MARKER,
                )
                app_after = full.cpu_seconds()
                pids = sorted(set(pids) | set(backend_pids(owner, database)))
                db_after = pids_cpu_seconds(pids)
                samples["dashboard"].extend(run_.samples_ms)
                cpu_note = ""
                if app_before is not None and app_after is not None:
                    app_ms = (app_after - app_before) / run_.sent * 1000
                    db_ms = (db_after - db_before) / run_.sent * 1000
                    cpu_ms.append((app_ms, db_ms))
                    cpu_note = f"; CPU/request app {app_ms:.1f} ms + database {db_ms:.1f} ms"
                note(
                    f"{NAME}: round {round_number} dashboard {_summary(run_.samples_ms)}{cpu_note}"
                )
                for label, server in (("bare", bare), ("full", full)):
                    run_ = measure_latency(
                        server.port, BASELINE_PATH, seconds=BASELINE_SECONDS, warmup=WARMUP
                    )
                    samples[label].extend(run_.samples_ms)
                    note(
                        f"{NAME}: round {round_number} {label} {BASELINE_PATH} "
                        f"{_summary(run_.samples_ms)}"
                    )
    p95 = {label: percentile(values, 95) for label, values in samples.items()}
    note(
        f"{NAME}: all rounds: dashboard {_summary(samples['dashboard'])}; "
        f"bare /healthz p95 {p95['bare']:.2f} ms; full app /healthz p95 {p95['full']:.2f} ms "
        f"(dashboard / full /healthz {p95['dashboard'] / p95['full']:.1f})"
    )
    if len(samples["dashboard"]) < FEW_SAMPLES:
        note(
            f"{NAME}: only {len(samples['dashboard'])} dashboard requests: the p95 is about "
            "the slowest one, so one slow moment moves it (the median CPU below is steadier)"
        )
    if cpu_ms:
        app_ms = median([app for app, _db in cpu_ms])
        db_ms = median([db for _app, db in cpu_ms])
        note(f"{NAME}: median CPU/request of the dashboard: app {app_ms:.1f} ms, db {db_ms:.1f} ms")
    return BenchResult(
        name=NAME,
        figure=p95["dashboard"],
        unit="ms",
        ratio=p95["dashboard"] / p95["bare"],
        target=TARGET_MS,
        higher_is_better=False,
        target_applies_to="figure",
    )


if __name__ == "__main__":
    _client_main()
