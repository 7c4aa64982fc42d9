"""Reads the retention pages and API need beyond the core service: pages of a workspace's
claims and items, certificates and their tombstones, which claims an inspectorate's holds
cover, and whether a workspace has material nobody has scheduled yet.

Claims on joint material name other inspectorates' rules, so claims are read under the
read-only rules purpose (as the service does to schedule them); everything else stays scoped
to the acting tenant.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from app.db import purpose
from retention.models import (
    Certificate,
    Hold,
    HoldScope,
    MaterialType,
    RetentionEvent,
    RetentionRule,
    Schedule,
    State,
)
from retention.rules import RULES_PURPOSE
from shared_workspace.documents.models import Document
from shared_workspace.evidence.models import EvidenceFile, FileState
from shared_workspace.models import PrivateNote, Workspace

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: Totals are counted up to this many rows; beyond it a list says "more than".
COUNT_CAP = 1000


@dataclass
class Page:
    rows: list[Any]
    total: int
    total_is_capped: bool
    next_cursor: str | None


@dataclass
class Item:
    """One item of material and every claim on it the acting tenant can see."""

    material_type: str
    material_id: int
    claims: list[Schedule] = field(default_factory=list)

    @property
    def first(self) -> Schedule:
        return self.claims[0]


def page_size(value: str | int | None, default: int = PAGE_SIZE) -> int:
    """A page size from a query string: a whole number between 1 and MAX_PAGE_SIZE."""
    if isinstance(value, str):
        value = int(value) if value.isdecimal() and len(value) < 6 else None
    return max(1, min(value or default, MAX_PAGE_SIZE))


def encode_cursor(*parts: object) -> str:
    text = ":".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int = 1) -> list[str] | None:
    """The parts of a cursor; a cursor that does not decode starts at the top."""
    if not cursor or len(cursor) > 200:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    parts = text.split(":")
    if len(parts) != arity or not parts[-1].isdecimal() or not 0 < int(parts[-1]) < 2**31:
        return None
    return parts


def _id_after(cursor: str | None) -> int | None:
    parts = decode_cursor(cursor)
    return int(parts[0]) if parts else None


def _count(session: Session, query: Any) -> tuple[int, bool]:
    capped = query.limit(COUNT_CAP + 1).subquery()
    counted = session.scalar(select(func.count()).select_from(capped)) or 0
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def _claims(session: Session, query: Any) -> list[Schedule]:
    """Run a query for claims with every claim's rule loaded, other inspectorates' too."""
    with purpose(session, RULES_PURPOSE):
        return list(session.scalars(query.execution_options(populate_existing=True)).unique())


def rule_versions(session: Session, tenant_id: int) -> list[RetentionRule]:
    """Every version of the tenant's rules, by class and sensitivity, newest first."""
    return list(
        session.scalars(
            select(RetentionRule)
            .where(RetentionRule.tenant_id == tenant_id)
            .order_by(
                RetentionRule.material_class,
                RetentionRule.sensitivity,
                RetentionRule.effective_from.desc(),
                RetentionRule.id.desc(),
            )
        )
    )


# --- a workspace's claims ------------------------------------------------------------------


def claims_page(
    session: Session,
    workspace_id: int,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    state: str | None = None,
) -> Page:
    """One page of the workspace's claims the acting tenant can see, oldest first."""
    conditions = [Schedule.workspace_id == workspace_id]
    if state:
        conditions.append(Schedule.state == state)
    total, capped = _count(session, select(Schedule.id).where(*conditions))
    after = _id_after(cursor)
    query = select(Schedule).where(*conditions)
    if after is not None:
        query = query.where(Schedule.id > after)
    rows = _claims(session, query.order_by(Schedule.id).limit(limit + 1))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(rows[:limit], total, capped, next_cursor)


def items_page(
    session: Session, workspace_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of the workspace's items (by type, then id), each with its visible claims.

    Two queries whatever the page size: the page's items, then their claims."""
    keys = select(Schedule.material_type, Schedule.material_id).where(
        Schedule.workspace_id == workspace_id
    )
    total, capped = _count(session, keys.distinct())
    parts = decode_cursor(cursor, 2)
    if parts is not None:
        keys = keys.where(
            tuple_(Schedule.material_type, Schedule.material_id) > (parts[0], int(parts[1]))
        )
    found = session.execute(
        keys.distinct().order_by(Schedule.material_type, Schedule.material_id).limit(limit + 1)
    ).all()
    next_cursor = encode_cursor(*found[limit - 1]) if len(found) > limit else None
    found = found[:limit]
    items = {(t, i): Item(t, i) for t, i in found}
    if items:
        by_type: dict[str, list[int]] = {}
        for material_type, material_id in items:
            by_type.setdefault(material_type, []).append(material_id)
        claims = _claims(
            session,
            select(Schedule)
            .where(
                Schedule.workspace_id == workspace_id,
                or_(
                    *(
                        and_(Schedule.material_type == t, Schedule.material_id.in_(ids))
                        for t, ids in by_type.items()
                    )
                ),
            )
            .order_by(Schedule.tenant_id),
        )
        for claim in claims:
            items[(claim.material_type, claim.material_id)].claims.append(claim)
    return Page([item for item in items.values() if item.claims], total, capped, next_cursor)


def item_claims(
    session: Session, workspace_id: int, material_type: str, material_id: int
) -> list[Schedule]:
    """Every claim on one item of the workspace that the acting tenant can see."""
    return _claims(
        session,
        select(Schedule)
        .where(
            Schedule.workspace_id == workspace_id,
            Schedule.material_type == material_type,
            Schedule.material_id == material_id,
        )
        .order_by(Schedule.tenant_id),
    )


def evidence_item_id(session: Session, file_id: int) -> int | None:
    """The evidence item a file belongs to, if the acting tenant can see the file."""
    return session.scalar(select(EvidenceFile.item_id).where(EvidenceFile.id == file_id))


def events(session: Session, workspace_id: int) -> list[RetentionEvent]:
    return list(
        session.scalars(
            select(RetentionEvent)
            .where(RetentionEvent.workspace_id == workspace_id)
            .order_by(RetentionEvent.confirmed_on, RetentionEvent.id)
        )
    )


def needs_sync(session: Session, workspace: Workspace, tenant_id: int) -> bool:
    """Whether some material of the workspace the tenant can see lacks the tenant's claim:
    three indexed existence checks, so pages can afford to ask before scheduling."""

    def unclaimed(material_type: MaterialType, column: Any) -> Any:
        return ~exists().where(
            Schedule.material_type == material_type.value,
            Schedule.material_id == column,
            Schedule.tenant_id == tenant_id,
        )

    checks = [
        select(EvidenceFile.id).where(
            EvidenceFile.workspace_id == workspace.id,
            EvidenceFile.state == FileState.CLEAN.value,
            unclaimed(MaterialType.EVIDENCE_FILE, EvidenceFile.id),
        ),
        select(Document.id).where(
            Document.workspace_id == workspace.id,
            Document.destroyed_at.is_(None),
            unclaimed(MaterialType.DOCUMENT, Document.id),
        ),
        select(PrivateNote.id).where(
            PrivateNote.workspace_id == workspace.id,
            PrivateNote.tenant_id == tenant_id,
            PrivateNote.destroyed_at.is_(None),
            unclaimed(MaterialType.PRIVATE_NOTE, PrivateNote.id),
        ),
    ]
    return any(session.scalar(check.limit(1)) is not None for check in checks)


# --- holds ---------------------------------------------------------------------------------


def holds(session: Session, tenant_id: int, *, active: bool | None = None) -> list[Hold]:
    """The tenant's holds, active ones first, newest first (at most 1,000)."""
    query = select(Hold).where(Hold.tenant_id == tenant_id)
    if active is True:
        query = query.where(Hold.released_at.is_(None))
    elif active is False:
        query = query.where(Hold.released_at.is_not(None))
    return list(
        session.scalars(
            query.order_by(
                Hold.released_at.is_not(None), Hold.placed_at.desc(), Hold.id.desc()
            ).limit(1000)
        )
    )


def covers(hold: Hold, claim: Schedule) -> bool:
    """Whether an active hold keeps this claim (the same test the sweep makes in SQL)."""
    if hold.released_at is not None or hold.tenant_id != claim.tenant_id:
        return False
    if hold.scope == HoldScope.TENANT:
        return True
    if hold.scope == HoldScope.WORKSPACE:
        return hold.workspace_id == claim.workspace_id
    return (hold.material_type, hold.material_id) == (claim.material_type, claim.material_id)


def held_claim_ids(active_holds: list[Hold], claims: list[Schedule]) -> set[int]:
    return {c.id for c in claims if any(covers(h, c) for h in active_holds)}


def workspace_titles(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(Workspace.id, Workspace.title).where(Workspace.id.in_(ids))).all()
    )


# --- certificates --------------------------------------------------------------------------


def certificates_page(
    session: Session, tenant_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """The tenant's destruction certificates, newest first."""
    conditions = [Certificate.tenant_id == tenant_id]
    total, capped = _count(session, select(Certificate.id).where(*conditions))
    before = _id_after(cursor)
    query = select(Certificate).where(*conditions)
    if before is not None:
        query = query.where(Certificate.id < before)
    rows = list(session.scalars(query.order_by(Certificate.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(rows[:limit], total, capped, next_cursor)


def _tombstones(certificate: Certificate) -> Any:
    return select(Schedule).where(
        Schedule.certificate_id == certificate.id, Schedule.tenant_id == certificate.tenant_id
    )


def tombstones_page(
    session: Session,
    certificate: Certificate,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """The claims a certificate ended (their rows are the tombstones), in id order."""
    after = _id_after(cursor)
    query = _tombstones(certificate)
    if after is not None:
        query = query.where(Schedule.id > after)
    rows = list(session.scalars(query.order_by(Schedule.id).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(rows[:limit], certificate.items, False, next_cursor)


def all_tombstones(
    session: Session, certificate: Certificate, limit: int | None = None
) -> Iterator[Schedule]:
    """Every tombstone of a certificate, read in batches (exports)."""
    query = _tombstones(certificate).order_by(Schedule.id)
    if limit is not None:
        query = query.limit(limit)
    yield from session.scalars(query.execution_options(yield_per=1000))


def due_soon(session: Session, tenant_id: int, until: datetime) -> int:
    """How many of the tenant's claims are due for destruction by ``until`` (a dashboard
    figure: the preview lists them)."""
    from retention.holds import not_held
    from retention.models import Action

    return (
        session.scalar(
            select(func.count(Schedule.id)).where(
                Schedule.tenant_id == tenant_id,
                Schedule.state == State.SCHEDULED.value,
                Schedule.action == Action.DESTROY.value,
                Schedule.due_at < until,
                not_held(),
            )
        )
        or 0
    )


def tasks_count(session: Session, tenant_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Schedule.id)).where(
                Schedule.tenant_id == tenant_id,
                Schedule.state.in_([State.REVIEW.value, State.TRANSFER.value]),
            )
        )
        or 0
    )


def format_day(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else ""
