"""Pages: the letter register, the media strategy and publication plan (with its calendar
export), the recommendations tracker (with exports) and its public read-only view."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.clock import clock
from app.db import get_session, set_context
from app.tenancy import get_or_404
from shared_workspace import decisions
from shared_workspace.documents.models import Document
from shared_workspace.models import Site, Workspace
from shared_workspace.publication import circulations, letters, media, schedule, tracker
from shared_workspace.publication.models import Letter, Recommendation
from shared_workspace.views import bp
from tenants.login import public
from tenants.models import User


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


#: The fields of the draft-a-letter form.
LETTER_FIELDS = ("addressee_name", "addressee_role", "addressee_email", "site_id", "title", "body")


@bp.route("/<int:workspace_id>/letters", methods=["GET", "POST"])
def letter_register(workspace_id: int) -> str | Response | tuple[str, int]:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = _me()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        action = form.get("action", "")
        try:
            with db.begin_nested():  # a refusal keeps nothing of the attempt
                if action == "create":
                    site_id = form.get("site_id", "")
                    site = get_or_404(db, Site, int(site_id)) if site_id.isdecimal() else None
                    if site is not None and site.workspace_id != workspace.id:
                        abort(404)
                    letter = letters.create_letter(
                        db,
                        workspace,
                        me,
                        addressee_name=form.get("addressee_name", "")[:200],
                        addressee_role=form.get("addressee_role", "")[:200],
                        addressee_email=form.get("addressee_email", "")[:320],
                        title=form.get("title", "")[:300] or workspace.title,
                        body=form.get("body", "")[:100_000],
                        site=site,
                    )
                    letters.request_authority(db, workspace, letter, me)
                    flash(
                        "Letter drafted: the development group representatives are asked to "
                        "authorise it",
                        "success",
                    )
                else:
                    ident = form.get("letter_id", "")
                    letter = get_or_404(db, Letter, int(ident)) if ident.isdecimal() else None
                    if letter is None or letter.workspace_id != workspace.id:
                        abort(404)
                    if action == "send":
                        letters.send(db, workspace, letter, me)
                        flash(f"The letter to {letter.addressee_name} is being sent", "success")
                    elif action == "authority":
                        letters.request_authority(db, workspace, letter, me)
                        flash("Authority requested", "success")
                    else:
                        abort(400)
        except letters.LetterError as exc:
            # Shown on the page with the form as typed; nothing of the attempt is kept.
            if action == "create":
                values = {k: form.get(k, "")[:100_000] for k in LETTER_FIELDS}
                field = exc.field if exc.field in LETTER_FIELDS else "addressee_name"
            else:
                ident = form.get("letter_id", "")
                field = f"letter-{ident}" if ident.isdecimal() and len(ident) < 12 else "letters"
            errors = {field: str(exc)}
        else:
            return redirect(url_for("workspaces.letter_register", workspace_id=workspace.id))
    rows = letters.register(db, workspace)
    today = clock.today()
    state = {
        letter.id: {
            "decision": letters.authority(db, letter),
            "blockers": letters.send_blockers(db, workspace, letter, today),
        }
        for letter in rows
    }
    sites = list(
        db.scalars(select(Site).where(Site.workspace_id == workspace.id).order_by(Site.name))
    )
    page = render_template(
        "publication/letters.html",
        workspace=workspace,
        letters=rows,
        state=state,
        sites=sites,
        site_names={site.id: site.name for site in sites},
        is_lead=me.tenant_id == workspace.lead_tenant_id,
        errors=errors,
        values=values,
    )
    return (page, 422) if errors else page


@bp.get("/<int:workspace_id>/letters/<int:letter_id>.<any(pdf, docx):fmt>")
def letter_pdf(workspace_id: int, letter_id: int, fmt: str) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    letter = get_or_404(db, Letter, letter_id)
    if letter.workspace_id != workspace.id:
        abort(404)
    if fmt == "pdf":
        body, mimetype = letters.letter_pdf(db, workspace, letter), "application/pdf"
    else:
        body = letters.letter_docx(db, workspace, letter)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    audit.record(
        db,
        tenant_id=current_user.tenant_id,
        action="letter.downloaded",
        object_type="letter",
        object_id=letter.id,
        changes={"format": fmt},
    )
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="letter-{letter.id}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


#: The fields of the form that records a circulated draft.
CIRCULATION_FIELDS = (
    "document_id",
    "recipient",
    "organisation",
    "kind",
    "scope",
    "sent_on",
    "working_days",
)


@bp.route("/<int:workspace_id>/publication", methods=["GET", "POST"])
def publication(workspace_id: int) -> str | Response | tuple[str, int]:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = _me()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        action = form.get("action", "")
        try:
            with db.begin_nested():  # a refusal keeps nothing of the attempt
                if action == "strategy":
                    quoted = [int(v) for v in form.getlist("quoted") if v.isdecimal()]
                    media.save_strategy(
                        db,
                        workspace,
                        me,
                        {
                            "launch": form.get("launch") or None,
                            "key_messages": form.get("key_messages", "")[:20_000],
                            "quoted_tenant_ids": quoted,
                            "interview_bids": form.get("interview_bids") or None,
                            "spokespeople": form.get("spokespeople", "")[:5000],
                            "briefings": form.get("briefings", "")[:5000],
                            "post_publication": form.get("post_publication", "")[:5000],
                        },
                    )
                    flash("Media strategy saved", "success")
                elif action == "press_notice":
                    notice = media.draft_press_notice(db, workspace, me)
                    return redirect(
                        url_for(
                            "workspaces.document", workspace_id=workspace.id, document_id=notice.id
                        )
                    )
                elif action == "schedule":
                    if me.tenant_id != workspace.lead_tenant_id:
                        raise schedule.ScheduleError(
                            "Only the lead inspectorate builds the schedule"
                        )
                    sends = schedule.build(db, workspace)
                    flash(f"{len(sends)} sends scheduled", "success")
                elif action == "circulate":
                    ident = form.get("document_id", "")
                    document = get_or_404(db, Document, int(ident)) if ident.isdecimal() else None
                    sent_on = _date(form.get("sent_on", ""))
                    days = form.get("working_days", "10")
                    if document is None:
                        raise media.MediaError("Choose the draft that was sent", "document_id")
                    if sent_on is None:
                        raise media.MediaError(
                            "Enter the date it was sent, like 21/12/2026", "sent_on"
                        )
                    if not days.isdecimal():
                        raise media.MediaError(
                            "Enter the working days to reply as a number, like 10", "working_days"
                        )
                    media.circulate(
                        db,
                        workspace,
                        me,
                        document=document,
                        recipient=form.get("recipient", "")[:300],
                        organisation=form.get("organisation", "")[:300],
                        kind=form.get("kind", "critical_reader"),
                        scope=form.get("scope", "factual_accuracy"),
                        sent_on=sent_on,
                        working_days=int(days[:2]),
                    )
                    flash("Circulation recorded", "success")
                else:
                    abort(400)
        except (media.MediaError, schedule.ScheduleError, decisions.DecisionError) as exc:
            # Shown on the page, linked to the field or the part of the page it concerns.
            field = getattr(exc, "field", "") or ""
            if action == "circulate":
                values = {k: form.get(k, "")[:300] for k in CIRCULATION_FIELDS}
                values["action"] = "circulate"
                field = field if field in CIRCULATION_FIELDS else "recipient"
            else:
                field = {"strategy": "strategy", "press_notice": "press-notice"}.get(
                    action, "schedule"
                )
            errors = {field: str(exc)}
        else:
            return redirect(url_for("workspaces.publication", workspace_id=workspace.id))
    documents = db.scalars(
        select(Document).where(Document.workspace_id == workspace.id).order_by(Document.id)
    ).all()
    page = render_template(
        "publication/publication.html",
        errors=errors,
        values=values,
        workspace=workspace,
        strategy=media.strategy(db, workspace),
        press_notice=media.press_notice(db, workspace),
        missing=media.missing_voices(db, workspace),
        sends=schedule.schedule(db, workspace),
        labels=schedule.LABELS,
        warning=media.working_day_warning(workspace.publication_date)
        if workspace.publication_date
        else None,
        circulations=media.circulations(db, workspace),
        comment_counts=circulations.open_counts(db, workspace),
        documents=documents,
        is_lead=me.tenant_id == workspace.lead_tenant_id,
    )
    return (page, 422) if errors else page


@bp.get("/<int:workspace_id>/publication/calendar")
def publication_calendar(workspace_id: int) -> str:
    """The distribution schedule as month grids, weekends and bank holidays marked."""
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    rows = schedule.schedule(db, workspace)
    return render_template(
        "publication/calendar.html",
        workspace=workspace,
        months=schedule.calendar(workspace, rows),
        labels=schedule.LABELS,
    )


@bp.get("/<int:workspace_id>/publication.ics")
def publication_ics(workspace_id: int) -> Response:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    body = schedule.ics(workspace, schedule.schedule(db, workspace))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="publication-{workspace.id}.ics"'},
    )


#: Where the response form of one recommendation shows each field's error.
RESPONSE_FIELDS = {"status": "status", "action_taken": "action", "responded_on": "on"}
#: The fields of the add form.
TRACKER_FIELDS = (
    "kind",
    "text",
    "organisation",
    "measure",
    "due_on",
    "evidence",
    "report_section",
)


@bp.route("/<int:workspace_id>/recommendations", methods=["GET", "POST"])
def recommendations(workspace_id: int) -> str | Response | tuple[str, int]:
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    me = _me()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        responding = form.get("action") == "respond"
        ident = form.get("recommendation_id", "")
        try:
            with db.begin_nested():  # a refusal keeps nothing of the attempt
                if responding:
                    row = get_or_404(db, Recommendation, int(ident)) if ident.isdecimal() else None
                    if row is None or row.workspace_id != workspace.id:
                        abort(404)
                    responded_on = _date(form.get("responded_on", "")) or clock.today()
                    tracker.respond(
                        db,
                        row,
                        status=form.get("status", ""),
                        action_taken=form.get("action_taken", "")[:5000],
                        responded_on=responded_on,
                    )
                    flash("Response recorded", "success")
                else:
                    tracker.add(
                        db,
                        workspace,
                        me,
                        text=form.get("text", "")[:5000],
                        organisation=form.get("organisation", "")[:300],
                        kind=form.get("kind") or None,
                        measure=form.get("measure", "")[:5000],
                        due_on=_date(form.get("due_on", "")),
                        evidence=form.get("evidence", "")[:5000],
                        report_section=form.get("report_section", "")[:300],
                    )
                    word = workspace.recommendations_word.capitalize()[:-1]
                    flash(f"{word} added", "success")
        except tracker.TrackerError as exc:
            # Shown on the page with the form as typed, the field marked.
            if responding:
                values = {k: form.get(k, "")[:5000] for k in RESPONSE_FIELDS}
                values["recommendation_id"] = ident
                field = f"{RESPONSE_FIELDS.get(exc.field or '', 'action')}-{ident}"
            else:
                values = {k: form.get(k, "")[:5000] for k in TRACKER_FIELDS}
                values["action"] = "add"
                field = exc.field if exc.field in TRACKER_FIELDS else "text"
            errors = {field: str(exc)}
        else:
            return redirect(url_for("workspaces.recommendations", workspace_id=workspace.id))
    page = render_template(
        "publication/tracker.html",
        workspace=workspace,
        rows=tracker.rows(db, workspace.id),
        statuses=tracker.STATUSES,
        public=False,
        errors=errors,
        values=values,
    )
    return (page, 422) if errors else page


@bp.get("/<int:workspace_id>/recommendations.<any(csv, xlsx):spreadsheet>")
def recommendations_export(workspace_id: int, spreadsheet: str) -> Response:
    fmt = spreadsheet
    db = get_session()
    workspace = get_or_404(db, Workspace, workspace_id)
    data = tracker.rows(db, workspace.id)
    audit.record(
        db,
        tenant_id=current_user.tenant_id,
        action="recommendations.exported",
        object_type="workspace",
        object_id=workspace.id,
        changes={"format": fmt},
    )
    if fmt == "csv":
        body: str | bytes = tracker.to_csv(data)
        mimetype = "text/csv"
    else:
        body = tracker.to_xlsx(workspace, data)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="tracker-{workspace.id}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


public_bp = Blueprint("tracker", __name__, url_prefix="/recommendations-tracker")


@public_bp.get("/<int:workspace_id>")
@public
def public_tracker(workspace_id: int) -> str:
    """A published inspection's recommendations and responses, for anyone (§46)."""
    db = get_session()
    set_context(db, tenant_id=None, purpose="public-tracker")
    workspace = db.scalar(
        select(Workspace).where(Workspace.id == workspace_id, Workspace.published_at.is_not(None))
    )
    if workspace is None:
        abort(404)
    return render_template(
        "publication/tracker.html",
        workspace=workspace,
        rows=tracker.rows(db, workspace.id),
        statuses=tracker.STATUSES,
        public=True,
        errors={},
        values={},
    )


# Registered here so the package's pages are all imported with this module.
from shared_workspace.publication import circulation_views as _circulation_views  # noqa: E402, F401
