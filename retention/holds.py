"""Holds: a records manager keeps an item, a workspace or all their inspectorate's material
from destruction (legal hold, complaint, FOI request, follow-up inspection), with a reason and
a review date. A hold covers its own inspectorate's claims; the sweep never ends a held claim,
so joint material stays while any owner's claim on it is held."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import utcnow
from retention.models import HOLD_REASONS, Hold, HoldScope, Schedule
from retention.rules import RetentionError, require_records_manager
from shared_workspace.models import Workspace
from tenants.models import User


def _hold_filter(schedule_table: Any) -> Any:
    """SQL: an active hold of the claim's tenant covers it."""
    return (
        select(Hold.id)
        .where(
            Hold.tenant_id == schedule_table.tenant_id,
            Hold.released_at.is_(None),
            or_(
                Hold.scope == HoldScope.TENANT.value,
                and_(
                    Hold.scope == HoldScope.WORKSPACE.value,
                    Hold.workspace_id == schedule_table.workspace_id,
                ),
                and_(
                    Hold.scope == HoldScope.ITEM.value,
                    Hold.material_type == schedule_table.material_type,
                    Hold.material_id == schedule_table.material_id,
                ),
            ),
        )
        .exists()
    )


def not_held(schedule_table: Any = Schedule) -> Any:
    return ~_hold_filter(schedule_table)


def holds_covering(session: Session, schedule: Schedule) -> list[Hold]:
    return list(
        session.scalars(
            select(Hold).where(
                Hold.tenant_id == schedule.tenant_id,
                Hold.released_at.is_(None),
                or_(
                    Hold.scope == HoldScope.TENANT.value,
                    and_(
                        Hold.scope == HoldScope.WORKSPACE.value,
                        Hold.workspace_id == schedule.workspace_id,
                    ),
                    and_(
                        Hold.scope == HoldScope.ITEM.value,
                        Hold.material_type == schedule.material_type,
                        Hold.material_id == schedule.material_id,
                    ),
                ),
            )
        )
    )


def place_hold(
    session: Session,
    user: User,
    *,
    scope: str,
    reason_kind: str,
    reason: str,
    review_on: date | None,
    workspace_id: int | None = None,
    material_type: str = "",
    material_id: int | None = None,
) -> Hold:
    require_records_manager(user)
    if scope not in {s.value for s in HoldScope}:
        raise RetentionError(
            "Hold an item, a workspace or all your inspectorate's material", "scope"
        )
    if reason_kind not in HOLD_REASONS:
        raise RetentionError(
            "Choose why: legal, complaint, FOI request, follow-up or other", "reason_kind"
        )
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError(
            "Say why the material is held, e.g. the case or request reference", "reason"
        )
    if len(reason) > 2000:
        raise RetentionError("Keep the reason to 2,000 characters", "reason")
    if review_on is None:
        raise RetentionError("Give a date to review the hold", "review_on")
    if review_on < clock.today():
        raise RetentionError("The review date must be today or later", "review_on")
    if scope == HoldScope.WORKSPACE and (
        workspace_id is None or session.get(Workspace, workspace_id) is None
    ):
        raise LookupError("workspace")
    if scope == HoldScope.ITEM:
        claim = session.scalar(
            select(Schedule).where(
                Schedule.tenant_id == user.tenant_id,
                Schedule.material_type == material_type,
                Schedule.material_id == material_id,
            )
        )
        if claim is None:
            raise LookupError("item")
        workspace_id = claim.workspace_id
    hold = Hold(
        tenant_id=user.tenant_id,
        scope=scope,
        workspace_id=workspace_id if scope != HoldScope.TENANT else None,
        material_type=material_type if scope == HoldScope.ITEM else "",
        material_id=material_id if scope == HoldScope.ITEM else None,
        reason_kind=reason_kind,
        reason=reason,
        review_on=review_on,
        placed_by_id=user.id,
    )
    session.add(hold)
    session.flush()
    return hold


def release_hold(session: Session, user: User, hold: Hold, reason: str) -> int:
    """Release a hold; returns how many claims it held that are now due at once."""
    require_records_manager(user)
    if hold.released_at is not None:
        raise RetentionError("This hold is already released")
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError("Say why the hold is released", "reason")
    hold.released_at = utcnow()
    hold.released_by_id = user.id
    hold.release_reason = reason[:2000]
    session.flush()
    from retention.service import due_claims

    return len(due_claims(session, user.tenant_id, clock.now(), limit=100_000))
