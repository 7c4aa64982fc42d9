"""Pages for the work inside a workspace: editing the terms of reference, the stage
checklists, the inspectorate's private area and the person's notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session
from app.tenancy import get_or_404
from shared_workspace import decisions, reminders, service
from shared_workspace.exports import TERMS_SECTIONS
from shared_workspace.models import STAGES, ChecklistItem, PrivateNote, Subject, Workspace
from shared_workspace.views import bp
from tenants.models import User

#: Annex 3 sections written as lists, one item a line.
LIST_SECTIONS = {"criteria", "sites", "methodology"}
MAX_SECTION_CHARS = 20_000
MAX_NOTE_CHARS = 100_000


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _terms(workspace: Workspace) -> Subject | None:
    return get_session().scalar(
        select(Subject)
        .where(Subject.workspace_id == workspace.id, Subject.kind == "terms_of_reference")
        .order_by(Subject.id.desc())
    )


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _content_from_form() -> tuple[dict[str, Any], dict[str, str]]:
    content: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, heading in TERMS_SECTIONS:
        text = request.form.get(key, "").replace("\r\n", "\n").strip()
        if len(text) > MAX_SECTION_CHARS:
            errors[key] = (
                f"{heading} is {len(text):,} characters; keep it to {MAX_SECTION_CHARS:,} or "
                "fewer (move detail into the methodology or an annex)"
            )
            continue
        if any(ch < " " and ch not in "\n\t" for ch in text):
            errors[key] = f"{heading} contains control characters; paste it as plain text"
            continue
        if not text:
            continue
        if key in LIST_SECTIONS:
            content[key] = [line.strip() for line in text.split("\n") if line.strip()]
        else:
            content[key] = text
    return content, errors


@bp.route("/<int:workspace_id>/terms-of-reference", methods=["GET", "POST"])
def edit_terms(workspace_id: int) -> str | Response:
    """Edit the terms of reference; a save on an old version never overwrites a newer one."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    subject = _terms(workspace)
    me = _me()
    errors: dict[str, str] = {}
    conflict: list[tuple[str, str, str]] = []
    current = {
        key: _as_text(subject.content.get(key)) if subject else "" for key, _ in TERMS_SECTIONS
    }
    values = dict(current)
    base_version = subject.version if subject else 0
    if request.method == "POST":
        content, errors = _content_from_form()
        values = {
            key: request.form.get(key, "")[: MAX_SECTION_CHARS + 1] for key, _ in TERMS_SECTIONS
        }
        sent_base = request.form.get("base_version", "")
        if not sent_base.isdigit():
            errors["base_version"] = "The page was incomplete; reload it and make your change again"
        elif not errors and int(sent_base) != base_version:
            # Someone saved since this writer opened the page: show both texts, keep theirs
            # in the form, and let them save again on the new version.
            conflict = [
                (heading, current[key], values[key].replace("\r\n", "\n").strip())
                for key, heading in TERMS_SECTIONS
                if current[key] != values[key].replace("\r\n", "\n").strip()
            ]
            errors["terms"] = (
                f"Someone saved version {base_version} while you were editing. Your text is "
                "kept below: compare it with theirs, then save again"
            )
        elif not errors:
            if subject is None:
                decisions.create_subject(
                    db,
                    workspace,
                    kind="terms_of_reference",
                    title="Terms of reference",
                    content=content,
                    user=me,
                )
                flash("Terms of reference saved as version 1", "success")
            else:
                voided = decisions.update_subject(db, subject, content, me)
                message = f"Terms of reference saved as version {subject.version}"
                if voided:
                    message += ": every inspectorate must approve this version again"
                flash(message, "success")
            return redirect(url_for("workspaces.edit_terms", workspace_id=workspace.id))
    decision = None
    if subject is not None:
        decision = db.scalar(
            select(decisions.Decision)
            .where(
                decisions.Decision.subject_id == subject.id,
                decisions.Decision.kind == "terms_of_reference",
            )
            .order_by(decisions.Decision.id.desc())
        )
    return render_template(
        "workspaces/terms_edit.html",
        workspace=workspace,
        subject=subject,
        decision=decision,
        sections=TERMS_SECTIONS,
        list_sections=LIST_SECTIONS,
        values=values,
        base_version=base_version,
        errors=errors,
        conflict=conflict,
        is_lead=me.tenant_id == workspace.lead_tenant_id,
        max_chars=MAX_SECTION_CHARS,
    )


@bp.post("/<int:workspace_id>/terms-of-reference/propose")
def propose_terms(workspace_id: int) -> Response:
    """Ask every inspectorate to sign off the current version (§8-9)."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    subject = _terms(workspace)
    target = url_for("workspaces.edit_terms", workspace_id=workspace.id)
    if subject is None:
        flash("Write the terms of reference before asking for sign-off", "info")
        return redirect(target)
    due_on = _date(request.form.get("due_on", ""))
    try:
        if due_on is False:
            raise decisions.DecisionError("Enter the deadline as a date, like 2027-01-31")
        decisions.propose(
            db, workspace, kind="terms_of_reference", subject=subject, user=_me(), due_on=due_on
        )
    except decisions.DecisionError as exc:
        flash(str(exc), "info")
        return redirect(target)
    flash(f"Version {subject.version} is waiting for every inspectorate's sign-off", "success")
    return redirect(target)


@bp.post("/<int:workspace_id>/terms-of-reference/publish")
def publish_terms(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    try:
        service.publish_terms_of_reference(db, workspace, _me())
    except (service.GateClosed, service.WorkspaceError) as exc:
        flash(str(exc), "info")
    else:
        flash("The terms of reference are on the public “inspections in progress” page", "success")
    return redirect(url_for("workspaces.edit_terms", workspace_id=workspace.id))


def _date(text: str) -> date | None | bool:
    """A date from a form field: None when empty, False when it does not parse."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False


@bp.get("/<int:workspace_id>/checklist")
def checklist(workspace_id: int) -> str:
    """Every stage's core expectations (001) and the lead's own items, with their progress."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    items = db.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.workspace_id == workspace.id)
        .order_by(ChecklistItem.stage, ChecklistItem.id)
    ).all()
    by_stage: dict[int, list[ChecklistItem]] = {}
    for item in items:
        by_stage.setdefault(item.stage, []).append(item)
    people = service.people_named(db, workspace)
    return render_template(
        "workspaces/checklist.html",
        workspace=workspace,
        by_stage=by_stage,
        stages=STAGES,
        people=people,
        names={p.id: p.name for p in people},
        is_lead=_me().tenant_id == workspace.lead_tenant_id,
    )


@bp.post("/<int:workspace_id>/checklist")
def add_checklist_item(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    stage = request.form.get("stage", "")
    due_on = _date(request.form.get("due_on", ""))
    try:
        if not stage.isdigit():
            raise service.WorkspaceError("Choose a stage from 1 to 8")
        if due_on is False:
            raise service.WorkspaceError("Enter the due date as a date, like 2027-01-31")
        service.add_checklist_item(
            db,
            workspace,
            _me(),
            stage=int(stage),
            text=request.form.get("text", "")[:2000],
            due_on=due_on or None,
        )
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
    else:
        flash("Checklist item added", "success")
    return redirect(url_for("workspaces.checklist", workspace_id=workspace.id))


@bp.post("/<int:workspace_id>/checklist/<int:item_id>")
def update_checklist_item(workspace_id: int, item_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    item = get_or_404(db, ChecklistItem, item_id)
    if item.workspace_id != workspace.id:
        return redirect(url_for("workspaces.checklist", workspace_id=workspace.id))
    due_on = _date(request.form.get("due_on", ""))
    assignee_id = request.form.get("assignee_id", "")
    try:
        if due_on is False:
            raise service.WorkspaceError("Enter the due date as a date, like 2027-01-31")
        assignee = db.get(User, int(assignee_id)) if assignee_id.isdigit() else None
        if assignee_id and assignee is None:
            raise service.WorkspaceError("Choose someone named in this inspection")
        service.update_checklist_item(
            db,
            workspace,
            item,
            status=request.form.get("status") or None,
            assignee=assignee,
            due_on=due_on or None,
            link=request.form.get("link", "").strip()[:500] if "link" in request.form else None,
        )
    except service.WorkspaceError as exc:
        flash(str(exc), "info")
    else:
        flash("Checklist item updated", "success")
    return redirect(
        url_for("workspaces.checklist", workspace_id=workspace.id, _anchor=f"item-{item.id}")
    )


@bp.route("/<int:workspace_id>/private", methods=["GET", "POST"])
def private_area(workspace_id: int) -> str | Response:
    """The inspectorate's own notes and drafts in this inspection: no other tenant sees them."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = _me()
    errors: dict[str, str] = {}
    values = {"title": "", "body": ""}
    if request.method == "POST":
        values = {
            "title": request.form.get("title", "").strip(),
            "body": request.form.get("body", "").replace("\r\n", "\n"),
        }
        if not values["title"]:
            errors["title"] = "Give the note a title"
        elif len(values["title"]) > 300:
            errors["title"] = "Keep the title to 300 characters or fewer"
        if len(values["body"]) > MAX_NOTE_CHARS:
            errors["body"] = f"Keep a note to {MAX_NOTE_CHARS:,} characters or fewer"
        if not errors:
            db.add(
                PrivateNote(
                    workspace_id=workspace.id,
                    tenant_id=me.tenant_id,
                    author_id=me.id,
                    title=values["title"],
                    body=values["body"],
                )
            )
            db.flush()
            flash(f"Note saved. Only {me.tenant.short_name} staff can see it.", "success")
            return redirect(url_for("workspaces.private_area", workspace_id=workspace.id))
    notes = db.scalars(
        select(PrivateNote)
        .where(PrivateNote.workspace_id == workspace.id)
        .order_by(PrivateNote.updated_at.desc())
    ).all()
    return render_template(
        "workspaces/private.html", workspace=workspace, notes=notes, errors=errors, values=values
    )


@bp.post("/notifications/read")
def read_notifications() -> Response:
    """Mark one notification (or all) read, then go where it points or back to the dashboard."""
    db = get_session()
    ident = request.form.get("id", "")
    reminders.mark_read(db, _me(), int(ident) if ident.isdigit() else None)
    return redirect(url_for("workspaces.dashboard"))
