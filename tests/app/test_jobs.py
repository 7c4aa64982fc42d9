"""Jobs: one way to enqueue; rq on Redis with a real worker, or in-process; periodic jobs."""

from __future__ import annotations

from flask import Flask, g
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database, get_session
from app.heartbeat import JobHeartbeat, last_heartbeat, record_scheduler_heartbeat
from app.jobs import (
    PERIODIC_JOBS,
    QUEUE_PERIODIC,
    EmbeddedScheduler,
    RqRunner,
    build_cron_scheduler,
    enqueue,
)
from tests import services


def test_in_process_job_runs_once_the_request_commits(app: Flask, database: Database) -> None:
    with app.test_request_context("/"):
        session = get_session()
        session.add(JobHeartbeat(name="request-work", last_run_at=_now(), runs=0))
        session.flush()
        enqueue(record_scheduler_heartbeat)
        # Not yet: the request has not committed.
        assert last_heartbeat(session) is None
        session.commit()
        assert last_heartbeat(database.sessionmaker()) is not None
        g.pop("db_session").close()


def test_a_released_savepoint_does_not_submit_the_job_early(
    app: Flask, database: Database, redis
) -> None:
    """Work done in a savepoint after enqueueing (a notification, a form's attempt) must not
    count as the request committing: the job reaches its queue (real rq on Redis) only when
    the request's transaction commits, and once."""
    import uuid

    runner = RqRunner(services.REDIS_URL)
    name = f"test-savepoint-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, connection=runner.connection)
    saved = app.extensions["jobs"]
    app.extensions["jobs"] = runner
    try:
        with app.test_request_context("/"):
            session = get_session()
            session.add(JobHeartbeat(name="request-work", last_run_at=_now(), runs=0))
            session.flush()
            enqueue(record_scheduler_heartbeat, queue=name)
            with session.begin_nested():
                session.add(JobHeartbeat(name="savepoint-work", last_run_at=_now(), runs=0))
            assert queue.count == 0
            session.commit()
            assert queue.count == 1
            session.commit()  # a later commit does not submit it again
            assert queue.count == 1
            g.pop("db_session").close()
    finally:
        app.extensions["jobs"] = saved
        queue.empty()
        queue.delete(delete_jobs=True)


def test_a_job_is_not_run_when_its_transaction_rolls_back(app: Flask, database: Database) -> None:
    with app.test_request_context("/"):
        session = get_session()
        session.begin()
        enqueue(record_scheduler_heartbeat)
        session.rollback()
        assert last_heartbeat(database.sessionmaker()) is None
        g.pop("db_session").close()


def test_jobs_are_idempotent_when_rerun(app: Flask, session: Session) -> None:
    with app.app_context():
        record_scheduler_heartbeat()
        record_scheduler_heartbeat()
    rows = session.scalars(select(JobHeartbeat)).all()
    assert [(r.name, r.runs) for r in rows] == [("scheduler", 2)]


def test_rq_worker_runs_a_job_from_redis(app: Flask, database: Database, redis) -> None:
    runner = RqRunner(services.REDIS_URL)
    rq_job = runner.submit(record_scheduler_heartbeat, (), QUEUE_PERIODIC)
    assert rq_job.get_status() == "queued"
    with app.app_context():
        worker = SimpleWorker(
            [Queue(QUEUE_PERIODIC, connection=runner.connection)], connection=runner.connection
        )
        assert worker.work(burst=True)
    rq_job.refresh()
    assert rq_job.get_status() == "finished", rq_job.latest_result()
    assert last_heartbeat(database.sessionmaker()) is not None


def test_rq_cron_scheduler_enqueues_every_periodic_job(redis) -> None:
    scheduler = build_cron_scheduler(services.REDIS_URL)
    names = {cron_job.name for cron_job in scheduler.enqueue_jobs()}
    assert names == {p.name for p in PERIODIC_JOBS}
    assert Queue(QUEUE_PERIODIC, connection=redis).count == len(PERIODIC_JOBS)


def test_embedded_scheduler_runs_jobs_when_due_and_not_before(
    app: Flask, database: Database
) -> None:
    scheduler = EmbeddedScheduler(app)
    assert scheduler.run_due(now=1000.0) == [p.name for p in PERIODIC_JOBS]
    assert scheduler.run_due(now=1001.0) == []
    interval = min(p.interval_seconds for p in PERIODIC_JOBS)
    assert scheduler.run_due(now=1000.0 + interval) != []
    assert last_heartbeat(database.sessionmaker()) is not None


def test_enqueue_refuses_a_plain_function(app: Flask) -> None:
    import pytest

    with app.app_context(), pytest.raises(TypeError):
        enqueue(print)


def _now():  # type: ignore[no-untyped-def]
    from app.db import utcnow

    return utcnow()
