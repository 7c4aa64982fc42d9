"""JSON API for one joint inspection's retention, for its participants: the claims they can
see, "what happens to this item, when, and why", confirmed events, the retention agreement
(proposed by the lead, answered through the decisions API) and closing the inspection."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.clock import clock
from app.db import get_session
from retention import actions, queries, service
from retention.api import (
    TAGS,
    dump_with,
    known_item,
    me,
    require_lead,
    retention_rules,
    workspace_of,
)
from retention.schemas import (
    AgreementProposedSchema,
    ClosedSchema,
    CloseInSchema,
    EventInSchema,
    EventSchema,
    ItemRetentionSchema,
    RetentionClaimPageSchema,
)
from shared_workspace.models import Workspace


@api.get("/workspaces/<int:workspace_id>/retention")
@operation(
    summary="The workspace's retention claims your inspectorate can see, oldest first "
    "(state, cursor, limit)",
    tags=TAGS,
    response=RetentionClaimPageSchema,
    scope="read",
)
def list_retention_claims(workspace_id: int) -> Response:
    db = get_session()
    workspace = workspace_of(workspace_id)
    state = request.args.get("state", "").strip()[:20] or None
    page = queries.claims_page(
        db,
        workspace.id,
        cursor=request.args.get("cursor"),
        limit=queries.page_size(request.args.get("limit")),
        state=state,
    )
    return dump_with(
        RetentionClaimPageSchema(),
        {
            "claims": page.rows,
            "total": page.total,
            "total_is_capped": page.total_is_capped,
            "next_cursor": page.next_cursor,
        },
        names=service.tenant_names(db),
    )


def explain_item(
    workspace: Workspace, material_type: str, material_id: int
) -> dict[str, Any] | None:
    """Every visible claim on the item with its explanation, and the item's fate (None when
    the acting tenant can see no claim on it)."""
    db = get_session()
    if not known_item(material_type, material_id):
        return None
    claims = queries.item_claims(db, workspace.id, material_type, material_id)
    if not claims:
        return None
    names = service.tenant_names(db)
    active = queries.holds(db, me().tenant_id, active=True)
    return {
        "workspace_id": workspace.id,
        "material_type": material_type,
        "material_id": material_id,
        "title": claims[0].title,
        "joint": claims[0].joint,
        "fate": service.object_fate(claims),
        "claims": claims,
        "names": names,
        "explanations": {c.id: service.explain(db, c, names) for c in claims},
        "held": queries.held_claim_ids(active, claims),
    }


@api.get("/workspaces/<int:workspace_id>/retention/items/<material_type>/<int:material_id>")
@operation(
    summary="What happens to this item, when, and why: every claim you can see with its rule, "
    "trigger, dates, state and explanation, and the item's own fate",
    tags=TAGS,
    response=ItemRetentionSchema,
    scope="read",
)
def item_retention(workspace_id: int, material_type: str, material_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    found = explain_item(workspace, material_type, material_id)
    if found is None:
        raise ApiError(404, "Not Found")
    return dump_with(
        ItemRetentionSchema(),
        found,
        names=found["names"],
        explanations=found["explanations"],
        held=found["held"],
    )


@api.post("/workspaces/<int:workspace_id>/retention/events")
@operation(
    summary="Confirm an event for your inspectorate (e.g. notes_transcribed); schedules that "
    "wait for it move at once (records managers and lead inspectors)",
    tags=TAGS,
    body=EventInSchema,
    response=EventSchema,
    status=201,
    scope="write",
)
def confirm_retention_event(workspace_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    data = parse_body(EventInSchema())
    with retention_rules():
        event = actions.confirm_event(
            get_session(), me(), workspace, data["name"], data["confirmed_on"] or clock.today()
        )
    return dump(EventSchema(), event, 201)


@api.post("/workspaces/<int:workspace_id>/retention/agreement")
@operation(
    summary="Propose (or refresh) the retention agreement from every participant's current "
    "rules (lead only); each records manager answers through the decisions API",
    tags=TAGS,
    response=AgreementProposedSchema,
    status=201,
    scope="write",
)
def propose_retention_agreement(workspace_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    require_lead(workspace, "propose the retention agreement")
    with retention_rules():
        decision = actions.propose_agreement(get_session(), workspace, me())
    return dump(
        AgreementProposedSchema(),
        {
            "decision_id": decision.id,
            "status": decision.status,
            "subject_version": decision.subject_version,
            "content": decision.subject.content,
        },
        201,
    )


@api.post("/workspaces/<int:workspace_id>/close")
@operation(
    summary="Close the inspection after publication (lead only): a retention trigger, so "
    "schedules counted from closure move at once",
    tags=TAGS,
    body=CloseInSchema,
    response=ClosedSchema,
    scope="write",
)
def close_inspection(workspace_id: int) -> Response:
    workspace = workspace_of(workspace_id)
    require_lead(workspace, "close the inspection")
    # The body is optional: without one, the inspection closes today.
    data = parse_body(CloseInSchema()) if request.content_length else CloseInSchema().load({})
    closed_on = data["closed_on"] or clock.today()
    with retention_rules():
        moved = actions.close_workspace(get_session(), me(), workspace, closed_on)
    return dump(
        ClosedSchema(),
        {"workspace_id": workspace.id, "closed_on": workspace.closed_on, "schedules_moved": moved},
    )
