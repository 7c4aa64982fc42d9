"""Schedules: which rule applies to each item, when its trigger falls, what happens and why,
and what is due.

Functions take a session scoped to the acting tenant. Where a workspace fact moves every
participant's schedules (publication date, closure, the agreement), each participant's
claims are recomputed under that participant's own scope (``as_tenant``), because claims on
an inspectorate's private material are visible to it alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import CONTEXT_SETTINGS, set_context, utcnow
from retention.holds import holds_covering, not_held
from retention.models import (
    ACTION_LABELS,
    ENDED_STATES,
    HOLD_REASONS,
    OPEN_STATES,
    Action,
    MaterialType,
    RetentionEvent,
    RetentionRule,
    Schedule,
    State,
    Trigger,
)
from retention.rules import (
    NOTE_CHAIN,
    RetentionError,
    RuleBook,
    describe_rule,
    disposal_date,
    document_chain,
    evidence_chain,
    start_of_day,
)
from shared_workspace.documents.models import Document
from shared_workspace.evidence.models import EvidenceFile, EvidenceItem, FileState
from shared_workspace.models import Participant, PrivateNote, Workspace
from tenants.models import Tenant

#: Records managers and lead inspectors hear about destruction this many days ahead, unless
#: their records managers chose otherwise. HMCPSI destroys all but data and the published
#: report the day before publication, while the report is still being finished: its people
#: (and every partner's lead inspector) hear a month ahead.
WARNING_DAYS = 14
FOUNDING_WARNING_DAYS = {"hmcpsi": 28}
MAX_WARNING_DAYS = 365


def warning_days(session: Session, tenant: Tenant) -> int:
    """How many days ahead the tenant's people hear about destruction."""
    from retention.models import RetentionSettings

    with as_tenant(session, tenant.id):
        row = session.get(RetentionSettings, tenant.id)
    if row is not None:
        return row.warning_days
    return FOUNDING_WARNING_DAYS.get(tenant.slug, WARNING_DAYS)


def set_warning_days(session: Session, user: Any, days: object) -> int:
    """A records manager sets how many days ahead their inspectorate hears of destruction."""
    from retention.models import RetentionSettings
    from retention.rules import require_records_manager

    require_records_manager(user)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WARNING_DAYS:
        raise RetentionError(
            f"Enter a whole number of days from 1 to {MAX_WARNING_DAYS}", "warning_days"
        )
    row = session.get(RetentionSettings, user.tenant_id)
    if row is None:
        row = RetentionSettings(tenant_id=user.tenant_id, warning_days=days)
        session.add(row)
    row.warning_days = days
    row.updated_by_id = user.id
    row.updated_at = utcnow()
    session.flush()
    return days


@contextmanager
def as_tenant(session: Session, tenant_id: int) -> Iterator[Session]:
    """Act for ``tenant_id`` (the system recomputing its schedules), then restore."""
    saved = {key: session.info.get(key) for key in CONTEXT_SETTINGS}
    set_context(session, tenant_id=tenant_id)
    try:
        yield session
    finally:
        set_context(
            session,
            tenant_id=saved["tenant_id"],
            user_id=saved["user_id"],
            purpose=saved["purpose"],
            platform_admin=saved["platform_admin"] == "on",
        )


# --- what an item is ------------------------------------------------------------------------


@dataclass
class Material:
    type: MaterialType
    id: int
    workspace_id: int
    owner_tenant_id: int
    joint: bool
    title: str
    chain: list[str]
    sensitivity: str
    created_on: date
    object_key: str = ""
    sha256: str = ""


def _day(moment: datetime) -> date:
    return moment.date() if moment.tzinfo is None else moment.astimezone().date()


def evidence_material(item: EvidenceItem, file: EvidenceFile) -> Material:
    sensitive = (
        item.protective_marking == "OFFICIAL-SENSITIVE" or item.retention_class == "sensitive"
    )
    return Material(
        MaterialType.EVIDENCE_FILE,
        file.id,
        file.workspace_id,
        item.tenant_id,
        item.visibility == "workspace",
        f"{item.title}: {file.filename}"[:300],
        evidence_chain(item.method, item.retention_class),
        "sensitive" if sensitive else "standard",
        _day(file.created_at),
        file.evidence_key,
        file.sha256 or "",
    )


def document_material(document: Document, lead_tenant_id: int) -> Material:
    return Material(
        MaterialType.DOCUMENT,
        document.id,
        document.workspace_id,
        lead_tenant_id,
        True,
        document.title,
        document_chain(document.kind),
        "sensitive" if document.marking == "OFFICIAL-SENSITIVE" else "standard",
        _day(document.created_at),
    )


def note_material(note: PrivateNote) -> Material:
    return Material(
        MaterialType.PRIVATE_NOTE,
        note.id,
        note.workspace_id,
        note.tenant_id,
        False,
        note.title,
        list(NOTE_CHAIN),
        "standard",
        _day(note.created_at),
    )


# --- computing schedules --------------------------------------------------------------------


@dataclass(frozen=True)
class Triggers:
    """The dates a workspace's triggers fall on, as far as they are known."""

    publication: date | None
    closure: date | None
    events: dict[tuple[int, str], date]

    def date_for(self, rule: RetentionRule, tenant_id: int, created_on: date) -> date | None:
        if rule.trigger == Trigger.PUBLICATION:
            return self.publication
        if rule.trigger == Trigger.UPLOAD:
            return created_on
        if rule.trigger == Trigger.CLOSURE:
            return self.closure
        return self.events.get((tenant_id, rule.event_name))


def workspace_triggers(session: Session, workspace: Workspace) -> Triggers:
    published = workspace.published_at.date() if workspace.published_at else None
    events = {
        (event.tenant_id, event.name): event.confirmed_on
        for event in session.scalars(
            select(RetentionEvent).where(RetentionEvent.workspace_id == workspace.id)
        )
    }
    return Triggers(workspace.publication_date or published, workspace.closed_on, events)


def agreed_rule_ids(session: Session, workspace: Workspace) -> set[int] | None:
    """The rule versions the agreed retention agreement pins for joint material, if agreed."""
    from shared_workspace.decisions import agreed_decision

    decision = agreed_decision(session, workspace, "retention_agreement")
    if decision is None:
        return None
    content = decision.subject.content or {}
    return {int(rule_id) for column in content.get("tenants", []) for rule_id in column["rule_ids"]}


def _fields(
    rule: RetentionRule | None, triggers: Triggers, tenant_id: int, created_on: date
) -> dict[str, Any]:
    """The schedule columns a rule sets for one claim."""
    if rule is None:
        return {
            "rule_id": None,
            "trigger": "",
            "trigger_on": None,
            "action": "",
            "disposal_on": None,
            "due_at": None,
            "state": State.UNRULED.value,
        }
    fields: dict[str, Any] = {"rule_id": rule.id, "trigger": rule.trigger, "action": rule.action}
    if rule.action == Action.RETAIN:
        return fields | {
            "trigger_on": None,
            "disposal_on": None,
            "due_at": None,
            "state": State.RETAINED.value,
        }
    trigger_on = triggers.date_for(rule, tenant_id, created_on)
    if trigger_on is None:
        return fields | {
            "trigger_on": None,
            "disposal_on": None,
            "due_at": None,
            "state": State.WAITING.value,
        }
    disposal = disposal_date(trigger_on, rule.offset_amount, rule.offset_unit)
    return fields | {
        "trigger_on": trigger_on,
        "disposal_on": disposal,
        "due_at": start_of_day(disposal),
        "state": State.SCHEDULED.value,
    }


def claimants(workspace: Workspace, material: Material) -> list[int]:
    if material.joint:
        return sorted(p.tenant_id for p in workspace.participants)
    return [material.owner_tenant_id]


def schedule_material(session: Session, material: Material) -> list[Schedule]:
    """Create (or bring up to date) every claim on one item; the session may see them all."""
    workspace = session.get(Workspace, material.workspace_id)
    if workspace is None:
        raise RetentionError("The workspace of this item is not visible")
    tenants = claimants(workspace, material)
    book = RuleBook(session, tenants)
    triggers = workspace_triggers(session, workspace)
    allowed = agreed_rule_ids(session, workspace) if material.joint else None
    existing = {
        row.tenant_id: row
        for row in session.scalars(
            select(Schedule).where(
                Schedule.material_type == material.type.value,
                Schedule.material_id == material.id,
            )
        )
    }
    rows = []
    for tenant_id in tenants:
        rule = book.resolve(
            tenant_id, material.chain, material.sensitivity, material.created_on, allowed
        )
        fields = _fields(rule, triggers, tenant_id, material.created_on)
        row = existing.get(tenant_id)
        if row is None:
            row = Schedule(
                workspace_id=material.workspace_id,
                tenant_id=tenant_id,
                visibility="workspace" if material.joint else "inspectorate",
                material_type=material.type.value,
                material_id=material.id,
                owner_tenant_id=material.owner_tenant_id,
                joint=material.joint,
                title=material.title,
                object_key=material.object_key,
                sha256=material.sha256,
                material_class=",".join(material.chain),
                sensitivity=material.sensitivity,
                created_on=material.created_on,
                **fields,
            )
            session.add(row)
        elif row.state in OPEN_STATES and row.override_on is None and not row.override_action:
            for key, value in fields.items():
                setattr(row, key, value)
            row.sha256 = material.sha256 or row.sha256
        rows.append(row)
    session.flush()
    return rows


def schedule_evidence_file(session: Session, file: EvidenceFile) -> list[Schedule]:
    item = session.get(EvidenceItem, file.item_id)
    assert item is not None
    return schedule_material(session, evidence_material(item, file))


def schedule_document(session: Session, document: Document) -> list[Schedule]:
    workspace = session.get(Workspace, document.workspace_id)
    assert workspace is not None
    return schedule_material(session, document_material(document, workspace.lead_tenant_id))


def schedule_note(session: Session, note: PrivateNote) -> list[Schedule]:
    return schedule_material(session, note_material(note))


def sync_workspace(session: Session, workspace: Workspace) -> int:
    """Schedule every item of the workspace the acting tenant can see that lacks a claim
    (material added before retention existed, a participant who joined later)."""
    participants = {p.tenant_id for p in workspace.participants}
    claimed: dict[tuple[str, int], set[int]] = {}
    for material_type, material_id, tenant_id in session.execute(
        select(Schedule.material_type, Schedule.material_id, Schedule.tenant_id).where(
            Schedule.workspace_id == workspace.id
        )
    ):
        claimed.setdefault((material_type, material_id), set()).add(tenant_id)
    added = 0

    def missing(material: Material) -> bool:
        have = claimed.get((material.type.value, material.id), set())
        return not set(claimants(workspace, material)) <= have

    files = session.execute(
        select(EvidenceFile, EvidenceItem)
        .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
        .where(EvidenceFile.workspace_id == workspace.id, EvidenceFile.state == FileState.CLEAN)
    ).all()
    materials = [evidence_material(item, file) for file, item in files]
    materials += [
        document_material(document, workspace.lead_tenant_id)
        for document in session.scalars(
            select(Document).where(
                Document.workspace_id == workspace.id, Document.destroyed_at.is_(None)
            )
        )
    ]
    materials += [
        note_material(note)
        for note in session.scalars(
            select(PrivateNote).where(
                PrivateNote.workspace_id == workspace.id, PrivateNote.destroyed_at.is_(None)
            )
        )
    ]
    for material in materials:
        if missing(material) and (
            material.joint or material.owner_tenant_id == session.info.get("tenant_id")
        ):
            schedule_material(session, material)
            added += 1
    del participants
    return added


def recompute_workspace(session: Session, workspace: Workspace) -> int:
    """Recompute every open claim in the workspace, each participant under its own scope.

    Claims sharing a rule share a trigger date, so each (participant, rule) group is one
    set-based UPDATE: moving a publication date costs a handful of statements, not one per
    item. Claims a review overrode, tasks, claims in flight and ended claims stay as they are.
    """
    triggers = workspace_triggers(session, workspace)
    tenants = sorted(p.tenant_id for p in workspace.participants)
    book = RuleBook(session, tenants)
    changed = 0
    for tenant_id in tenants:
        with as_tenant(session, tenant_id):
            groups = session.execute(
                select(Schedule.rule_id)
                .where(
                    Schedule.workspace_id == workspace.id,
                    Schedule.tenant_id == tenant_id,
                    Schedule.state.in_([s.value for s in OPEN_STATES]),
                    Schedule.rule_id.is_not(None),
                    Schedule.override_on.is_(None),
                    Schedule.override_action == "",
                )
                .group_by(Schedule.rule_id)
            ).all()
            for (rule_id,) in groups:
                rule = book.by_id.get(rule_id)
                if rule is None or rule.trigger == Trigger.UPLOAD:
                    continue  # an upload date never moves with the workspace
                fields = _fields(rule, triggers, tenant_id, date.min)
                result = session.execute(
                    update(Schedule)
                    .where(
                        Schedule.workspace_id == workspace.id,
                        Schedule.tenant_id == tenant_id,
                        Schedule.rule_id == rule_id,
                        Schedule.state.in_([s.value for s in OPEN_STATES]),
                        Schedule.override_on.is_(None),
                        Schedule.override_action == "",
                    )
                    .values(
                        trigger_on=fields["trigger_on"],
                        disposal_on=fields["disposal_on"],
                        due_at=fields["due_at"],
                        state=fields["state"],
                    )
                    .execution_options(synchronize_session=False)
                )
                changed += result.rowcount or 0
    session.expire_all()
    return changed


def reschedule_workspace(session: Session, workspace: Workspace) -> int:
    """Re-resolve every open claim's rule (after a rule change or an agreement), then dates."""
    tenants = sorted(p.tenant_id for p in workspace.participants)
    book = RuleBook(session, tenants)
    triggers = workspace_triggers(session, workspace)
    allowed = agreed_rule_ids(session, workspace)
    changed = 0
    for tenant_id in tenants:
        with as_tenant(session, tenant_id):
            rows = session.scalars(
                select(Schedule).where(
                    Schedule.workspace_id == workspace.id,
                    Schedule.tenant_id == tenant_id,
                    Schedule.state.in_([s.value for s in OPEN_STATES]),
                    Schedule.override_on.is_(None),
                    Schedule.override_action == "",
                )
            ).all()
            for row in rows:
                rule = book.resolve(
                    tenant_id,
                    row.material_class.split(","),
                    row.sensitivity,
                    row.created_on,
                    allowed if row.joint else None,
                )
                fields = _fields(rule, triggers, tenant_id, row.created_on)
                if any(getattr(row, key) != value for key, value in fields.items()):
                    for key, value in fields.items():
                        setattr(row, key, value)
                    changed += 1
            session.flush()
    return changed


def reschedule_tenant(session: Session, tenant_id: int) -> int:
    """After a tenant's rule change: every workspace it takes part in."""
    workspaces = session.scalars(
        select(Workspace).join(Participant).where(Participant.tenant_id == tenant_id)
    ).all()
    return sum(reschedule_workspace(session, workspace) for workspace in workspaces)


# --- "what happens to this item, when, and why" ---------------------------------------------


def explain(session: Session, schedule: Schedule, tenant_names: dict[int, str]) -> str:
    """One sentence a records manager or inspector can act on."""
    whose = tenant_names.get(schedule.tenant_id, "This inspectorate")
    held = holds_covering(session, schedule)
    if schedule.state == State.DESTROYED:
        return (
            f"Destroyed on {schedule.ended_at:%-d %B %Y} under {whose}'s rule "
            f"(certificate {schedule.certificate_id})."
        )
    if schedule.state == State.RELEASED:
        return (
            f"{whose}'s claim ended on {schedule.ended_at:%-d %B %Y} (certificate "
            f"{schedule.certificate_id}); the item is kept while another inspectorate must keep it."
        )
    if schedule.state == State.TRANSFERRED:
        return f"Transferred to {whose}'s records system on {schedule.ended_at:%-d %B %Y}."
    if schedule.state == State.UNRULED:
        return f"No rule of {whose} covers this class of material: it is kept until one does."
    rule = schedule.rule
    assert rule is not None
    why = describe_rule(rule)
    text = f"{whose}: {why} ({rule.note})" if rule.note else f"{whose}: {why}."
    if schedule.override_action or schedule.override_on:
        action = ACTION_LABELS[Action(schedule.override_action or schedule.action)]
        text += (
            f" A review changed this: {action.lower()} on {schedule.disposal_on:%-d %B %Y} "
            f"({schedule.override_reason})."
        )
    elif schedule.state == State.WAITING:
        text += " The date is not known yet: it is set when the trigger is."
    elif schedule.disposal_on is not None:
        text += f" Due on {schedule.disposal_on:%-d %B %Y}."
    if schedule.state == State.REVIEW:
        text += " A records manager must review it now."
    if schedule.state == State.TRANSFER:
        text += " A records manager must confirm the transfer."
    if held:
        text += " On hold: " + "; ".join(
            f"{HOLD_REASONS[h.reason_kind]} ({h.reason})" for h in held
        )
        text += ". Nothing held is destroyed."
    return text


def item_schedules(session: Session, material_type: str, material_id: int) -> list[Schedule]:
    return list(
        session.scalars(
            select(Schedule)
            .where(Schedule.material_type == material_type, Schedule.material_id == material_id)
            .order_by(Schedule.tenant_id)
        )
    )


def object_fate(schedules: list[Schedule]) -> str:
    """What happens to the stored item itself, given every visible claim on it."""
    if any(s.state == State.DESTROYED for s in schedules):
        return "The item has been destroyed."
    open_claims = [s for s in schedules if s.state not in ENDED_STATES]
    if not open_claims:
        return "Every claim has ended: the next sweep destroys the item."
    if any(s.state in (State.RETAINED, State.UNRULED) for s in open_claims):
        return "The item is kept: at least one inspectorate keeps it permanently or has no rule."
    if any(s.state == State.WAITING for s in open_claims):
        return "The item is kept at least until every inspectorate's trigger date is known."
    last = max((s.disposal_on for s in open_claims if s.disposal_on), default=None)
    if last is None:
        return "The item is kept."
    return (
        f"The item is destroyed only when no inspectorate must keep it: not before "
        f"{last:%-d %B %Y} unless a review or hold changes that."
    )


# --- what is due ----------------------------------------------------------------------------


def due_claims(
    session: Session,
    tenant_id: int,
    until: datetime,
    *,
    limit: int,
    workspace_id: int | None = None,
) -> list[Schedule]:
    """The tenant's claims due for destruction by ``until`` and not held."""
    query = (
        select(Schedule)
        .where(
            Schedule.tenant_id == tenant_id,
            Schedule.state == State.SCHEDULED.value,
            Schedule.action == Action.DESTROY.value,
            Schedule.due_at <= until,
            not_held(),
        )
        .order_by(Schedule.due_at, Schedule.id)
        .limit(limit)
    )
    if workspace_id is not None:
        query = query.where(Schedule.workspace_id == workspace_id)
    return list(session.scalars(query))


def preview(
    session: Session, tenant_id: int, days: int, workspace_id: int | None = None
) -> dict[str, list[Schedule]]:
    """Dry run: what the sweeps of the next ``days`` days will destroy, and what holds keep."""
    if not 0 <= days <= 3660:
        raise RetentionError("Preview between 0 and 3,660 days ahead", "days")
    until = start_of_day(clock.today() + timedelta(days=days + 1))
    due = due_claims(session, tenant_id, until, limit=10_000, workspace_id=workspace_id)
    held_query = (
        select(Schedule)
        .where(
            Schedule.tenant_id == tenant_id,
            Schedule.state == State.SCHEDULED.value,
            Schedule.action == Action.DESTROY.value,
            Schedule.due_at < until,
            ~not_held(),
        )
        .order_by(Schedule.due_at, Schedule.id)
        .limit(10_000)
    )
    if workspace_id is not None:
        held_query = held_query.where(Schedule.workspace_id == workspace_id)
    return {"due": due, "held": list(session.scalars(held_query))}


def review_tasks(session: Session, tenant_id: int) -> list[Schedule]:
    return list(
        session.scalars(
            select(Schedule)
            .where(
                Schedule.tenant_id == tenant_id,
                Schedule.state.in_([State.REVIEW.value, State.TRANSFER.value]),
            )
            .order_by(Schedule.due_at, Schedule.id)
            .limit(1000)
        )
    )


def tenant_names(session: Session) -> dict[int, str]:
    return {t.id: t.name for t in session.scalars(select(Tenant))}
