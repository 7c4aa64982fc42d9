"""A periodic heartbeat job: proves the scheduler and workers run; /readyz reports it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, utcnow
from app.jobs import job, periodic

HEARTBEAT_INTERVAL_SECONDS = 60


class JobHeartbeat(Base):
    """The last time each periodic job ran (platform-wide, not tenant-owned)."""

    __tablename__ = "job_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_run_at: Mapped[datetime]
    runs: Mapped[int] = mapped_column(Integer, default=0)


def beat(session: Session, name: str) -> JobHeartbeat:
    """Record that ``name`` ran now; safe to repeat."""
    row = session.get(JobHeartbeat, name)
    if row is None:
        row = JobHeartbeat(name=name, last_run_at=utcnow(), runs=0)
        session.add(row)
    row.last_run_at = utcnow()
    row.runs += 1
    session.flush()
    return row


def last_heartbeat(session: Session, name: str = "scheduler") -> datetime | None:
    return session.scalar(select(JobHeartbeat.last_run_at).where(JobHeartbeat.name == name))


@periodic(HEARTBEAT_INTERVAL_SECONDS)
@job
def record_scheduler_heartbeat(session: Session) -> None:
    beat(session, "scheduler")
