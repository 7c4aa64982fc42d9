"""Retention pages of an inspectorate: its rules (every member of staff reads them; records
managers add versions), and the records managers' holds, review and transfer tasks, dry-run
preview and destruction certificates with their CSV and PDF exports (downloads audited).

Certificates are in certificate_views.py, and the workspace pages (the agreement, events,
closing, each item's explanation) in workspace_views.py, both on this blueprint.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.clock import clock
from app.db import get_session
from app.forms import parse_form
from app.tenancy import get_or_404
from retention import actions, holds, queries, service
from retention.api import me, own_claim, records_managers_only
from retention.models import (
    ACTION_LABELS,
    EVENTS,
    HOLD_REASONS,
    SENSITIVITIES,
    TRIGGER_LABELS,
    Action,
    Certificate,
    Hold,
    HoldScope,
    RetentionRule,
    State,
    Trigger,
    Unit,
)
from retention.rules import (
    RetentionError,
    RuleError,
    class_label,
    describe_rule,
    known_classes,
    start_of_day,
)
from retention.schemas import (
    MATERIAL_TYPE_LABELS,
    HoldFormSchema,
    PreviewQuerySchema,
    ReleaseFormSchema,
    ReviewFormSchema,
    RuleFormSchema,
    SettingsFormSchema,
)
from shared_workspace import service as workspaces
from tenants.models import Role

bp = Blueprint("retention", __name__, template_folder="templates")

#: Each state as people read it, and the colour of its tag.
STATE_LABELS = {
    State.WAITING.value: ("Waiting for its trigger", "govuk-tag--grey"),
    State.SCHEDULED.value: ("Scheduled", ""),
    State.RETAINED.value: ("Kept permanently", "govuk-tag--green"),
    State.REVIEW.value: ("Review due", "govuk-tag--yellow"),
    State.TRANSFER.value: ("Transfer due", "govuk-tag--yellow"),
    State.DESTROYING.value: ("Being destroyed", "govuk-tag--orange"),
    State.RELEASED.value: ("Claim ended", "govuk-tag--grey"),
    State.DESTROYED.value: ("Destroyed", "govuk-tag--red"),
    State.TRANSFERRED.value: ("Transferred", "govuk-tag--green"),
    State.UNRULED.value: ("No rule", "govuk-tag--purple"),
}
#: What each field of a rule means, shown as the field's hint.
TRIGGER_HINTS = {
    Trigger.PUBLICATION.value: "The workspace's publication date (moves when it moves).",
    Trigger.UPLOAD.value: "The day the item was added: never moves.",
    Trigger.CLOSURE.value: "The day the lead closes the inspection after publication.",
    Trigger.EVENT.value: "A day your inspectorate confirms, e.g. all notes transcribed.",
}
ACTION_HINTS = {
    Action.DESTROY.value: "The sweep destroys it on the day (unless held) and certifies it.",
    Action.REVIEW.value: "A records manager decides on the day: extend or destroy.",
    Action.RETAIN.value: "Kept for good; the offset and trigger do not matter.",
    Action.TRANSFER.value: "A records manager confirms the hand-over to your records system.",
}
SENSITIVITY_HINTS = {
    "any": "Every item of the class, unless a rule for its own sensitivity exists.",
    "standard": "Items not marked sensitive.",
    "sensitive": "OFFICIAL-SENSITIVE items, or evidence with the sensitive retention class.",
}


def template_globals() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "action_labels": {a.value: label for a, label in ACTION_LABELS.items()},
        "material_type_labels": MATERIAL_TYPE_LABELS,
        "hold_reasons": HOLD_REASONS,
        "class_label": class_label,
        "describe_rule": describe_rule,
        "is_records_manager": lambda: current_user.has_role(Role.RECORDS_MANAGER),
    }


bp.context_processor(lambda: {"retention": template_globals()})


def _rule_choices() -> dict[str, list[dict[str, Any]]]:
    """The rule form's choices, as GOV.UK macros take them, each explained."""

    def radio(value: str, text: str, hint: str) -> dict[str, Any]:
        return {"value": value, "text": text, "hint": {"text": hint}}

    classes = sorted(known_classes().items(), key=lambda kv: (kv[0] != "all", kv[1]))
    return {
        "classes": [{"value": "", "text": "Choose the material"}]
        + [{"value": key, "text": label} for key, label in classes],
        "sensitivities": [radio(s, s.capitalize(), SENSITIVITY_HINTS[s]) for s in SENSITIVITIES],
        "triggers": [
            radio(t.value, TRIGGER_LABELS[t][0].upper() + TRIGGER_LABELS[t][1:], TRIGGER_HINTS[t])
            for t in Trigger
        ],
        "events": [{"value": "", "text": "Not an event"}]
        + [{"value": key, "text": label} for key, label in EVENTS.items()],
        "units": [{"value": u.value, "text": u.value.capitalize()} for u in Unit],
        "actions": [radio(a.value, ACTION_LABELS[a], ACTION_HINTS[a]) for a in Action],
    }


@bp.get("/retention")
def index(errors: dict[str, str] | None = None) -> str:
    """The inspectorate's rules, every version; records managers see their work too."""
    db = get_session()
    tenant_id = me().tenant_id
    rules = queries.rule_versions(db, tenant_id)
    current = actions.current_rules(db, tenant_id)
    today = clock.today()
    summary = None
    if current_user.has_role(Role.RECORDS_MANAGER):
        summary = {
            "holds": len(queries.holds(db, tenant_id, active=True)),
            "tasks": queries.tasks_count(db, tenant_id),
            "due": queries.due_soon(db, tenant_id, _until(30)),
            "certificates": db.scalar(
                select(func.count(Certificate.id)).where(Certificate.tenant_id == tenant_id)
            ),
        }
    return render_template(
        "retention/index.html",
        errors=errors or {},
        warning_days=service.warning_days(db, me().tenant),
        rules=rules,
        current=[r for r in current if r.effective_from <= today],
        future=[r for r in current if r.effective_from > today],
        current_ids={r.id for r in current},
        summary=summary,
        today=today,
    )


@bp.post("/retention/settings")
@records_managers_only
def settings() -> Response | tuple[str, int]:
    """How many days ahead records managers and lead inspectors hear of destruction."""
    data, errors = parse_form(SettingsFormSchema())
    if not errors:
        try:
            days = service.set_warning_days(get_session(), me(), data["warning_days"])
        except RetentionError as exc:
            errors = {"warning_days": str(exc)}
        else:
            flash(f"People now hear about destruction {days} days ahead", "success")
            return redirect(url_for("retention.index", _anchor="settings"))
    return index(errors), 422


def _until(days: int) -> datetime:
    """The end of the day ``days`` from today: what the preview of that many days covers."""
    return start_of_day(clock.today() + timedelta(days=days + 1))


@bp.route("/retention/rules/new", methods=["GET", "POST"])
@records_managers_only
def new_rule() -> str | Response | tuple[str, int]:
    """Add a version of a rule, applying from a date; every field is explained."""
    db = get_session()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"sensitivity": "any", "offset_unit": "days", "offset_amount": "0"}
    source = request.args.get("from", "")
    if request.method == "GET" and source.isdecimal() and len(source) < 10:
        rule = get_or_404(db, RetentionRule, int(source))
        values = {
            "material_class": rule.material_class,
            "sensitivity": rule.sensitivity,
            "trigger": rule.trigger,
            "event_name": rule.event_name,
            "offset_amount": str(rule.offset_amount),
            "offset_unit": rule.offset_unit,
            "action": rule.action,
            "note": rule.note,
        }
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = parse_form(RuleFormSchema())
        if not errors:
            try:
                rule = actions.add_rule(db, me(), data)
            except RuleError as exc:
                errors = {exc.field or "material_class": str(exc)}
            else:
                flash(
                    f"Rule saved: {class_label(rule.material_class)}, {describe_rule(rule)}, "
                    f"from {rule.effective_from:%-d %B %Y}. Open schedules were recomputed.",
                    "success",
                )
                return redirect(url_for("retention.index", _anchor="rules"))
    page = render_template(
        "retention/rule_form.html", errors=errors, values=values, choices=_rule_choices()
    )
    return (page, 422) if errors else page


# --- holds ---------------------------------------------------------------------------------


def _holds_page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    rows = queries.holds(db, me().tenant_id)
    return render_template(
        "retention/holds.html",
        active=[h for h in rows if h.released_at is None],
        released=[h for h in rows if h.released_at is not None][:100],
        titles=queries.workspace_titles(db, {h.workspace_id for h in rows if h.workspace_id}),
        errors=errors or {},
        today=clock.today(),
    ), status


@bp.get("/retention/holds")
@records_managers_only
def holds_page() -> tuple[str, int]:
    return _holds_page()


@bp.route("/retention/holds/new", methods=["GET", "POST"])
@records_managers_only
def new_hold() -> str | Response | tuple[str, int]:
    """Place a hold on an item, an inspection or all the inspectorate's material."""
    db = get_session()
    errors: dict[str, str] = {}
    wanted = {k: request.args.get(k, "")[:20] for k in ("scope", "workspace_id", "material_type")}
    wanted["material_id"] = request.args.get("material_id", "")[:10]
    values: dict[str, Any] = {"scope": "workspace", **{k: v for k, v in wanted.items() if v}}
    if request.method == "POST":
        values = request.form.to_dict()
        data, errors = parse_form(HoldFormSchema())
        if not errors:
            try:
                hold = holds.place_hold(db, me(), **data)
            except RetentionError as exc:
                errors = {exc.field or "scope": str(exc)}
            except LookupError:
                field = "workspace_id" if data["scope"] == HoldScope.WORKSPACE else "material_id"
                errors = {field: "Your inspectorate has nothing with this id to hold"}
            else:
                flash(f"Hold placed: {HOLD_REASONS[hold.reason_kind]} ({hold.reason})", "success")
                return redirect(url_for("retention.holds_page"))
    page = render_template(
        "retention/hold_form.html",
        errors=errors,
        values=values,
        workspace_items=[{"value": "", "text": "Choose an inspection"}]
        + [{"value": str(w.id), "text": w.title} for w in workspaces.my_workspaces(db)],
        reason_items=[{"value": key, "text": text} for key, text in HOLD_REASONS.items()],
        type_items=[{"value": "", "text": "Choose the kind of item"}]
        + [{"value": key, "text": text} for key, text in MATERIAL_TYPE_LABELS.items()],
    )
    return (page, 422) if errors else page


@bp.post("/retention/holds/<int:hold_id>/release")
@records_managers_only
def release_hold(hold_id: int) -> Response | tuple[str, int]:
    db = get_session()
    hold = get_or_404(db, Hold, hold_id)
    field = f"release-{hold.id}"
    data, errors = parse_form(ReleaseFormSchema())
    if errors:
        return _holds_page({field: errors.get("reason", "Say why the hold is released")}, 422)
    try:
        due = holds.release_hold(db, me(), hold, data["reason"])
    except RetentionError as exc:
        return _holds_page({field: str(exc)}, 422)
    flash(
        "Hold released."
        + (f" {due} item(s) it kept are due now: the next sweep destroys them." if due else ""),
        "success",
    )
    return redirect(url_for("retention.holds_page"))


# --- review and transfer tasks -------------------------------------------------------------

TASKS_PER_PAGE = 50


def _reviews_page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    tasks = service.review_tasks(db, me().tenant_id)
    number = request.args.get("page", "1")
    page = int(number) if number.isdecimal() and 0 < int(number) < 10_000 else 1
    shown = tasks[(page - 1) * TASKS_PER_PAGE : page * TASKS_PER_PAGE]
    names = service.tenant_names(db)
    return render_template(
        "retention/reviews.html",
        tasks=shown,
        total=len(tasks),
        page=page,
        pages=max(1, -(-len(tasks) // TASKS_PER_PAGE)),
        explanations={t.id: service.explain(db, t, names) for t in shown},
        titles=queries.workspace_titles(db, {t.workspace_id for t in shown}),
        errors=errors or {},
        form=request.form,
        today=clock.today(),
    ), status


@bp.get("/retention/reviews")
@records_managers_only
def reviews() -> tuple[str, int]:
    return _reviews_page()


@bp.post("/retention/reviews/<int:schedule_id>")
@records_managers_only
def review(schedule_id: int) -> Response | tuple[str, int]:
    """Answer one task: extend with a date and reason, approve destruction, or confirm a
    transfer."""
    from app.api.errors import ApiError

    try:
        claim = own_claim(schedule_id)
    except ApiError:
        abort(404)
    data, errors = parse_form(ReviewFormSchema())
    if errors:
        return _reviews_page({f"{k}-{claim.id}": v for k, v in errors.items()}, 422)
    try:
        actions.review(get_session(), me(), claim, **data)
    except RetentionError as exc:
        return _reviews_page({f"{exc.field or 'outcome'}-{claim.id}": str(exc)}, 422)
    except LookupError:
        abort(404)
    done = {
        "extend": f"extended to {claim.disposal_on:%-d %B %Y}",
        "destroy": "approved for destruction by the next sweep",
        "transferred": "recorded as transferred",
    }[data["outcome"]]
    flash(f"“{claim.title}”: {done}", "success")
    return redirect(url_for("retention.reviews"))


# --- preview -------------------------------------------------------------------------------


@bp.get("/retention/preview")
@records_managers_only
def preview() -> tuple[str, int]:
    """Dry run: what the sweeps of the next N days destroy, per inspection if chosen."""
    db = get_session()
    errors: dict[str, str] = {}
    found: dict[str, Any] | None = None
    try:
        query = PreviewQuerySchema().load(request.args.to_dict())
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        errors = {k: (v[0] if isinstance(v, list) else str(v)) for k, v in messages.items()}
        query = {"days": 30, "workspace": None}
    workspace_id = query["workspace"]
    mine = workspaces.my_workspaces(db)
    if workspace_id is not None and workspace_id not in {w.id for w in mine}:
        errors["workspace"] = "Choose one of your inspectorate's inspections"
    if not errors:
        found = service.preview(db, me().tenant_id, query["days"], workspace_id)
    rows = (found["due"] + found["held"]) if found else []
    return render_template(
        "retention/preview.html",
        errors=errors,
        days=request.args.get("days", "30")[:10] if errors else query["days"],
        workspace_id=workspace_id,
        workspaces=mine,
        found=found,
        until=clock.today() + timedelta(days=query["days"]),
        titles=queries.workspace_titles(db, {r.workspace_id for r in rows}),
    ), (422 if errors else 200)
