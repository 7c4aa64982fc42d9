"""Page: one circulated draft, the comments its reader made and the response to each."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.db import get_session
from app.tenancy import get_or_404
from shared_workspace.models import Workspace
from shared_workspace.publication import circulations
from shared_workspace.publication.media import MediaError
from shared_workspace.publication.models import Circulation, CirculationComment
from shared_workspace.views import bp


@bp.route("/<int:workspace_id>/circulations/<int:circulation_id>", methods=["GET", "POST"])
def circulation(workspace_id: int, circulation_id: int) -> str | Response | tuple[str, int]:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    row = get_or_404(db, Circulation, circulation_id)
    if row.workspace_id != workspace.id:
        abort(404)
    me = current_user._get_current_object()
    errors: dict[str, str] = {}
    values = {"text": "", "source": "", "reference": "", "received_on": ""}
    answering: int | None = None
    #: What was typed into a response that was refused, to show it again.
    answer: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "respond":
                ident = form.get("comment_id", "")
                comment = (
                    get_or_404(db, CirculationComment, int(ident)) if ident.isdecimal() else None
                )
                if comment is None or comment.circulation_id != row.id:
                    abort(404)
                answering = comment.id
                answer = {
                    "outcome": form.get("outcome", ""),
                    "response": form.get("response", "")[: circulations.MAX_TEXT + 1],
                }
                circulations.respond(db, workspace, comment, me, **answer)
                flash("Response recorded", "success")
            else:
                values = {key: form.get(key, "") for key in values}
                received = values["received_on"].strip()
                try:
                    received_on = date.fromisoformat(received) if received else None
                except ValueError:
                    raise MediaError(
                        "Enter the date received as a date, like 2027-01-31", "received_on"
                    ) from None
                circulations.add_comment(
                    db,
                    workspace,
                    row,
                    me,
                    text=values["text"][: circulations.MAX_TEXT + 1],
                    source=values["source"][:300],
                    reference=values["reference"][:300],
                    received_on=received_on,
                )
                flash("Comment recorded", "success")
            return redirect(
                url_for("workspaces.circulation", workspace_id=workspace.id, circulation_id=row.id)
            )
        except MediaError as exc:
            if answering:
                field = exc.field if exc.field in ("outcome", "response") else "response"
                errors[f"{field}-{answering}"] = str(exc)
            else:
                field = exc.field if exc.field in values else "text"
                errors[field] = str(exc)
    page = render_template(
        "publication/circulation.html",
        workspace=workspace,
        circulation=row,
        comments=circulations.comments(db, row),
        outcomes=circulations.OUTCOMES,
        errors=errors,
        values=values,
        answering=answering,
        answer=answer,
    )
    return (page, 422) if errors else page
