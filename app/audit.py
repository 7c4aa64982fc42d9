"""The audit log: append-only, hash-chained per tenant, written in the same transaction as
the change it records.

Every insert, update and delete of a model that carries ``tenant_id`` (or declares
``__audit_tenant_column__``) is recorded automatically at flush; sign-ins, downloads and
other events that change no row are recorded with ``record()``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, utcnow

GENESIS = "0" * 64
REDACTED = "[redacted]"


class AuditEvent(Base):
    """One recorded change. Rows are never updated or deleted (the database refuses)."""

    __tablename__ = "audit_events"
    __tenant_owned__ = True
    __audit_skip__ = True

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    #: Position in the tenant's chain, from 1 without gaps.
    seq: Mapped[int] = mapped_column(Integer)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_tenant_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(400), default="")
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(100), default="")
    #: {"field": [before, after]} for updates; the new or old values for inserts and deletes.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    # No RETURNING on insert: PostgreSQL would then also demand SELECT rights on the new row,
    # which a platform administrator writing to another tenant's chain does not have.
    __table_args__ = (UniqueConstraint("tenant_id", "seq"), {"implicit_returning": False})


class AuditChainHead(Base):
    """The latest link of each tenant's chain; locked while a link is appended."""

    __tablename__ = "audit_chain_heads"
    __tenant_owned__ = True
    __audit_skip__ = True

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


HASHED_FIELDS = (
    "tenant_id",
    "seq",
    "actor_user_id",
    "actor_tenant_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "changes",
    "request_id",
    "ip_address",
    "created_at",
    "prev_hash",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _normalise_time(value: datetime) -> str:
    """UTC, without an offset: SQLite returns naive UTC, PostgreSQL aware times in the
    session's time zone; the chain must hash the same text either way."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def compute_hash(row: dict[str, Any]) -> str:
    payload = {name: row[name] for name in HASHED_FIELDS}
    payload["created_at"] = _normalise_time(payload["created_at"])
    text = json.dumps(_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    tenant_id: int | None
    label: str


def current_actor(session: Session) -> Actor:
    actor = session.info.get("actor")
    if isinstance(actor, Actor):
        return actor
    return Actor(None, None, session.info.get("actor_label", "system"))


def _request_meta() -> tuple[str, str]:
    if not has_request_context():
        return "", ""
    return g.get("request_id", "") or "", (request.remote_addr or "")[:64]


def _insert_ignoring_conflict(connection: Connection, heads: Any, tenant_id: int) -> Any:
    """The first link of a chain: two writers may race to create the head; one wins."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return (
        dialect_insert(heads)
        .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )


def _append(
    connection: Connection, session: Session, tenant_id: int, entry: dict[str, Any]
) -> None:
    """Append one link to ``tenant_id``'s chain under a row lock on its head."""
    heads = AuditChainHead.__table__
    head = connection.execute(
        select(heads.c.seq, heads.c.hash).where(heads.c.tenant_id == tenant_id).with_for_update()
    ).first()
    if head is None:
        connection.execute(_insert_ignoring_conflict(connection, heads, tenant_id))
        head = connection.execute(
            select(heads.c.seq, heads.c.hash)
            .where(heads.c.tenant_id == tenant_id)
            .with_for_update()
        ).first()
    assert head is not None
    actor = current_actor(session)
    request_id, ip_address = _request_meta()
    row = {
        "tenant_id": tenant_id,
        "seq": head.seq + 1,
        "actor_user_id": actor.user_id,
        "actor_tenant_id": actor.tenant_id,
        "actor_label": actor.label[:400],
        "action": entry["action"][:100],
        "object_type": entry["object_type"][:100],
        "object_id": str(entry.get("object_id") or "")[:100],
        "changes": _jsonable(entry.get("changes") or {}),
        "request_id": request_id,
        "ip_address": ip_address,
        "created_at": utcnow(),
        "prev_hash": head.hash,
    }
    row["hash"] = compute_hash(row)
    connection.execute(insert(AuditEvent.__table__).values(**row))
    connection.execute(
        update(heads).where(heads.c.tenant_id == tenant_id).values(seq=row["seq"], hash=row["hash"])
    )


def record(
    session: Session,
    *,
    tenant_id: int,
    action: str,
    object_type: str,
    object_id: object = "",
    changes: dict[str, Any] | None = None,
) -> None:
    """Append an event to ``tenant_id``'s chain in the session's current transaction."""
    _append(
        session.connection(),
        session,
        tenant_id,
        {"action": action, "object_type": object_type, "object_id": object_id, "changes": changes},
    )


def _tenant_of(obj: Any, session: Session | None = None) -> int | None:
    """The chain an object's change is written to: its tenant's, or for joint material in a
    workspace, the acting tenant's."""
    if getattr(obj, "__workspace_scoped__", False) and session is not None:
        acting = session.info.get("tenant_id")
        return acting if isinstance(acting, int) else None
    column = getattr(obj, "__audit_tenant_column__", "tenant_id")
    value = getattr(obj, column, None)
    return value if isinstance(value, int) else None


def _primary_key(obj: Any) -> str:
    identity = inspect(obj).identity
    return ":".join(str(v) for v in identity) if identity else ""


def _snapshot(obj: Any) -> dict[str, Any]:
    redact = getattr(obj, "__audit_redact__", frozenset())
    values = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        values[attr.key] = REDACTED if attr.key in redact and value is not None else value
    return values


def _diff(obj: Any) -> dict[str, list[Any]]:
    redact = getattr(obj, "__audit_redact__", frozenset())
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        if attr.key in redact:
            before, after = REDACTED if before else None, REDACTED
        changes[attr.key] = [before, after]
    return changes


def _audited(obj: Any, session: Session) -> bool:
    return not getattr(obj, "__audit_skip__", False) and _tenant_of(obj, session) is not None


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context: Any) -> None:
    entries: list[tuple[int, dict[str, Any]]] = []
    for obj in session.new:
        if _audited(obj, session):
            entries.append((_tenant_of(obj, session), _entry(obj, "created", _snapshot(obj))))  # type: ignore[arg-type]
    for obj in session.dirty:
        if _audited(obj, session) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj)
            if changes:
                entries.append((_tenant_of(obj, session), _entry(obj, "updated", changes)))  # type: ignore[arg-type]
    for obj in session.deleted:
        if _audited(obj, session):
            entries.append((_tenant_of(obj, session), _entry(obj, "deleted", _snapshot(obj))))  # type: ignore[arg-type]
    if not entries:
        return
    connection = session.connection()
    for tenant_id, entry in sorted(entries, key=lambda e: e[0]):
        _append(connection, session, tenant_id, entry)


def _entry(obj: Any, verb: str, changes: dict[str, Any]) -> dict[str, Any]:
    object_type = obj.__tablename__.removesuffix("s")
    return {
        "action": f"{object_type}.{verb}",
        "object_type": object_type,
        "object_id": _primary_key(obj),
        "changes": changes,
    }


@dataclass(frozen=True)
class ChainProblem:
    tenant_id: int
    event_id: int | None
    seq: int
    reason: str


def verify_chain(session: Session, tenant_id: int) -> ChainProblem | None:
    """Return the first broken link of ``tenant_id``'s chain, or None when it is intact."""
    expected_prev = GENESIS
    expected_seq = 1
    last_hash = GENESIS
    rows = session.execute(
        select(AuditEvent.__table__)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.seq)
    ).mappings()
    for row in rows:
        if row["seq"] != expected_seq:
            return ChainProblem(
                tenant_id, row["id"], expected_seq, f"link {expected_seq} is missing"
            )
        if row["prev_hash"] != expected_prev:
            return ChainProblem(
                tenant_id, row["id"], row["seq"], "does not follow the previous link"
            )
        if compute_hash(dict(row)) != row["hash"]:
            return ChainProblem(
                tenant_id, row["id"], row["seq"], "was changed after it was written"
            )
        expected_prev = last_hash = row["hash"]
        expected_seq += 1
    head = session.get(AuditChainHead, tenant_id)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, last_hash):
        return ChainProblem(
            tenant_id,
            None,
            head.seq,
            f"the chain ends at {expected_seq - 1} but should reach {head.seq}",
        )
    return None
