"""What records managers and leads do: review and transfer tasks, confirmed events, closing an
inspection, new rule versions and the retention agreement; and what a moved publication date
means for material already destroyed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.clock import clock
from app.db import utcnow
from retention.holds import holds_covering
from retention.models import (
    EVENTS,
    Action,
    RetentionEvent,
    RetentionRule,
    Schedule,
    State,
    Trigger,
)
from retention.rules import (
    RetentionError,
    RuleError,
    describe_rule,
    require_records_manager,
    start_of_day,
    validate_rule,
)
from retention.service import recompute_workspace, reschedule_tenant
from shared_workspace.models import Workspace
from tenants.models import Role, User


def review(
    session: Session,
    user: User,
    schedule: Schedule,
    *,
    outcome: str,
    reason: str,
    new_date: date | None = None,
) -> Schedule:
    """A records manager's review: extend (new date, reason) or approve destruction."""
    require_records_manager(user)
    if schedule.tenant_id != user.tenant_id:
        raise LookupError("schedule")
    if schedule.state not in (State.REVIEW, State.TRANSFER):
        raise RetentionError("This item is not waiting for a review")
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError("Say why, for the record", "reason")
    today = clock.today()
    before = {"state": schedule.state, "disposal_on": str(schedule.disposal_on)}
    if outcome == "extend":
        if new_date is None or new_date <= today:
            raise RetentionError("Choose a new review date after today", "new_date")
        schedule.override_on = new_date
        schedule.override_action = Action.REVIEW.value
        schedule.disposal_on = new_date
        schedule.due_at = start_of_day(new_date)
        schedule.state = State.SCHEDULED.value
    elif outcome == "destroy":
        held = holds_covering(session, schedule)
        if held:
            raise RetentionError(
                f"This item is held ({held[0].reason_kind.replace('_', ' ')}: "
                f"{held[0].reason}): release the hold before approving its destruction",
                "outcome",
            )
        schedule.override_on = today
        schedule.override_action = Action.DESTROY.value
        schedule.action = Action.DESTROY.value
        schedule.disposal_on = today
        schedule.due_at = start_of_day(today)
        schedule.state = State.SCHEDULED.value
    elif outcome == "transferred" and schedule.state == State.TRANSFER:
        schedule.state = State.TRANSFERRED.value
        schedule.ended_at = utcnow()
    else:
        raise RetentionError("Choose extend or approve destruction", "outcome")
    schedule.override_reason = reason[:2000]
    session.flush()
    audit.record(
        session,
        tenant_id=user.tenant_id,
        action="retention.review",
        object_type="retention_schedule",
        object_id=schedule.id,
        changes={
            "outcome": outcome,
            "reason": reason[:500],
            "before": before,
            "after": {"state": schedule.state, "disposal_on": str(schedule.disposal_on)},
        },
    )
    return schedule


def confirm_event(
    session: Session, user: User, workspace: Workspace, name: str, confirmed_on: date
) -> RetentionEvent:
    """An inspectorate confirms an event (its notes transcribed); its schedules follow."""
    if name not in EVENTS:
        raise RetentionError("Choose an event from the list", "name")
    if not (user.has_role(Role.RECORDS_MANAGER) or user.has_role(Role.LEAD_INSPECTOR)):
        raise PermissionError("Records managers and lead inspectors confirm events")
    if confirmed_on > clock.today():
        raise RetentionError(
            "An event is confirmed once it has happened: not a future date", "confirmed_on"
        )
    event = session.scalar(
        select(RetentionEvent).where(
            RetentionEvent.workspace_id == workspace.id,
            RetentionEvent.tenant_id == user.tenant_id,
            RetentionEvent.name == name,
        )
    )
    if event is None:
        event = RetentionEvent(
            workspace_id=workspace.id,
            tenant_id=user.tenant_id,
            name=name,
            confirmed_on=confirmed_on,
            confirmed_by_id=user.id,
        )
        session.add(event)
    else:
        event.confirmed_on = confirmed_on
        event.confirmed_by_id = user.id
    session.flush()
    recompute_workspace(session, workspace)
    return event


def close_workspace(session: Session, user: User, workspace: Workspace, closed_on: date) -> int:
    """The lead closes the inspection (a retention trigger); returns schedules moved."""
    from shared_workspace.service import require_lead

    require_lead(workspace, user, "close the inspection")
    if workspace.published_at is None:
        raise RetentionError("Publish the report before closing the inspection")
    if closed_on > clock.today():
        raise RetentionError("The closure date cannot be in the future", "closed_on")
    from shared_workspace.decisions import is_agreed

    if not is_agreed(session, workspace, "retention_agreement"):
        raise RetentionError(
            "The retention agreement must stand, agreed by every inspectorate on the rules now "
            "in force, before the inspection closes (001 §48): ask each records manager to "
            "approve it on the workspace's retention page"
        )
    workspace.closed_on = closed_on
    session.flush()
    return recompute_workspace(session, workspace)


def publication_date_moved(session: Session, workspace: Workspace, old: date | None) -> list[str]:
    """Recompute after the publication date moved; explain what cannot follow it."""
    recompute_workspace(session, workspace)
    gone = session.scalar(
        select(Schedule.id)
        .where(
            Schedule.workspace_id == workspace.id,
            Schedule.trigger == Trigger.PUBLICATION.value,
            Schedule.state.in_([State.DESTROYED.value, State.RELEASED.value]),
        )
        .limit(1)
    )
    if gone is not None and old is not None and old != workspace.publication_date:
        return [
            "Some material was already destroyed under a rule counted from the old publication "
            f"date ({old:%-d %B %Y}). Destruction cannot be undone: it stays destroyed and its "
            "certificates stand."
        ]
    return []


# --- rules ----------------------------------------------------------------------------------


def add_rule(session: Session, user: User, fields: dict[str, Any]) -> RetentionRule:
    """Save a new version of one of the user's tenant's rules, then reschedule its claims."""
    require_records_manager(user)
    clean = validate_rule(fields)
    clash = session.scalar(
        select(RetentionRule).where(
            RetentionRule.tenant_id == user.tenant_id,
            RetentionRule.material_class == clean["material_class"],
            RetentionRule.sensitivity == clean["sensitivity"],
            RetentionRule.effective_from == clean["effective_from"],
        )
    )
    if clash is not None:
        raise RuleError(
            f"A rule for this class and sensitivity already applies from "
            f"{clean['effective_from']:%-d %B %Y} ({describe_rule(clash)}). Two rules cannot "
            "apply to the same material from the same day: choose another date to replace it.",
            "effective_from",
        )
    rule = RetentionRule(tenant_id=user.tenant_id, created_by_id=user.id, **clean)
    session.add(rule)
    session.flush()
    reschedule_tenant(session, user.tenant_id)
    return rule


def current_rules(session: Session, tenant_id: int) -> list[RetentionRule]:
    """Each class and sensitivity's latest version in effect today (and future versions)."""
    today = clock.today()
    rules = session.scalars(
        select(RetentionRule)
        .where(RetentionRule.tenant_id == tenant_id)
        .order_by(
            RetentionRule.material_class,
            RetentionRule.sensitivity,
            RetentionRule.effective_from.desc(),
        )
    ).all()
    seen: set[tuple[str, str]] = set()
    shown = []
    for rule in rules:
        key = (rule.material_class, rule.sensitivity)
        if rule.effective_from > today:
            shown.append(rule)
        elif key not in seen:
            seen.add(key)
            shown.append(rule)
    return shown


# --- the retention agreement ----------------------------------------------------------------


def agreement_content(session: Session, workspace: Workspace) -> dict[str, Any]:
    """Every participant's current rules side by side: what the agreement proposes."""
    from app.db import purpose
    from retention.rules import RULES_PURPOSE, class_label

    today = clock.today()
    columns = []
    tenants = sorted(workspace.participants, key=lambda p: p.tenant_id)
    with purpose(session, RULES_PURPOSE):
        for participant in tenants:
            rules = session.scalars(
                select(RetentionRule)
                .where(
                    RetentionRule.tenant_id == participant.tenant_id,
                    RetentionRule.effective_from <= today,
                )
                .order_by(RetentionRule.effective_from.desc(), RetentionRule.id.desc())
            ).all()
            latest: dict[tuple[str, str], RetentionRule] = {}
            for rule in rules:
                latest.setdefault((rule.material_class, rule.sensitivity), rule)
            columns.append(
                {
                    "tenant_id": participant.tenant_id,
                    "tenant": participant.tenant.name,
                    "rule_ids": sorted(rule.id for rule in latest.values()),
                    "rules": [
                        {
                            "class": class_label(material_class),
                            "sensitivity": sensitivity,
                            "rule": describe_rule(rule),
                        }
                        for (material_class, sensitivity), rule in sorted(latest.items())
                    ],
                }
            )
    return {
        "tenants": columns,
        "principle": (
            "Joint material follows each inspectorate's rule for its own claim; the item is "
            "destroyed only when no inspectorate still must keep it (001 §48)."
        ),
    }


def propose_agreement(session: Session, workspace: Workspace, user: User) -> Any:
    """Propose (or refresh) the retention agreement from the participants' current rules."""
    from shared_workspace.decisions import create_subject, propose, update_subject
    from shared_workspace.models import Decision, Subject
    from shared_workspace.service import require_lead

    require_lead(workspace, user, "propose the retention agreement")
    content = agreement_content(session, workspace)
    subject = session.scalar(
        select(Subject).where(
            Subject.workspace_id == workspace.id, Subject.kind == "retention_agreement"
        )
    )
    if subject is None:
        subject = create_subject(
            session,
            workspace,
            kind="retention_agreement",
            title="Retention agreement",
            content=content,
            user=user,
        )
    else:
        # A round proposed after a rejection stays that round while the rules stand.
        kept = {k: v for k, v in (subject.content or {}).items() if k in ROUND_KEYS}
        update_subject(session, subject, {**content, **kept}, user)
    decision = session.scalar(
        select(Decision).where(
            Decision.workspace_id == workspace.id,
            Decision.kind == "retention_agreement",
            Decision.status.in_(("open", "agreed")),
        )
    )
    if decision is None:
        _after_rejection(session, workspace, subject, user)
        decision = propose(
            session, workspace, kind="retention_agreement", subject=subject, user=user
        )
    return decision


ROUND_KEYS = ("round", "previous_rejection")


def _after_rejection(session: Session, workspace: Workspace, subject: Any, user: User) -> None:
    """The agreement comes from the participants' rules, which the lead cannot change: after
    a rejection on unchanged rules, the lead proposes it again as a new round that carries
    the rejection's reason, so the inspectorates can settle it (and the inspection can close)."""
    from shared_workspace.decisions import update_subject
    from shared_workspace.models import Approval, Decision

    rejected = session.scalar(
        select(Decision)
        .where(
            Decision.workspace_id == workspace.id,
            Decision.kind == "retention_agreement",
            Decision.status == "rejected",
            Decision.subject_hash == subject.content_hash,
        )
        .order_by(Decision.id.desc())
    )
    if rejected is None:
        return
    reason = session.scalar(
        select(Approval.reason)
        .where(Approval.decision_id == rejected.id, Approval.verdict == "rejected")
        .order_by(Approval.id.desc())
    )
    content = dict(subject.content or {})
    content["round"] = int(content.get("round", 1)) + 1
    content["previous_rejection"] = reason or ""
    update_subject(session, subject, content, user)
