"""Pages for joint inspections: the dashboard, a workspace, answering a decision."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.clock import clock
from app.db import get_session, set_context
from app.tenancy import get_or_404
from shared_workspace import decisions, reminders, service
from shared_workspace.documents import exports as document_exports
from shared_workspace.documents import review
from shared_workspace.exports import TERMS_SECTIONS
from shared_workspace.models import (
    STAGES,
    ChecklistItem,
    Decision,
    Member,
    Site,
    Workspace,
)
from tenants.login import public

bp = Blueprint("workspaces", __name__, url_prefix="/workspaces", template_folder="templates")


@bp.get("")
def dashboard() -> str:
    db = get_session()
    me = current_user._get_current_object()
    waiting, waiting_total = service.waiting_for_me(db, me)
    return render_template(
        "workspaces/dashboard.html",
        workspaces=service.my_workspaces(db),
        waiting=waiting,
        waiting_total=waiting_total,
        overdue=service.overdue_items(db, clock.today()),
        notifications=reminders.unread(db, me),
        kinds=decisions.KINDS,
    )


@bp.get("/<int:workspace_id>")
def show(workspace_id: int) -> str:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = current_user._get_current_object()
    members = db.scalars(select(Member).where(Member.workspace_id == workspace.id)).all()
    people: dict[int, list[Member]] = {}
    for member in members:
        people.setdefault(member.tenant_id, []).append(member)
    rows = db.scalars(
        select(Decision).where(Decision.workspace_id == workspace.id).order_by(Decision.id)
    ).all()
    entitled = {d.id for d in rows if d.status == "open" and decisions.entitled_roles(db, d, me)}
    checklist = db.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.workspace_id == workspace.id, ChecklistItem.stage == workspace.stage)
        .order_by(ChecklistItem.id)
    ).all()
    sites = db.scalars(
        select(Site).where(Site.workspace_id == workspace.id).order_by(Site.name)
    ).all()
    return render_template(
        "workspaces/show.html",
        workspace=workspace,
        people=people,
        decisions=rows,
        entitled=entitled,
        checklist=checklist,
        sites=sites,
        kinds=decisions.KINDS,
        stages=STAGES,
        missing_people=service.missing_people(db, workspace) if workspace.stage == 1 else [],
        waiting_for=lambda d: decisions.waiting_for(d, workspace),
        red_line_kinds=decisions.RED_LINE_KINDS,
        my_red_lines=[
            line.text for line in review.red_lines(db, workspace) if line.tenant_id == me.tenant_id
        ],
    )


@bp.post("/<int:workspace_id>/decisions/<int:decision_id>/answer")
def answer(workspace_id: int, decision_id: int) -> Response | str:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    decision = get_or_404(db, Decision, decision_id)
    if decision.workspace_id != workspace.id:
        return redirect(url_for("workspaces.show", workspace_id=workspace.id))
    approve = request.form.get("verdict") == "approve"
    reason = request.form.get("reason", "")[:5000]
    try:
        decisions.answer(
            db,
            workspace,
            decision,
            current_user._get_current_object(),
            approve=approve,
            reason=reason,
            red_lines_confirmed=request.form.get("red_lines_confirmed") == "yes",
        )
    except decisions.DecisionError as exc:
        flash(str(exc), "info")
        return redirect(
            url_for("workspaces.show", workspace_id=workspace.id, _anchor=f"decision-{decision.id}")
        )
    label = decisions.KINDS[decision.kind].label
    if decision.status == "agreed":
        flash(f"{label}: agreed by every inspectorate", "success")
    elif approve:
        flash(f"{label}: you approved for {current_user.tenant.short_name}", "success")
    else:
        flash(f"{label}: rejected. The lead has been told why.", "success")
    return redirect(url_for("workspaces.show", workspace_id=workspace.id))


public_bp = Blueprint(
    "inspections", __name__, url_prefix="/inspections-in-progress", template_folder="templates"
)


def _published(db):  # type: ignore[no-untyped-def]
    set_context(db, tenant_id=None, purpose="public-terms")
    return select(Workspace).where(Workspace.terms_published_at.is_not(None))


@public_bp.get("")
@public
def in_progress() -> str:
    """Every published terms of reference, newest first (no sign-in; 001 §9)."""
    db = get_session()
    rows = db.scalars(_published(db).order_by(Workspace.terms_published_at.desc())).all()
    return render_template("workspaces/in_progress.html", workspaces=rows)


@public_bp.get("/<int:workspace_id>")
@public
def terms(workspace_id: int) -> str:
    db = get_session()
    workspace = db.scalar(_published(db).where(Workspace.id == workspace_id))
    if workspace is None:
        abort(404)
    return render_template("workspaces/terms.html", workspace=workspace, sections=TERMS_SECTIONS)


def _document_terms(db, workspace: Workspace, subject, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    """The terms of reference document at the version the subject names, in house style."""
    from shared_workspace.documents.models import Document, DocumentVersion

    document = db.get(Document, subject.content["document_id"])
    row = db.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == subject.content["document_id"],
            DocumentVersion.number == subject.content["version"],
        )
    )
    if document is None or row is None:
        abort(404)
    draft = not decisions.is_agreed(db, workspace, "terms_of_reference")
    if fmt == "pdf":
        return document_exports.to_pdf(
            document_exports.render_html(workspace, document, row, draft=draft)
        )
    return document_exports.to_docx(workspace, document, row, draft=draft)


@bp.get("/<int:workspace_id>/terms-of-reference.<any(pdf, docx):fmt>")
def export_terms(workspace_id: int, fmt: str) -> Response:
    """The terms of reference as PDF or DOCX; every download is audited."""
    from app import audit
    from shared_workspace import exports
    from shared_workspace.models import Subject

    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    subject = db.scalar(
        select(Subject)
        .where(Subject.workspace_id == workspace.id, Subject.kind == "terms_of_reference")
        .order_by(Subject.id.desc())
    )
    if subject is None:
        abort(404)
    if "document_id" in subject.content:
        body = _document_terms(db, workspace, subject, fmt)
    elif fmt == "pdf":
        body = exports.terms_pdf(workspace, subject)
    else:
        body = exports.terms_docx(workspace, subject)
    mimetype = document_exports.CONTENT_TYPES[fmt]
    audit.record(
        db,
        tenant_id=current_user.tenant_id,
        action="terms_of_reference.downloaded",
        object_type="decision_subject",
        object_id=subject.id,
        changes={"format": fmt, "version": subject.version},
    )
    filename = f"terms-of-reference-{workspace.id}-v{subject.version}.{fmt}"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
