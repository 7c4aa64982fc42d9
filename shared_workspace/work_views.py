"""Pages for the work inside a workspace: editing the terms of reference, the stage
checklists, the inspectorate's private area and the person's notifications."""

from __future__ import annotations

from datetime import date
from html import escape

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session
from app.tenancy import get_or_404
from retention.service import schedule_note
from shared_workspace import reminders, service
from shared_workspace.documents import service as documents
from shared_workspace.documents.models import Document
from shared_workspace.models import STAGES, ChecklistItem, PrivateNote, Subject, Workspace
from shared_workspace.views import bp
from tenants.models import User

MAX_NOTE_CHARS = 100_000


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _legacy_sections(session, workspace: Workspace) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Terms written through the API as structured content, as document sections."""
    subject = session.scalar(
        select(Subject)
        .where(Subject.workspace_id == workspace.id, Subject.kind == "terms_of_reference")
        .order_by(Subject.id.desc())
    )
    if subject is None or "document_id" in subject.content:
        return []
    sections = []
    for key, title in documents.TERMS_SECTIONS:
        value = subject.content.get(key)
        if isinstance(value, list):
            body = "<ul>" + "".join(f"<li>{escape(str(v))}</li>" for v in value) + "</ul>"
        else:
            body = f"<p>{escape(str(value))}</p>" if value else ""
        sections.append({"key": key, "title": title, "body": body})
    return sections


@bp.route("/<int:workspace_id>/terms-of-reference", methods=["GET", "POST"])
def edit_terms(workspace_id: int) -> str | Response:
    """The terms of reference are a co-edited document in annex 3's structure (§1, §8-9)."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    existing = db.scalar(
        select(Document.id)
        .where(Document.workspace_id == workspace.id, Document.kind == "terms_of_reference")
        .order_by(Document.id)
    )
    if existing is None and request.method == "POST":
        legacy = _legacy_sections(db, workspace)
        if legacy:
            document = documents.create_document(
                db,
                workspace,
                _me(),
                kind="terms_of_reference",
                title=f"Terms of reference: {workspace.title}"[:300],
                sections=legacy,
            )
        else:
            document = documents.start_terms_of_reference(db, workspace, _me())
        existing = document.id
    if existing is not None:
        return redirect(
            url_for("workspaces.document", workspace_id=workspace.id, document_id=existing)
        )
    return render_template("workspaces/terms_start.html", workspace=workspace)


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
        if not stage.isdecimal():
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
        assignee = db.get(User, int(assignee_id)) if assignee_id.isdecimal() else None
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
            note = PrivateNote(
                workspace_id=workspace.id,
                tenant_id=me.tenant_id,
                author_id=me.id,
                title=values["title"],
                body=values["body"],
            )
            db.add(note)
            db.flush()
            schedule_note(db, note)
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
    reminders.mark_read(db, _me(), int(ident) if ident.isdecimal() else None)
    return redirect(url_for("workspaces.dashboard"))
