"""Retention pages of one joint inspection, for its participants: the retention agreement
side by side (the lead proposes it; records managers answer it as any decision), confirmed
events, closing the inspection, every item with its claims, the inspectorate's preview, and
"what happens to this item, when, and why"."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.clock import clock
from app.db import get_session
from app.forms import parse_form
from app.tenancy import get_or_404
from retention import actions, queries, service
from retention.api import me
from retention.models import EVENTS, HoldScope, MaterialType, Schedule
from retention.rules import RetentionError, class_label
from retention.schemas import CloseFormSchema, EventFormSchema
from retention.views import bp
from retention.workspace_api import explain_item
from shared_workspace import decisions
from shared_workspace.decisions import DecisionError
from shared_workspace.models import Decision, Workspace
from tenants.models import Role

WORKSPACE = "/workspaces/<int:workspace_id>/retention"
PREVIEW_DAYS = (7, 30, 90, 365)
#: Rows of the preview shown on the workspace page (the counts are exact).
PREVIEW_ROWS = 50


def _workspace(workspace_id: int) -> Workspace:
    return get_or_404(get_session(), Workspace, workspace_id)


def _sync(workspace: Workspace) -> None:
    """Schedule material that has no claim of this inspectorate yet, when there is any (three
    indexed checks first, so the page stays cheap). Two pages doing it at once is harmless:
    the second one's rows clash with the first's and are dropped."""
    db = get_session()
    if not queries.needs_sync(db, workspace, me().tenant_id):
        return
    try:
        with db.begin_nested():
            service.sync_workspace(db, workspace)
    except IntegrityError:
        db.expire_all()


def agreement_rows(content: dict[str, Any]) -> list[tuple[str, str, dict[int, str]]]:
    """The agreement as rows (class, sensitivity) with each inspectorate's rule."""
    rows: dict[tuple[str, str], dict[int, str]] = {}
    for column in content.get("tenants", []):
        for rule in column["rules"]:
            rows.setdefault((rule["class"], rule["sensitivity"]), {})[column["tenant_id"]] = rule[
                "rule"
            ]
    everything = class_label("all")
    ordered = sorted(rows.items(), key=lambda kv: (kv[0][0] != everything, kv[0]))
    return [(cls, sensitivity, cells) for (cls, sensitivity), cells in ordered]


def _agreement(workspace: Workspace) -> dict[str, Any]:
    db = get_session()
    content = actions.agreement_content(db, workspace)
    decision = db.scalar(
        select(Decision)
        .where(Decision.workspace_id == workspace.id, Decision.kind == "retention_agreement")
        .order_by(Decision.id.desc())
        .limit(1)
    )
    waiting: list[str] = []
    ids: set[int] = set()
    changed = False
    if decision is not None:
        ids = decisions.waiting_for(decision, workspace)
        waiting = [p.tenant.short_name for p in workspace.participants if p.tenant_id in ids]
        changed = (decision.subject.content or {}) != content
    return {
        "content": content,
        "rows": agreement_rows(content),
        "decision": decision,
        "waiting": waiting,
        "changed": changed,
        "entitled": bool(
            decision is not None
            and decision.status == "open"
            and me().tenant_id in ids
            and decisions.entitled_roles(db, decision, me())
        ),
    }


def _page(
    workspace: Workspace, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    db = get_session()
    user = me()
    days_text = request.args.get("days", "30")
    days = int(days_text) if days_text.isdecimal() and int(days_text) <= 3660 else 30
    items = queries.items_page(db, workspace.id, cursor=request.args.get("cursor"))
    all_claims = [c for item in items.rows for c in item.claims]
    active = queries.holds(db, user.tenant_id, active=True)
    found = service.preview(db, user.tenant_id, days, workspace.id)
    return render_template(
        "retention/workspace.html",
        workspace=workspace,
        is_lead=user.tenant_id == workspace.lead_tenant_id,
        can_confirm=user.has_role(Role.RECORDS_MANAGER, Role.LEAD_INSPECTOR),
        agreement=_agreement(workspace),
        events=queries.events(db, workspace.id),
        event_labels=EVENTS,
        names={p.tenant_id: p.tenant.short_name for p in workspace.participants},
        items=items,
        held=queries.held_claim_ids(active, all_claims),
        workspace_held=[
            h
            for h in active
            if h.scope == HoldScope.TENANT
            or (h.scope == HoldScope.WORKSPACE and h.workspace_id == workspace.id)
        ],
        preview=found,
        preview_rows=PREVIEW_ROWS,
        days=days,
        day_choices=PREVIEW_DAYS,
        errors=errors or {},
        form=request.form,
        today=clock.today(),
    ), status


@bp.get(WORKSPACE)
def workspace(workspace_id: int) -> tuple[str, int]:
    ws = _workspace(workspace_id)
    _sync(ws)
    return _page(ws)


@bp.post(WORKSPACE + "/agreement")
def propose_agreement(workspace_id: int) -> Response:
    """The lead proposes (or refreshes) the agreement from every participant's rules."""
    ws = _workspace(workspace_id)
    if me().tenant_id != ws.lead_tenant_id:
        abort(403)
    try:
        decision = actions.propose_agreement(get_session(), ws, me())
    except (DecisionError, RetentionError) as exc:
        flash(str(exc), "info")
    else:
        flash(
            "Retention agreement proposed: each inspectorate's records manager is asked to "
            f"approve it (version {decision.subject_version})",
            "success",
        )
    return redirect(url_for("retention.workspace", workspace_id=ws.id, _anchor="agreement"))


@bp.post(WORKSPACE + "/events")
def confirm_event(workspace_id: int) -> Response | tuple[str, int]:
    """Records managers and lead inspectors confirm an event for their inspectorate."""
    ws = _workspace(workspace_id)
    if not me().has_role(Role.RECORDS_MANAGER, Role.LEAD_INSPECTOR):
        abort(403)
    data, errors = parse_form(EventFormSchema())
    if not errors:
        try:
            actions.confirm_event(get_session(), me(), ws, data["event"], data["confirmed_on"])
        except RetentionError as exc:
            field = {"name": "event"}.get(exc.field, exc.field) or "event"
            errors = {field: str(exc)}
    if errors:
        return _page(ws, errors, 422)
    flash(
        f"Confirmed for {me().tenant.short_name}: {EVENTS[data['event']]}, on "
        f"{data['confirmed_on']:%-d %B %Y}. Schedules waiting for it have moved.",
        "success",
    )
    return redirect(url_for("retention.workspace", workspace_id=ws.id, _anchor="events"))


@bp.post(WORKSPACE + "/close")
def close(workspace_id: int) -> Response | tuple[str, int]:
    """The lead closes the inspection after publication."""
    ws = _workspace(workspace_id)
    if me().tenant_id != ws.lead_tenant_id:
        abort(403)
    data, errors = parse_form(CloseFormSchema())
    moved = 0
    if not errors:
        try:
            moved = actions.close_workspace(get_session(), me(), ws, data["closed_on"])
        except RetentionError as exc:
            errors = {exc.field or "closed_on": str(exc)}
    if errors:
        return _page(ws, errors, 422)
    flash(
        f"Inspection closed on {ws.closed_on:%-d %B %Y}; {moved} schedule(s) counted from "
        "closure have moved.",
        "success",
    )
    return redirect(url_for("retention.workspace", workspace_id=ws.id, _anchor="close"))


def material_link(ws: Workspace, claim: Schedule) -> str | None:
    """Where the item itself is, while it exists and the user can see it."""
    if claim.state == "destroyed":
        return None
    if claim.material_type == MaterialType.EVIDENCE_FILE:
        item_id = queries.evidence_item_id(get_session(), claim.material_id)
        if item_id is None:
            return None
        return url_for(
            "workspaces.evidence_item",
            workspace_id=ws.id,
            evidence_id=item_id,
            _anchor=f"file-{claim.material_id}",
        )
    if claim.material_type == MaterialType.DOCUMENT:
        return url_for("workspaces.document", workspace_id=ws.id, document_id=claim.material_id)
    if claim.tenant_id == me().tenant_id:
        return url_for("workspaces.private_area", workspace_id=ws.id)
    return None


@bp.get(WORKSPACE + "/items/<material_type>/<int:material_id>")
def item(workspace_id: int, material_type: str, material_id: int) -> str:
    """What happens to this item, when, and why: each inspectorate's claim, and the item."""
    ws = _workspace(workspace_id)
    found = explain_item(ws, material_type, material_id)
    if found is None:
        abort(404)
    mine = [c for c in found["claims"] if c.tenant_id == me().tenant_id]
    return render_template(
        "retention/item.html",
        workspace=ws,
        found=found,
        short_names={p.tenant_id: p.tenant.short_name for p in ws.participants},
        link=material_link(ws, found["claims"][0]),
        can_hold=bool(mine) and me().has_role(Role.RECORDS_MANAGER),
        my_task=next((c for c in mine if c.state in ("review", "transfer")), None),
    )
