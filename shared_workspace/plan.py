"""The timetable and project plan (001 §10-11): milestones per stage with owners and dates,
fieldwork windows, the publication date, and the warnings a date change raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from shared_workspace.decisions import KINDS
from shared_workspace.models import Decision, Milestone, Site, Workspace
from shared_workspace.service import LETTER_NOTICE, WorkspaceError, require_lead
from tenants.models import User

MAX_TITLE = 300


@dataclass(frozen=True)
class Plan:
    """Everything the plan page shows, read in a handful of queries."""

    milestones: list[Milestone]
    sites: list[Site]
    open_decisions: list[Decision]
    warnings: list[str]

    def by_stage(self) -> dict[int, list[Milestone]]:
        grouped: dict[int, list[Milestone]] = {}
        for milestone in self.milestones:
            grouped.setdefault(milestone.stage, []).append(milestone)
        return grouped


def load_plan(session: Session, workspace: Workspace, today: date) -> Plan:
    """The workspace's plan and every rule its dates now break or put at risk."""
    milestones = list(
        session.scalars(
            select(Milestone)
            .where(Milestone.workspace_id == workspace.id)
            .order_by(Milestone.stage, Milestone.due_on, Milestone.id)
        )
    )
    sites = list(
        session.scalars(
            select(Site)
            .where(Site.workspace_id == workspace.id)
            .order_by(Site.fieldwork_starts_on.nulls_last(), Site.name)
        )
    )
    open_decisions = list(
        session.scalars(
            select(Decision)
            .where(Decision.workspace_id == workspace.id, Decision.status == "open")
            .order_by(Decision.due_on.nulls_last(), Decision.id)
        )
    )
    warnings = [w for site in sites for w in date_warnings(workspace, site, today)]
    warnings += milestone_warnings(workspace, milestones, today)
    warnings += decision_warnings(workspace, open_decisions, today)
    return Plan(milestones, sites, open_decisions, warnings)


def date_warnings(workspace: Workspace, site: Site, today: date) -> list[str]:
    """Rules a site's dates now break or put at risk (001 §16), for the person changing them."""
    warnings = []
    start = site.fieldwork_starts_on
    if start is None:
        return warnings
    latest = start - LETTER_NOTICE
    if site.letters_sent_on is None and latest < today:
        warnings.append(
            f"Fieldwork at {site.name} starts on {start:%-d %B %Y}: its letters needed to go by "
            f"{latest:%-d %B %Y}, six weeks before (§16). Move the fieldwork or agree an exception."
        )
    elif site.letters_sent_on is not None and start - site.letters_sent_on < LETTER_NOTICE:
        days = (start - site.letters_sent_on).days
        warnings.append(
            f"The letters for {site.name} went on {site.letters_sent_on:%-d %B %Y}, only {days} "
            "days before the new fieldwork start; six weeks are needed (§16)."
        )
    if (
        workspace.publication_date
        and site.fieldwork_ends_on
        and (site.fieldwork_ends_on >= workspace.publication_date)
    ):
        warnings.append(
            f"Fieldwork at {site.name} ends on {site.fieldwork_ends_on:%-d %B %Y}, on or after "
            f"the planned publication date ({workspace.publication_date:%-d %B %Y})."
        )
    return warnings


def milestone_warnings(workspace: Workspace, milestones: list[Milestone], today: date) -> list[str]:
    """Overdue milestones, and milestones before publication planned after it."""
    warnings = []
    for milestone in milestones:
        if milestone.done_on is None and milestone.due_on < today:
            warnings.append(
                f"“{milestone.title}” ({milestone.owner_tenant.short_name}) was due on "
                f"{milestone.due_on:%-d %B %Y} and is not done."
            )
        if (
            workspace.publication_date
            and milestone.stage < 7
            and milestone.due_on > workspace.publication_date
        ):
            warnings.append(
                f"“{milestone.title}” (stage {milestone.stage}) is planned for "
                f"{milestone.due_on:%-d %B %Y}, after the publication date."
            )
    return warnings


def decision_warnings(workspace: Workspace, decisions: list[Decision], today: date) -> list[str]:
    """Open decisions past their deadline or due after the publication date."""
    warnings = []
    for decision in decisions:
        if decision.due_on is None:
            continue
        label = KINDS[decision.kind].label
        if decision.due_on < today:
            warnings.append(
                f"The {label.lower()} decision was due on {decision.due_on:%-d %B %Y} and is "
                "still waiting for sign-off."
            )
        elif workspace.publication_date and decision.due_on > workspace.publication_date:
            warnings.append(
                f"The {label.lower()} decision is due on {decision.due_on:%-d %B %Y}, after "
                "the publication date."
            )
    return warnings


def add_milestone(
    session: Session,
    workspace: Workspace,
    user: User,
    *,
    stage: int,
    title: str,
    due_on: date,
    owner_tenant_id: int | None = None,
    owner: User | None = None,
) -> Milestone:
    """The lead adds a milestone; its owner is a participating inspectorate (and person)."""
    require_lead(workspace, user, "change the project plan")
    milestone = Milestone(workspace_id=workspace.id)
    _apply(
        workspace,
        milestone,
        stage=stage,
        title=title,
        due_on=due_on,
        owner_tenant_id=owner_tenant_id or workspace.lead_tenant_id,
        owner=owner,
    )
    session.add(milestone)
    session.flush()
    return milestone


def update_milestone(
    session: Session,
    workspace: Workspace,
    milestone: Milestone,
    user: User,
    *,
    stage: int | None = None,
    title: str | None = None,
    due_on: date | None = None,
    done_on: date | None = None,
    done: bool | None = None,
    owner_tenant_id: int | None = None,
    owner: User | None = None,
) -> Milestone:
    """The lead replans anything; the owning inspectorate may mark its own milestone done."""
    if milestone.workspace_id != workspace.id:
        raise WorkspaceError("That milestone belongs to another inspection")
    replanning = any(v is not None for v in (stage, title, due_on, owner_tenant_id, owner))
    if replanning:
        require_lead(workspace, user, "change the project plan")
    elif user.tenant_id not in (milestone.owner_tenant_id, workspace.lead_tenant_id):
        raise WorkspaceError(
            f"Only {milestone.owner_tenant.short_name} or the lead can mark this milestone done"
        )
    _apply(
        workspace,
        milestone,
        stage=stage if stage is not None else milestone.stage,
        title=title if title is not None else milestone.title,
        due_on=due_on or milestone.due_on,
        owner_tenant_id=owner_tenant_id or milestone.owner_tenant_id,
        owner=owner if owner is not None else milestone.owner,
    )
    if done is not None:
        milestone.done_on = (done_on or clock.today()) if done else None
    elif done_on is not None:
        milestone.done_on = done_on
    session.flush()
    return milestone


def _apply(
    workspace: Workspace,
    milestone: Milestone,
    *,
    stage: int,
    title: str,
    due_on: date,
    owner_tenant_id: int,
    owner: User | None,
) -> None:
    if stage not in range(1, 9):
        raise WorkspaceError("Choose a stage from 1 to 8")
    title = title.strip()
    if not title:
        raise WorkspaceError("Say what the milestone is")
    if len(title) > MAX_TITLE:
        raise WorkspaceError(f"Keep the milestone to {MAX_TITLE} characters or fewer")
    participants = {p.tenant_id for p in workspace.participants}
    if owner_tenant_id not in participants:
        raise WorkspaceError("The owner must be a participating inspectorate")
    if owner is not None and owner.tenant_id != owner_tenant_id:
        raise WorkspaceError("The person who owns a milestone must work for its inspectorate")
    milestone.stage, milestone.title, milestone.due_on = stage, title, due_on
    milestone.owner_tenant_id = owner_tenant_id
    milestone.owner_id = owner.id if owner is not None else None


def set_publication_date(
    session: Session, workspace: Workspace, user: User, publication_date: date, today: date
) -> list[str]:
    """The lead sets the planned publication date; returns what the new date puts at risk."""
    require_lead(workspace, user, "set the publication date")
    if workspace.published_at is not None:
        raise WorkspaceError("The report is already published; its date cannot change")
    if publication_date < today:
        raise WorkspaceError("The publication date must be today or later")
    old = workspace.publication_date
    workspace.publication_date = publication_date
    session.flush()
    from retention.actions import publication_date_moved

    retention_notes = publication_date_moved(session, workspace, old)
    return load_plan(session, workspace, today).warnings + retention_notes


def reschedule_site(
    session: Session,
    workspace: Workspace,
    site: Site,
    user: User,
    *,
    fieldwork_starts_on: date | None,
    fieldwork_ends_on: date | None,
    today: date,
) -> list[str]:
    """Move a site's fieldwork window (lead only); returns the warnings the new dates raise."""
    require_lead(workspace, user, "change fieldwork dates")
    starts = fieldwork_starts_on or site.fieldwork_starts_on
    ends = fieldwork_ends_on or site.fieldwork_ends_on
    if starts and ends and ends < starts:
        raise WorkspaceError("Fieldwork must end on or after the day it starts")
    site.fieldwork_starts_on, site.fieldwork_ends_on = starts, ends
    session.flush()
    return date_warnings(workspace, site, today)
