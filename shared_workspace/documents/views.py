"""Pages for co-editing documents: the document with its comments and suggestions, editing a
section (with the conflict view when someone saved the same passage first), history and diffs,
red lines, exports with progress."""

from __future__ import annotations

import re
from datetime import date
from html import escape

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import get_session
from app.tenancy import get_or_404
from shared_workspace import decisions
from shared_workspace.documents import review, richtext, service
from shared_workspace.documents.api import destroyed_message, download, start_export
from shared_workspace.documents.diff import diff_versions
from shared_workspace.documents.models import (
    DOCUMENT_KINDS,
    MARKINGS,
    Comment,
    Document,
    DocumentExport,
    PendingSave,
    RedLine,
    Suggestion,
)
from shared_workspace.models import Decision, Subject, Workspace
from shared_workspace.views import bp
from tenants.models import User

DOCS = "/<int:workspace_id>/documents"
DOC = DOCS + "/<int:document_id>"


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _load(workspace_id: int, document_id: int) -> tuple[Workspace, Document]:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    document = get_or_404(db, Document, document_id)
    if document.workspace_id != workspace.id:
        abort(404)
    if document.destroyed_at is not None:
        abort(
            Response(
                render_template(
                    "documents/destroyed.html",
                    workspace=workspace,
                    document=document,
                    message=destroyed_message(document),
                ),
                status=410,
            )
        )
    return workspace, document


def _owned(db, model, ident: int, document: Document):  # type: ignore[no-untyped-def]
    row = get_or_404(db, model, ident)
    if row.document_id != document.id:
        abort(404)
    return row


def _to_html(text: str) -> str:
    """What a writer typed: HTML is kept (and cleaned later); plain text becomes paragraphs."""
    text = text.replace("\r\n", "\n").strip()
    if "<" in text:
        return text
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _back(workspace: Workspace, document: Document, anchor: str | None = None) -> Response:
    return redirect(
        url_for(
            "workspaces.document",
            workspace_id=workspace.id,
            document_id=document.id,
            _anchor=anchor,
        )
    )


@bp.route(DOCS, methods=["GET", "POST"])
def documents(workspace_id: int) -> str | Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    errors: dict[str, str] = {}
    values = {"title": "", "kind": "report", "marking": "OFFICIAL", "sections": ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "")[:20_000] for k in values}
        titles = [line.strip() for line in values["sections"].splitlines() if line.strip()]
        try:
            document = service.create_document(
                db,
                workspace,
                _me(),
                kind=values["kind"],
                title=values["title"],
                marking=values["marking"],
                sections=[
                    {"title": t, "body": ""}
                    for t in titles or ([] if values["kind"] == "een" else ["Introduction"])
                ],
            )
        except service.DocumentError as exc:
            errors[exc.field if exc.field in values else "title"] = str(exc)
        else:
            flash(f"{document.title} created", "success")
            return redirect(
                url_for("workspaces.document", workspace_id=workspace.id, document_id=document.id)
            )
    rows = db.scalars(
        select(Document).where(Document.workspace_id == workspace.id).order_by(Document.id)
    ).all()
    return render_template(
        "documents/list.html",
        workspace=workspace,
        documents=rows,
        kinds=DOCUMENT_KINDS,
        markings=MARKINGS,
        errors=errors,
        values=values,
    )


@bp.get(DOC)
def document(workspace_id: int, document_id: int) -> str:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    me = _me()
    head = service.head(db, doc)
    review.here(db, doc, me)
    names = {p.tenant_id: p.tenant.short_name for p in workspace.participants}
    return render_template(
        "documents/show.html",
        workspace=workspace,
        document=doc,
        version=head,
        owners=service.owners(db, doc),
        names=names,
        counts=review.open_counts(db, doc),
        threads=review.threads(db, doc),
        suggestions=review.open_suggestions(db, doc),
        red_lines=review.red_lines(db, workspace) if doc.kind == "report" else [],
        present=review.present(db, doc, me),
        pending=service.open_pending(db, doc, me),
        is_lead=me.tenant_id == workspace.lead_tenant_id,
        decisions_on=db.scalars(
            select(Decision).where(Decision.subject_id == doc.subject_id).order_by(Decision.id)
        ).all()
        if doc.subject_id
        else [],
        kinds=decisions.KINDS,
        default_kind=service.SUBJECT_KIND[doc.kind],
    )


@bp.post(DOC + "/sign-off")
def ask_sign_off(workspace_id: int, document_id: int) -> Response:
    """Ask every inspectorate to sign off the document's latest version."""
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    kind = request.form.get("kind", "")[:40]
    due = request.form.get("due_on", "").strip()
    subject = db.get(Subject, doc.subject_id) if doc.subject_id else None
    try:
        if subject is None:
            raise decisions.DecisionError("This document cannot be signed off")
        try:
            due_on = date.fromisoformat(due) if due else None
        except ValueError:
            raise decisions.DecisionError("Enter the deadline as a date, like 2027-01-31") from None
        decisions.propose(db, workspace, kind=kind, subject=subject, user=_me(), due_on=due_on)
    except decisions.DecisionError as exc:
        flash(str(exc))
    else:
        flash(f"Version {doc.head_number} is waiting for every inspectorate's sign-off", "success")
    return _back(workspace, doc, "sign-off")


@bp.route(DOC + "/sections/<section_key>", methods=["GET", "POST"])
def edit_section(workspace_id: int, document_id: int, section_key: str) -> str | Response:
    """Edit one section. The save carries the version the page was opened on; a stale save is
    merged, or shows both texts side by side when the same passage changed."""
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    me = _me()
    base_number = doc.head_number
    if request.method == "POST":
        sent = request.form.get("base_version", "")
        if not sent.isdecimal() or len(sent) > 10:
            abort(400)
        base_number = int(sent)
    try:
        base = service.version(db, doc, base_number)
    except service.StaleVersion:
        flash("That version does not exist: the page was out of date. Make your edit again.")
        return _back(workspace, doc)
    section = next((s for s in base.sections if s["key"] == section_key), None)
    if section is None:
        abort(404)
    owner = service.owners(db, doc).get(section_key)
    may_edit = owner in (None, me.tenant_id)
    error = ""
    text = section["body"]
    if request.method == "POST":
        text = request.form.get("body", "")
        sections = [
            {**row, "body": _to_html(text)} if row["key"] == section_key else row
            for row in base.sections
        ]
        try:
            saved = service.save(db, workspace, doc, me, base_number=base_number, sections=sections)
        except service.DocumentError as exc:
            error = str(exc)
        else:
            if saved.pending is not None:
                return redirect(
                    url_for(
                        "workspaces.resolve_conflict",
                        workspace_id=workspace.id,
                        document_id=doc.id,
                        pending_id=saved.pending.id,
                    )
                )
            if saved.merged_with:
                flash(
                    f"Saved as version {doc.head_number}, merged with the changes in version "
                    f"{saved.merged_with} that others made meanwhile",
                    "success",
                )
            else:
                flash(f"Saved as version {doc.head_number}", "success")
            return _back(workspace, doc, f"section-{section_key}")
    review.here(db, doc, me, section_key)
    others = [p for p in review.present(db, doc, me) if p.section_key == section_key]
    return render_template(
        "documents/edit_section.html",
        max_chars=richtext.MAX_SECTION_CHARS,
        workspace=workspace,
        document=doc,
        section=section,
        base_number=base_number,
        text=text,
        error=error,
        may_edit=may_edit,
        owner_name=next(
            (p.tenant.short_name for p in workspace.participants if p.tenant_id == owner), ""
        ),
        others=others,
    ), (200 if not error else 422)


@bp.route(DOC + "/pending/<int:pending_id>", methods=["GET", "POST"])
def resolve_conflict(workspace_id: int, document_id: int, pending_id: int) -> str | Response:
    """Both texts side by side; the writer keeps theirs, the saved one, or a mix."""
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    pending = _owned(db, PendingSave, pending_id, doc)
    me = _me()
    if pending.author_id != me.id:
        abort(404)
    error = ""
    if request.method == "POST" and pending.resolved_at is None:
        resolutions: dict[str, str | None] = {}
        for conflict in pending.conflicts:
            key = conflict["key"]
            choice = request.form.get(f"choice-{key}", "edited")
            if choice == "theirs":
                resolutions[key] = conflict["head_body"]
            elif choice == "mine":
                resolutions[key] = conflict["pending_body"]
            else:
                resolutions[key] = _to_html(request.form.get(f"body-{key}", ""))
        try:
            saved = service.resolve_pending(db, workspace, pending, me, resolutions)
        except service.DocumentError as exc:
            error = str(exc)
        else:
            if saved.pending is not None:
                flash("Someone saved the same passage again meanwhile: compare once more.")
                return redirect(
                    url_for(
                        "workspaces.resolve_conflict",
                        workspace_id=workspace.id,
                        document_id=doc.id,
                        pending_id=saved.pending.id,
                    )
                )
            flash(f"Conflict resolved: saved as version {doc.head_number}", "success")
            return _back(workspace, doc)
    return render_template(
        "documents/conflict.html",
        workspace=workspace,
        document=doc,
        pending=pending,
        error=error,
    )


@bp.get(DOC + "/history")
def history(workspace_id: int, document_id: int) -> str:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    versions = service.history(db, doc)
    diffs = None
    numbers = (request.args.get("from", ""), request.args.get("to", ""))
    if all(n.isdecimal() and len(n) <= 10 for n in numbers):
        try:
            old, new = (service.version(db, doc, int(n)) for n in numbers)
        except service.StaleVersion:
            flash("Choose two versions of this document to compare")
        else:
            diffs = diff_versions(
                service.as_version(old.sections), service.as_version(new.sections)
            )
    return render_template(
        "documents/history.html",
        workspace=workspace,
        document=doc,
        versions=versions,
        diffs=diffs,
        numbers=numbers,
        is_lead=_me().tenant_id == workspace.lead_tenant_id,
    )


@bp.post(DOC + "/versions/<int:number>/restore")
def restore(workspace_id: int, document_id: int, number: int) -> Response:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    try:
        row = service.restore(db, workspace, doc, _me(), number)
    except service.DocumentError as exc:
        flash(str(exc))
    else:
        flash(f"Version {number} restored as version {row.number}", "success")
    return _back(workspace, doc)


@bp.post(DOC + "/comments")
def add_comment(workspace_id: int, document_id: int) -> Response:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    form = request.form
    parent_id = form.get("parent_id", "")
    try:
        if parent_id.isdecimal():
            parent = _owned(db, Comment, int(parent_id), doc)
            comment = review.reply(db, parent, _me(), form.get("body", "")[:20_000])
        else:
            comment = review.add_comment(
                db,
                doc,
                _me(),
                section_key=form.get("section_key", "")[:64],
                body=form.get("body", "")[:20_000],
                quote=form.get("quote", "")[:4_000],
                kind=form.get("kind", "comment")[:20],
                source=form.get("source", "")[:600],
            )
    except service.DocumentError as exc:
        flash(str(exc))
        return _back(workspace, doc, "comments")
    flash("Comment added", "success")
    return _back(workspace, doc, f"comment-{comment.parent_id or comment.id}")


@bp.post(DOC + "/comments/<int:comment_id>/resolve")
def resolve_comment(workspace_id: int, document_id: int, comment_id: int) -> Response:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    comment = _owned(db, Comment, comment_id, doc)
    try:
        review.resolve_thread(
            db,
            comment,
            _me(),
            response=request.form.get("response", "")[:20_000],
            reopen=request.form.get("reopen") == "yes",
        )
    except service.DocumentError as exc:
        flash(str(exc))
    else:
        flash("Thread reopened" if comment.resolved_at is None else "Thread resolved", "success")
    return _back(workspace, doc, f"comment-{comment.id}")


@bp.post(DOC + "/suggestions")
def suggest(workspace_id: int, document_id: int) -> Response:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    form = request.form
    try:
        review.suggest(
            db,
            doc,
            _me(),
            section_key=form.get("section_key", "")[:64],
            operation=form.get("operation", "")[:10],
            quote=form.get("quote", "")[:4_000],
            text=form.get("text", "")[:20_000],
            reason=form.get("reason", "")[:20_000],
        )
    except service.DocumentError as exc:
        flash(str(exc))
    else:
        flash("Suggestion sent to the section's drafting inspectorate", "success")
    return _back(workspace, doc, "suggestions")


@bp.post(DOC + "/suggestions/<int:suggestion_id>")
def decide_suggestion(workspace_id: int, document_id: int, suggestion_id: int) -> Response:
    db = get_session()
    workspace, doc = _load(workspace_id, document_id)
    suggestion = _owned(db, Suggestion, suggestion_id, doc)
    try:
        review.decide(
            db, workspace, doc, suggestion, _me(), accept=request.form.get("accept") == "yes"
        )
    except service.DocumentError as exc:
        flash(str(exc))
    else:
        flash(f"Suggestion {suggestion.status}", "success")
    return _back(workspace, doc, "suggestions")


@bp.post(DOC + "/presence")
def presence(workspace_id: int, document_id: int) -> Response:
    """The page's heartbeat: records this person and answers who else is here."""
    db = get_session()
    _workspace, doc = _load(workspace_id, document_id)
    me = _me()
    review.here(db, doc, me, request.form.get("section_key", "")[:64])
    return jsonify(
        [{"name": p.user.name, "section_key": p.section_key} for p in review.present(db, doc, me)]
    )


@bp.route("/<int:workspace_id>/red-lines", methods=["GET", "POST"])
def red_lines(workspace_id: int) -> str | Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    error = ""
    if request.method == "POST":
        try:
            review.add_red_line(db, workspace, _me(), request.form.get("text", "")[:4_000])
        except service.DocumentError as exc:
            error = str(exc)
        else:
            flash("Red line recorded", "success")
            return redirect(url_for("workspaces.red_lines", workspace_id=workspace.id))
    return render_template(
        "documents/red_lines.html",
        workspace=workspace,
        red_lines=review.red_lines(db, workspace),
        error=error,
    )


@bp.post("/<int:workspace_id>/red-lines/<int:red_line_id>/withdraw")
def withdraw_red_line(workspace_id: int, red_line_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    row = get_or_404(db, RedLine, red_line_id)
    if row.workspace_id != workspace.id:
        abort(404)
    try:
        review.withdraw_red_line(db, row, _me())
    except service.DocumentError as exc:
        flash(str(exc))
    else:
        flash("Red line withdrawn", "success")
    return redirect(url_for("workspaces.red_lines", workspace_id=workspace.id))


@bp.post(DOC + "/exports")
def document_export(workspace_id: int, document_id: int) -> Response:
    workspace, doc = _load(workspace_id, document_id)
    fmt = request.form.get("format", "")
    if fmt not in ("pdf", "docx"):
        flash("Choose PDF or Word")
        return _back(workspace, doc)
    row = start_export(workspace, doc, fmt, None)
    return redirect(
        url_for(
            "workspaces.document_export_status",
            workspace_id=workspace.id,
            document_export_id=row.id,
        )
    )


@bp.get("/<int:workspace_id>/document-exports/<int:document_export_id>")
def document_export_status(workspace_id: int, document_export_id: int) -> str | Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    row = get_or_404(db, DocumentExport, document_export_id)
    if row.workspace_id != workspace.id:
        abort(404)
    db.refresh(row)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status=row.status, progress=row.progress, error=row.error)
    document = db.get(Document, row.document_id)
    return render_template(
        "documents/export_status.html", workspace=workspace, export=row, document=document
    )


@bp.get("/<int:workspace_id>/document-exports/<int:document_export_id>/download")
def document_export_download(workspace_id: int, document_export_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    row = get_or_404(db, DocumentExport, document_export_id)
    if row.workspace_id != workspace.id:
        abort(404)
    if row.status != "done":
        flash("The export is not ready yet")
        return redirect(
            url_for(
                "workspaces.document_export_status",
                workspace_id=workspace.id,
                document_export_id=row.id,
            )
        )
    return download(workspace, document_export_id)
