"""Pages for the timetable and project plan: milestones, fieldwork windows, the publication
date, decision deadlines, and the warnings each change raises."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.clock import clock
from app.db import get_session
from app.tenancy import get_or_404
from shared_workspace import decisions, plan, service
from shared_workspace.models import STAGES, Decision, Milestone, Site, Workspace
from shared_workspace.views import bp
from shared_workspace.work_views import _date, _me
from tenants.models import User


def _back(workspace: Workspace, anchor: str | None = None) -> Response:
    return redirect(url_for("workspaces.plan", workspace_id=workspace.id, _anchor=anchor))


def _flash_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        flash(warning, "info")


@bp.get("/<int:workspace_id>/plan", endpoint="plan")
def plan_page(workspace_id: int) -> str:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    loaded = plan.load_plan(db, workspace, clock.today())
    people = service.people_named(db, workspace)
    me = _me()
    return render_template(
        "workspaces/plan.html",
        workspace=workspace,
        plan=loaded,
        stages=STAGES,
        people=people,
        kinds=decisions.KINDS,
        is_lead=me.tenant_id == workspace.lead_tenant_id,
        today=clock.today(),
    )


@bp.post("/<int:workspace_id>/plan/milestones")
def add_milestone(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    form = request.form
    due_on = _date(form.get("due_on", ""))
    try:
        if not due_on:
            raise service.WorkspaceError("Enter the milestone's date, like 2027-01-31")
        stage = form.get("stage", "")
        owner_tenant = form.get("owner_tenant_id", "")
        owner_id = form.get("owner_id", "")
        owner = db.get(User, int(owner_id)) if owner_id.isdecimal() else None
        plan.add_milestone(
            db,
            workspace,
            _me(),
            stage=int(stage) if stage.isdecimal() else 0,
            title=form.get("title", "")[:1000],
            due_on=due_on,
            owner_tenant_id=int(owner_tenant) if owner_tenant.isdecimal() else None,
            owner=owner,
        )
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
        return _back(workspace, "add-milestone")
    flash("Milestone added", "success")
    _flash_warnings(plan.load_plan(db, workspace, clock.today()).warnings)
    return _back(workspace)


@bp.post("/<int:workspace_id>/plan/milestones/<int:milestone_id>")
def update_milestone(workspace_id: int, milestone_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    milestone = get_or_404(db, Milestone, milestone_id)
    if milestone.workspace_id != workspace.id:
        return _back(workspace)
    due_on = _date(request.form.get("due_on", ""))
    try:
        if due_on is False:
            raise service.WorkspaceError("Enter the date as a date, like 2027-01-31")
        if "done" in request.form:
            plan.update_milestone(
                db, workspace, milestone, _me(), done=request.form["done"] == "yes"
            )
        else:
            plan.update_milestone(db, workspace, milestone, _me(), due_on=due_on or None)
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
        return _back(workspace, f"milestone-{milestone.id}")
    flash(f"“{milestone.title}” updated", "success")
    _flash_warnings(plan.load_plan(db, workspace, clock.today()).warnings)
    return _back(workspace, f"milestone-{milestone.id}")


@bp.post("/<int:workspace_id>/plan/sites/<int:site_id>")
def reschedule_site(workspace_id: int, site_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    site = get_or_404(db, Site, site_id)
    if site.workspace_id != workspace.id:
        return _back(workspace)
    starts = _date(request.form.get("fieldwork_starts_on", ""))
    ends = _date(request.form.get("fieldwork_ends_on", ""))
    try:
        if starts is False or ends is False:
            raise service.WorkspaceError("Enter fieldwork dates as dates, like 2027-01-31")
        warnings = plan.reschedule_site(
            db,
            workspace,
            site,
            _me(),
            fieldwork_starts_on=starts or None,
            fieldwork_ends_on=ends or None,
            today=clock.today(),
        )
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
        return _back(workspace, f"site-{site.id}")
    flash(f"Fieldwork at {site.name} moved", "success")
    _flash_warnings(warnings)
    return _back(workspace, f"site-{site.id}")


@bp.post("/<int:workspace_id>/plan/publication-date")
def set_publication_date(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    when = _date(request.form.get("publication_date", ""))
    try:
        if not when:
            raise service.WorkspaceError("Enter the publication date, like 2027-06-30")
        warnings = plan.set_publication_date(db, workspace, _me(), when, clock.today())
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
        return _back(workspace, "publication")
    flash(f"Publication planned for {when:%-d %B %Y}", "success")
    _flash_warnings(warnings)
    return _back(workspace, "publication")


@bp.post("/<int:workspace_id>/plan/decisions/<int:decision_id>/deadline")
def set_deadline(workspace_id: int, decision_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    decision = get_or_404(db, Decision, decision_id)
    if decision.workspace_id != workspace.id:
        return _back(workspace)
    due_on = _date(request.form.get("due_on", ""))
    try:
        if due_on is False:
            raise decisions.DecisionError("Enter the deadline as a date, like 2027-01-31")
        decisions.set_deadline(db, workspace, decision, _me(), due_on or None)
    except decisions.DecisionError as exc:
        flash(str(exc), "info")
    else:
        flash("Deadline saved. Approvers are reminded three days before it.", "success")
    return _back(workspace, f"decision-{decision.id}")
