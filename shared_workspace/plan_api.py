"""JSON API for the project plan, decision deadlines and notifications."""

from __future__ import annotations

from flask import Response

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.clock import clock
from app.db import get_session
from shared_workspace import decisions, plan, reminders
from shared_workspace.api import _in, _me, _rules, _tenant, _workspace
from shared_workspace.models import Decision, Milestone
from shared_workspace.schemas import (
    DeadlineSchema,
    DecisionSchema,
    MarkedReadSchema,
    MarkReadSchema,
    MilestoneCreateSchema,
    MilestoneSchema,
    MilestoneUpdateSchema,
    NotificationSchema,
    PlanSchema,
    PublicationDateResultSchema,
    PublicationDateSchema,
)
from tenants.models import User

TAGS = ["plan"]


def _owner(data: dict) -> dict:  # type: ignore[type-arg]
    """Turn the owner fields of a milestone body into a tenant id and a person."""
    owner_tenant_id = None
    if "owner_tenant" in data:
        owner_tenant_id = _tenant(data.pop("owner_tenant")).id
    owner = None
    if "owner_id" in data:
        owner = get_session().get(User, data.pop("owner_id"))
        if owner is None:
            raise ApiError(
                422,
                "Unprocessable Content",
                "No such person",
                errors={"owner_id": ["No such person in this inspection"]},
            )
    return {"owner_tenant_id": owner_tenant_id, "owner": owner}


@api.get("/workspaces/<int:workspace_id>/plan")
@operation(
    summary="The timetable and project plan with the warnings its dates raise",
    tags=TAGS,
    response=PlanSchema,
)
def get_plan(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    loaded = plan.load_plan(get_session(), workspace, clock.today())
    return dump(
        PlanSchema(),
        {
            "publication_date": workspace.publication_date,
            "milestones": loaded.milestones,
            "sites": loaded.sites,
            "warnings": loaded.warnings,
        },
    )


@api.post("/workspaces/<int:workspace_id>/milestones")
@operation(
    summary="Add a milestone to the project plan (lead only)",
    tags=TAGS,
    body=MilestoneCreateSchema,
    response=MilestoneSchema,
    status=201,
    scope="write",
)
def add_milestone(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(MilestoneCreateSchema())
    owners = _owner(data)
    with _rules():
        milestone = plan.add_milestone(get_session(), workspace, _me(), **data, **owners)
    return dump(MilestoneSchema(), milestone, 201)


@api.patch("/workspaces/<int:workspace_id>/milestones/<int:milestone_id>")
@operation(
    summary="Replan a milestone (lead) or mark it done (its owner or the lead)",
    tags=TAGS,
    body=MilestoneUpdateSchema,
    response=MilestoneSchema,
    scope="write",
)
def update_milestone(workspace_id: int, milestone_id: int) -> Response:
    workspace = _workspace(workspace_id)
    milestone = _in(Milestone, workspace, milestone_id)
    data = parse_body(MilestoneUpdateSchema())
    owners = {k: v for k, v in _owner(data).items() if v is not None}
    with _rules():
        plan.update_milestone(get_session(), workspace, milestone, _me(), **data, **owners)
    return dump(MilestoneSchema(), milestone)


@api.put("/workspaces/<int:workspace_id>/publication-date")
@operation(
    summary="Set the planned publication date (lead only); answers with the warnings it raises",
    tags=TAGS,
    body=PublicationDateSchema,
    response=PublicationDateResultSchema,
    scope="write",
)
def set_publication_date(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(PublicationDateSchema())
    with _rules():
        warnings = plan.set_publication_date(
            get_session(), workspace, _me(), data["publication_date"], clock.today()
        )
    return dump(
        PublicationDateResultSchema(),
        {"publication_date": workspace.publication_date, "warnings": warnings},
    )


@api.put("/workspaces/<int:workspace_id>/decisions/<int:decision_id>/deadline")
@operation(
    summary="Set or clear a decision's deadline (lead only); approvers are reminded",
    tags=TAGS,
    body=DeadlineSchema,
    response=DecisionSchema,
    scope="write",
)
def set_deadline(workspace_id: int, decision_id: int) -> Response:
    workspace = _workspace(workspace_id)
    decision = _in(Decision, workspace, decision_id)
    data = parse_body(DeadlineSchema())
    with _rules():
        decisions.set_deadline(get_session(), workspace, decision, _me(), data["due_on"])
    return dump(DecisionSchema(), decision)


@api.get("/notifications")
@operation(
    summary="Your unread notifications: deadlines near, approvals voided",
    tags=TAGS,
    response=NotificationSchema,
    many=True,
)
def list_notifications() -> Response:
    return dump(NotificationSchema(many=True), reminders.unread(get_session(), _me(), limit=100))


@api.post("/notifications/read")
@operation(
    summary="Mark one notification, or all of yours, read",
    tags=TAGS,
    body=MarkReadSchema,
    response=MarkedReadSchema,
    scope="write",
)
def mark_notifications_read() -> Response:
    data = parse_body(MarkReadSchema())
    marked = reminders.mark_read(get_session(), _me(), data.get("id"))
    return dump(MarkedReadSchema(), {"marked": marked})
