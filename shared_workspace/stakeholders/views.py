"""Pages: the inspectorate's stakeholder directory (search, add, import with a preview,
export) and an inspection's stakeholders (nominate, consolidate with progress, review queue,
the consolidated list and its CSV)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.db import get_session
from app.security import body_limit
from app.tenancy import get_or_404
from shared_workspace.models import Workspace
from shared_workspace.stakeholders import directory, lists
from shared_workspace.stakeholders.models import (
    CATEGORIES,
    ENTRY_KINDS,
    ImportBatch,
    Nomination,
    StakeholderEntry,
)
from shared_workspace.views import bp as workspaces_bp
from tenants.models import User

bp = Blueprint("stakeholders", __name__, url_prefix="/stakeholders", template_folder="../templates")


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.get("")
def index() -> str:
    db = get_session()
    text, category = request.args.get("q", "")[:100], request.args.get("category", "")
    return render_template(
        "stakeholders/index.html",
        entries=directory.search(db, text, category),
        q=text,
        category=category,
        categories=CATEGORIES,
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:entry_id>", methods=["GET", "POST"])
def edit(entry_id: int | None = None) -> str | Response:
    db = get_session()
    entry = get_or_404(db, StakeholderEntry, entry_id) if entry_id else None
    error = ""
    if request.method == "POST":
        values = {k: request.form.get(k, "")[:6000] for k in directory.COLUMNS}
        values["consent"] = "yes" if request.form.get("consent") else "no"
        values["do_not_contact"] = "yes" if request.form.get("do_not_contact") else "no"
        try:
            entry = directory.save_entry(db, _me(), values, entry)
        except directory.DirectoryError as exc:
            error = str(exc)
        else:
            flash(f"{entry.name} saved", "success")
            return redirect(url_for("stakeholders.index"))
    return render_template(
        "stakeholders/edit.html",
        entry=entry,
        error=error,
        form=request.form,
        categories=CATEGORIES,
        kinds=ENTRY_KINDS,
    ), (422 if error else 200)


@bp.route("/import", methods=["GET", "POST"])
@body_limit(directory.MAX_IMPORT_BODY_BYTES)
def upload() -> str | Response:
    error = ""
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            error = "Choose a CSV or XLSX file"
        else:
            data = file.stream.read(directory.MAX_IMPORT_BYTES + 1)
            try:
                batch = directory.preview(get_session(), _me(), file.filename, data)
            except directory.DirectoryError as exc:
                error = str(exc)
            else:
                return redirect(url_for("stakeholders.review_import", import_id=batch.id))
    return render_template(
        "stakeholders/import.html",
        error=error,
        limit_mb=directory.MAX_IMPORT_BYTES // 1024 // 1024,
        columns=directory.COLUMNS,
    ), (422 if error else 200)


@bp.route("/import/<int:import_id>", methods=["GET", "POST"])
def review_import(import_id: int) -> str | Response:
    db = get_session()
    batch = get_or_404(db, ImportBatch, import_id)
    db.refresh(batch)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status=batch.status, progress=batch.progress, error=batch.error)
    if request.method == "POST":
        try:
            count = directory.commit(db, batch, _me())
        except directory.DirectoryError as exc:
            flash(str(exc))
        else:
            flash(f"{count} entries imported", "success")
            return redirect(url_for("stakeholders.index"))
    return render_template("stakeholders/preview.html", batch=batch)


@bp.get("/export.csv")
def export() -> Response:
    db = get_session()
    audit.record(
        db,
        tenant_id=current_user.tenant_id,
        action="stakeholders.exported",
        object_type="tenant",
        object_id=current_user.tenant_id,
        changes={},
    )
    rows = list(db.scalars(select(StakeholderEntry).order_by(StakeholderEntry.id)))
    # A directory is at most a few megabytes of CSV: built whole, inside the request.
    return Response(
        "".join(directory.csv_rows(rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="stakeholders.csv"',
            "Cache-Control": "no-store",
        },
    )


@workspaces_bp.route("/<int:workspace_id>/stakeholders", methods=["GET", "POST"])
def workspace_stakeholders(workspace_id: int) -> str | Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = _me()
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "nominate":
                ids = [int(v) for v in request.form.getlist("entry_ids") if v.isdecimal()][:5000]
                added = lists.nominate(
                    db, workspace, me, ids, request.form.get("purpose", "both")[:20]
                )
                flash(f"{len(added)} nominated", "success")
            elif action == "mode":
                lists.set_mode(db, workspace, me, request.form.get("mode", "")[:20])
                flash("Sending arrangement saved", "success")
            elif action == "build":
                lists.start_rebuild(db, workspace, me)
                flash("Consolidating the lists", "success")
            elif action == "decide":
                left, right = request.form.get("left_id", ""), request.form.get("right_id", "")
                if not (left.isdecimal() and right.isdecimal()):
                    abort(400)
                lists.decide(
                    db, workspace, me, int(left), int(right), request.form.get("same") == "yes"
                )
                flash("Remembered. Consolidate again to update the list.", "success")
                # Straight on to the next pair: the page puts the keyboard focus on it.
                return redirect(
                    url_for(
                        "workspaces.workspace_stakeholders",
                        workspace_id=workspace.id,
                        _anchor="review",
                    )
                )
            elif action == "withdraw":
                ident = request.form.get("nomination_id", "")
                nomination = get_or_404(db, Nomination, int(ident)) if ident.isdecimal() else None
                if nomination is None or nomination.workspace_id != workspace.id:
                    abort(404)
                lists.withdraw(db, nomination, me)
                flash("Nomination withdrawn", "success")
            else:
                abort(400)
        except lists.ListError as exc:
            flash(str(exc))
        return redirect(url_for("workspaces.workspace_stakeholders", workspace_id=workspace.id))
    mine = set(
        db.scalars(
            select(Nomination.entry_id).where(
                Nomination.workspace_id == workspace.id, Nomination.tenant_id == me.tenant_id
            )
        )
    )
    nominations = db.scalars(
        select(Nomination).where(Nomination.workspace_id == workspace.id).order_by(Nomination.id)
    ).all()
    names = {p.tenant_id: p.tenant.short_name for p in workspace.participants}
    return render_template(
        "stakeholders/workspace.html",
        workspace=workspace,
        directory=[e for e in directory.search(db, limit=500) if e.id not in mine],
        nominations=nominations,
        listing=lists.distribution_list(db, workspace),
        recipients=lists.recipients(db, workspace),
        queue=lists.review_queue(db, workspace),
        names=names,
        is_lead=me.tenant_id == workspace.lead_tenant_id,
        display=lists._display_name,
    )


@workspaces_bp.get("/<int:workspace_id>/stakeholders/progress")
def stakeholders_progress(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    row = lists.distribution_list(db, workspace)
    db.refresh(row)
    return jsonify(status=row.status, progress=row.progress)


@workspaces_bp.get("/<int:workspace_id>/stakeholders.csv")
def stakeholders_csv(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    names = {p.tenant_id: p.tenant.short_name for p in workspace.participants}
    rows = lists.recipients(db, workspace)
    audit.record(
        db,
        tenant_id=current_user.tenant_id,
        action="stakeholders.list_exported",
        object_type="workspace",
        object_id=workspace.id,
        changes={"recipients": len(rows)},
    )
    return Response(
        "".join(lists.recipients_csv(rows, names)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="distribution-list-{workspace.id}.csv"',
            "Cache-Control": "no-store",
        },
    )
