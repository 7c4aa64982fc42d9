"""Background jobs: one way to enqueue, rq on Redis or in-process, and periodic jobs.

A job function is declared with ``@job`` and written as ``def name(session, *ids)``:
the wrapper gives it an app context and one transaction, so running it twice or
after a crash ends in the same state as long as the function itself is idempotent.
Jobs are enqueued only after the transaction that created their work has committed.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_DEFAULT = "default"
QUEUE_PERIODIC = "periodic"
QUEUES = (QUEUE_DEFAULT, QUEUE_PERIODIC)


@dataclass(frozen=True)
class PeriodicJob:
    func: Callable[..., Any]
    interval_seconds: int
    queue: str = QUEUE_PERIODIC

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__name__}"


#: Every periodic job, registered at import by ``@periodic``; both runtimes schedule these.
PERIODIC_JOBS: list[PeriodicJob] = []

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()


def _app_for_job() -> Flask:
    """The app a job runs in: the current one, or one built once per worker process."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    with _worker_app_lock:
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        return _worker_app


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``func(session, *args)`` a job callable as ``func(*args)`` from any process."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        from app.db import get_database

        app = _app_for_job()
        with app.app_context(), get_database(app).transaction() as session:
            return func(session, *args, **kwargs)

    run.is_job = True  # type: ignore[attr-defined]
    return run


def periodic(interval_seconds: int, queue: str = QUEUE_PERIODIC) -> Callable[[Any], Any]:
    """Register a ``@job`` to run every ``interval_seconds`` in both runtimes."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        PERIODIC_JOBS.append(PeriodicJob(func, interval_seconds, queue))
        return func

    return register


class JobRunner(Protocol):
    name: str

    def submit(self, func: Callable[..., Any], args: tuple[Any, ...], queue: str) -> Any: ...

    def check(self) -> str: ...


class RqRunner:
    """Jobs go to rq queues on Redis; ``rq worker`` (or ``flask worker``) runs them."""

    name = "rq"

    def __init__(self, redis_url: str) -> None:
        from redis import Redis

        self.connection = Redis.from_url(redis_url)

    def queue(self, name: str = QUEUE_DEFAULT):  # type: ignore[no-untyped-def]
        from rq import Queue

        return Queue(name, connection=self.connection)

    def submit(self, func: Callable[..., Any], args: tuple[Any, ...], queue: str) -> Any:
        return self.queue(queue).enqueue(func, *args, failure_ttl=7 * 24 * 3600)

    def check(self) -> str:
        self.connection.ping()
        return "redis"


class InProcessRunner:
    """Jobs run in a background thread of this process (or at once when eager)."""

    name = "in-process"

    def __init__(self, app: Flask, *, eager: bool) -> None:
        self.app = app
        self.eager = eager
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, func: Callable[..., Any], args: tuple[Any, ...], queue: str) -> Any:
        if self.eager:
            with self.app.app_context():
                return func(*args)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job")
        future: Future[Any] = self._executor.submit(self._run, func, args)
        return future

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        with self.app.app_context():
            try:
                return func(*args)
            except Exception:  # noqa: BLE001 - the thread boundary: log any failure, re-raise
                # In-process jobs have no failed-job registry: the log is where they surface.
                log.exception("job failed", extra={"job": getattr(func, "__name__", "?")})
                raise

    def check(self) -> str:
        return "in-process"


def get_runner() -> JobRunner:
    return current_app.extensions["jobs"]


def enqueue(func: Callable[..., Any], *args: Any, queue: str = QUEUE_DEFAULT) -> None:
    """Run ``func(*args)`` as a job once the current request's transaction commits."""
    if not getattr(func, "is_job", False):
        raise TypeError(f"{func!r} is not declared with @job")
    runner = get_runner()
    session: Session | None = g.get("db_session") if has_app_context() else None
    if session is not None and session.in_transaction():
        submitted = False

        def _submit(committed: Session) -> None:
            # SQLAlchemy reports a released savepoint (begin_nested) as a commit too: the
            # request's own transaction is still open then, and a job started now would not
            # see its work (in-process, it could wait on the request's locks for ever).
            nonlocal submitted
            if submitted or committed.in_nested_transaction():
                return
            submitted = True
            runner.submit(func, args, queue)

        event.listen(session, "after_commit", _submit)
        return
    runner.submit(func, args, queue)


class EmbeddedScheduler(threading.Thread):
    """Runs due periodic jobs in-process (the embedded default has no rq scheduler)."""

    def __init__(self, app: Flask, *, tick_seconds: float = 5.0) -> None:
        super().__init__(name="periodic-jobs", daemon=True)
        self.app = app
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()
        self._last_run: dict[str, float] = {}

    def run_due(self, now: float) -> list[str]:
        """Submit every periodic job whose interval has passed; return their names."""
        ran = []
        runner = self.app.extensions["jobs"]
        for periodic_job in PERIODIC_JOBS:
            last = self._last_run.get(periodic_job.name)
            if last is None or now - last >= periodic_job.interval_seconds:
                self._last_run[periodic_job.name] = now
                runner.submit(periodic_job.func, (), periodic_job.queue)
                ran.append(periodic_job.name)
        return ran

    def run(self) -> None:
        import time

        while not self._stop_event.wait(0 if not self._last_run else self.tick_seconds):
            self.run_due(time.monotonic())

    def stop(self) -> None:
        self._stop_event.set()


def build_cron_scheduler(redis_url: str):  # type: ignore[no-untyped-def]
    """An rq CronScheduler with every periodic job registered (``flask scheduler`` runs it)."""
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url(redis_url), name="cjji-periodic")
    for periodic_job in PERIODIC_JOBS:
        scheduler.register(
            periodic_job.func,
            periodic_job.queue,
            interval=periodic_job.interval_seconds,
            name=periodic_job.name,
        )
    return scheduler


def init_app(app: Flask, *, redis_url: str, eager: bool) -> None:
    app.extensions["jobs"] = RqRunner(redis_url) if redis_url else InProcessRunner(app, eager=eager)


def start_embedded_scheduler(app: Flask) -> EmbeddedScheduler | None:
    """Start periodic jobs in this process when there is no Redis (the embedded default)."""
    if app.extensions["config"].redis_url:
        return None
    scheduler = EmbeddedScheduler(app)
    scheduler.start()
    app.extensions["embedded_scheduler"] = scheduler
    return scheduler
