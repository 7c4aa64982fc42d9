"""Moving a publication date recomputes 10,000 schedules, against a plain ``UPDATE`` of the
same rows, in the same run.

A scratch PostgreSQL database (migrated, row-level security on, the app as ``cjji_app``) gets
HMCPSI and HMI Prisons with their founding rules, a joint inspection and 10,000 of HMCPSI's
claims counted from its publication date (plus 100,000 claims in another inspection, which
must not move). Each round stores the new date, then times what setting it triggers
(``retention.actions.publication_date_moved``: every participant's claims recomputed under
its own scope, as the app role, and the check for material already destroyed) and the
commit; then the baseline: one ``UPDATE retention_schedules SET trigger_on, disposal_on,
due_at`` of the same 10,000 rows as the owner, and its commit. Rounds alternate; each
side's median is taken.
Ratio = recompute seconds ÷ plain UPDATE seconds (lower is better; target 2).
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench._retention import app_for, far_publication, insert_schedules, scratch, seed
from bench.harness import BenchResult, median, note
from bench.rls import _connect

NAME = "retention_recompute"
TARGET = 2.0
ROWS = 10_000
OTHER = 100_000
ROUNDS = 7


def run() -> BenchResult:
    from app.audit import Actor
    from app.db import get_database, set_context
    from retention.actions import publication_date_moved
    from shared_workspace.models import Workspace

    with scratch(NAME) as database, tempfile.TemporaryDirectory(prefix=NAME) as instance:
        app = app_for(database, Path(instance))
        publication = far_publication()
        world = seed(app, database, publication)
        other = seed_other(app, database, world, publication)
        insert_schedules(world, due_file_ids=[], future=ROWS, publication=publication)
        insert_schedules(other, due_file_ids=[], future=OTHER, publication=publication)
        recompute: list[float] = []
        plain: list[float] = []
        with app.app_context():
            for round_number in range(1, ROUNDS + 1):
                moved = publication + timedelta(days=round_number)
                session = get_database(app).sessionmaker()
                try:
                    session.info["actor"] = Actor(world.user, world.lead, "bench")
                    set_context(session, tenant_id=world.lead, user_id=world.user)
                    workspace = session.get(Workspace, world.workspace)
                    assert workspace is not None
                    old = workspace.publication_date
                    workspace.publication_date = moved
                    session.flush()
                    started = time.perf_counter()
                    publication_date_moved(session, workspace, old)
                    session.commit()
                    recompute.append(time.perf_counter() - started)
                finally:
                    session.close()
                plain.append(plain_update(database, world.workspace, moved))
                note(
                    f"{NAME}: round {round_number} recompute {recompute[-1] * 1000:.0f} ms, "
                    f"plain UPDATE {plain[-1] * 1000:.0f} ms"
                )
        check(database, world.workspace, other.workspace, publication + timedelta(days=ROUNDS))
        get_database(app).engine.dispose()
    seconds, baseline = median(recompute), median(plain)
    note(f"{NAME}: median recompute {seconds * 1000:.0f} ms, plain UPDATE {baseline * 1000:.0f} ms")
    return BenchResult(
        name=NAME,
        figure=seconds * 1000,
        unit="ms",
        ratio=seconds / baseline,
        target=TARGET,
        higher_is_better=False,
    )


def seed_other(app, database: str, world, publication):  # type: ignore[no-untyped-def]
    """A second inspection of the same lead whose claims must stay where they are."""
    from dataclasses import replace

    from app.audit import Actor
    from app.db import get_database, set_context
    from shared_workspace import service
    from tenants.models import Tenant, User

    with app.app_context(), get_database(app).transaction() as session:
        session.info["actor"] = Actor(None, None, "bench")
        set_context(session, tenant_id=world.lead, user_id=world.user)
        lead = session.get(User, world.user)
        partner = session.get(Tenant, world.partner)
        workspace = service.create_workspace(
            session, title="Other", lead=lead, participants=[partner], publication_date=publication
        )
        return replace(world, workspace=workspace.id)


def plain_update(database: str, workspace_id: int, moved) -> float:  # type: ignore[no-untyped-def]
    with _connect(database, autocommit=False) as conn:
        started = time.perf_counter()
        conn.execute(
            "UPDATE retention_schedules SET trigger_on = %(p)s, disposal_on = %(p)s - 1,"
            " due_at = (%(p)s - 1)::timestamp AT TIME ZONE 'Europe/London'"
            " WHERE workspace_id = %(ws)s AND trigger = 'publication'",
            {"p": moved, "ws": workspace_id},
        )
        conn.commit()
        return time.perf_counter() - started


def check(database: str, workspace_id: int, other_id: int, expected) -> None:  # type: ignore[no-untyped-def]
    with _connect(database) as conn:
        moved = conn.execute(
            "SELECT count(*) FROM retention_schedules WHERE workspace_id = %s AND disposal_on = %s",
            (workspace_id, expected - timedelta(days=1)),
        ).fetchone()[0]
        untouched = conn.execute(
            "SELECT count(*) FROM retention_schedules WHERE workspace_id = %s"
            " AND disposal_on <> %s",
            (other_id, expected - timedelta(days=1)),
        ).fetchone()[0]
    if moved != ROWS or untouched != OTHER:
        raise AssertionError(f"{moved} of {ROWS} moved; {untouched} of {OTHER} others untouched")
