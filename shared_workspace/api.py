"""JSON API for joint-inspection workspaces, decisions and gates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response
from flask_login import current_user
from sqlalchemy import select

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.clock import clock
from app.db import get_session
from app.tenancy import get_or_404
from retention.service import schedule_note
from shared_workspace import decisions, plan, service
from shared_workspace.models import (
    BodyType,
    ChecklistItem,
    Decision,
    PrivateNote,
    Site,
    Subject,
    Workspace,
    WorkspaceRole,
)
from shared_workspace.schemas import (
    AnswerSchema,
    ChecklistItemCreateSchema,
    ChecklistItemSchema,
    ChecklistItemUpdateSchema,
    DecisionCreateSchema,
    DecisionSchema,
    FactsSchema,
    MemberCreateSchema,
    MemberSchema,
    NoteCreateSchema,
    NoteSchema,
    ParticipantAddSchema,
    RescheduledSiteSchema,
    ShareDraftSchema,
    SiteCreateSchema,
    SiteRescheduleSchema,
    SiteSchema,
    SubjectCreateSchema,
    SubjectSchema,
    SubjectUpdateSchema,
    WorkspaceCreateSchema,
    WorkspaceSchema,
)
from tenants.models import Tenant, User

TAGS = ["workspaces"]


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _workspace(workspace_id: int) -> Workspace:
    return get_or_404(get_session(), Workspace, workspace_id)


def _in(model, workspace: Workspace, ident: int):  # type: ignore[no-untyped-def]
    obj = get_or_404(get_session(), model, ident)
    if obj.workspace_id != workspace.id:
        raise ApiError(404, "Not Found")
    return obj


def _rule_broken(exc: Exception) -> ApiError:
    if isinstance(exc, service.GateClosed):
        return ApiError(409, "Conflict", str(exc), errors={"gate": exc.missing})
    return ApiError(422, "Unprocessable Content", str(exc), errors={"_rule": [str(exc)]})


RULES = (service.GateClosed, service.WorkspaceError, decisions.DecisionError)


@contextmanager
def _rules() -> Iterator[None]:
    """Turn a broken rule into its problem answer: 409 for a closed gate, else 422."""
    try:
        yield
    except RULES as exc:
        raise _rule_broken(exc) from None


def _tenant(slug: str) -> Tenant:
    tenant = get_session().scalar(select(Tenant).where(Tenant.slug == slug, Tenant.active))
    if tenant is None:
        raise ApiError(
            422,
            "Unprocessable Content",
            f"No inspectorate called {slug!r}",
            errors={"participants": [f"Unknown inspectorate {slug!r}"]},
        )
    return tenant


@api.get("/workspaces")
@operation(
    summary="Joint inspections your inspectorate takes part in",
    tags=TAGS,
    response=WorkspaceSchema,
    many=True,
    scope="read",
)
def list_workspaces() -> Response:
    return dump(WorkspaceSchema(many=True), service.my_workspaces(get_session()))


@api.post("/workspaces")
@operation(
    summary="Start a joint inspection led by your inspectorate",
    tags=TAGS,
    body=WorkspaceCreateSchema,
    response=WorkspaceSchema,
    status=201,
    scope="write",
)
def create_workspace() -> Response:
    data = parse_body(WorkspaceCreateSchema())
    tenants = [_tenant(slug) for slug in data["participants"]]
    with _rules():
        workspace = service.create_workspace(
            get_session(),
            title=data["title"],
            lead=_me(),
            participants=tenants,
            publication_date=data["publication_date"],
        )
    return dump(WorkspaceSchema(), workspace, 201)


@api.get("/workspaces/<int:workspace_id>")
@operation(summary="One joint inspection", tags=TAGS, response=WorkspaceSchema, scope="read")
def get_workspace(workspace_id: int) -> Response:
    return dump(WorkspaceSchema(), _workspace(workspace_id))


@api.post("/workspaces/<int:workspace_id>/participants")
@operation(
    summary="Bring another inspectorate in (lead only)",
    tags=TAGS,
    body=ParticipantAddSchema,
    response=WorkspaceSchema,
    status=201,
    scope="write",
)
def add_participant(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(ParticipantAddSchema())
    with _rules():
        service.add_participant(get_session(), workspace, _tenant(data["tenant"]), _me())
    return dump(WorkspaceSchema(), workspace, 201)


@api.post("/workspaces/<int:workspace_id>/members")
@operation(
    summary="Name one of your inspectorate's people in a role",
    tags=TAGS,
    body=MemberCreateSchema,
    response=MemberSchema,
    status=201,
    scope="write",
)
def add_member(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(MemberCreateSchema())
    db = get_session()
    person = db.get(User, data["user_id"])
    if person is None or person.tenant_id != current_user.tenant_id:
        raise ApiError(
            422,
            "Unprocessable Content",
            "Name someone from your own inspectorate",
            errors={"user_id": ["Not a user of your inspectorate"]},
        )
    with _rules():
        member = service.name_member(
            db, workspace, person=person, role=WorkspaceRole(data["role"]), named_by=_me()
        )
    return dump(MemberSchema(), member, 201)


@api.post("/workspaces/<int:workspace_id>/sites")
@operation(
    summary="Add a fieldwork site (lead only)",
    tags=TAGS,
    body=SiteCreateSchema,
    response=SiteSchema,
    status=201,
    scope="write",
)
def add_site(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(SiteCreateSchema())
    with _rules():
        site = service.add_site(
            get_session(),
            workspace,
            name=data["name"],
            body_type=BodyType(data["body_type"]),
            fieldwork_starts_on=data["fieldwork_starts_on"],
            fieldwork_ends_on=data["fieldwork_ends_on"],
            user=_me(),
        )
    return dump(SiteSchema(), site, 201)


@api.post("/workspaces/<int:workspace_id>/subjects")
@operation(
    summary="Something to decide on (terms of reference, a plan, a list)",
    tags=TAGS,
    body=SubjectCreateSchema,
    response=SubjectSchema,
    status=201,
    scope="write",
)
def create_subject(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(SubjectCreateSchema())
    subject = decisions.create_subject(
        get_session(),
        workspace,
        kind=data["kind"],
        title=data["title"],
        content=data["content"],
        user=_me(),
    )
    return dump(SubjectSchema(), subject, 201)


@api.put("/workspaces/<int:workspace_id>/subjects/<int:subject_id>")
@operation(
    summary="Change a subject: approvals of earlier versions are voided",
    tags=TAGS,
    body=SubjectUpdateSchema,
    response=SubjectSchema,
    scope="write",
)
def update_subject(workspace_id: int, subject_id: int) -> Response:
    workspace = _workspace(workspace_id)
    subject = _in(Subject, workspace, subject_id)
    data = parse_body(SubjectUpdateSchema())
    decisions.update_subject(get_session(), subject, data["content"], _me())
    return dump(SubjectSchema(), subject)


@api.get("/workspaces/<int:workspace_id>/decisions")
@operation(
    summary="Every decision of a workspace, with its approvals",
    tags=TAGS,
    response=DecisionSchema,
    many=True,
    scope="read",
)
def list_decisions(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    rows = get_session().scalars(
        select(Decision).where(Decision.workspace_id == workspace.id).order_by(Decision.id)
    )
    return dump(DecisionSchema(many=True), list(rows))


@api.post("/workspaces/<int:workspace_id>/decisions")
@operation(
    summary="Propose a decision on a subject's current version",
    tags=TAGS,
    body=DecisionCreateSchema,
    response=DecisionSchema,
    status=201,
    scope="write",
)
def propose_decision(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(DecisionCreateSchema())
    subject = _in(Subject, workspace, data["subject_id"])
    with _rules():
        decision = decisions.propose(
            get_session(),
            workspace,
            kind=data["kind"],
            subject=subject,
            user=_me(),
            due_on=data["due_on"],
        )
    return dump(DecisionSchema(), decision, 201)


@api.post("/workspaces/<int:workspace_id>/decisions/<int:decision_id>/answer")
@operation(
    summary="Approve or reject for your inspectorate",
    tags=TAGS,
    body=AnswerSchema,
    response=DecisionSchema,
    scope="write",
)
def answer_decision(workspace_id: int, decision_id: int) -> Response:
    workspace = _workspace(workspace_id)
    decision = _in(Decision, workspace, decision_id)
    data = parse_body(AnswerSchema())
    with _rules():
        decisions.answer(
            get_session(),
            workspace,
            decision,
            _me(),
            approve=data["approve"],
            reason=data["reason"],
            red_lines_confirmed=data["red_lines_confirmed"],
        )
    return dump(DecisionSchema(), decision)


@api.post("/workspaces/<int:workspace_id>/stage")
@operation(
    summary="Move to the next stage when its conditions hold (lead only)",
    tags=TAGS,
    response=WorkspaceSchema,
    scope="write",
)
def advance_stage(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    with _rules():
        service.advance_stage(get_session(), workspace, _me())
    return dump(WorkspaceSchema(), workspace)


@api.post("/workspaces/<int:workspace_id>/facts")
@operation(
    summary="Record the emerging findings meeting and joint QA (lead only)",
    tags=TAGS,
    body=FactsSchema,
    response=WorkspaceSchema,
    scope="write",
)
def record_facts(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(FactsSchema())
    with _rules():
        service.record_facts(get_session(), workspace, _me(), **data)
    return dump(WorkspaceSchema(), workspace)


@api.post("/workspaces/<int:workspace_id>/terms-of-reference/publish")
@operation(
    summary="Publish the agreed terms of reference (§9)",
    tags=TAGS,
    response=WorkspaceSchema,
    scope="write",
)
def publish_terms(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    with _rules():
        service.publish_terms_of_reference(get_session(), workspace, _me())
    return dump(WorkspaceSchema(), workspace)


@api.post("/workspaces/<int:workspace_id>/draft/share")
@operation(
    summary="Share the draft report (§37-38)",
    tags=TAGS,
    body=ShareDraftSchema,
    response=WorkspaceSchema,
    scope="write",
)
def share_draft(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(ShareDraftSchema())
    with _rules():
        service.share_draft(get_session(), workspace, data["audience"], _me())
    return dump(WorkspaceSchema(), workspace)


@api.post("/workspaces/<int:workspace_id>/publish")
@operation(
    summary="Publish the joint report (§40, principle 8, §48)",
    tags=TAGS,
    response=WorkspaceSchema,
    scope="write",
)
def publish(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    with _rules():
        service.publish(get_session(), workspace, _me())
    return dump(WorkspaceSchema(), workspace)


@api.get("/workspaces/<int:workspace_id>/checklist")
@operation(
    summary="Every stage's checklist",
    tags=TAGS,
    response=ChecklistItemSchema,
    many=True,
    scope="read",
)
def list_checklist(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    rows = get_session().scalars(
        select(ChecklistItem)
        .where(ChecklistItem.workspace_id == workspace.id)
        .order_by(ChecklistItem.stage, ChecklistItem.id)
    )
    return dump(ChecklistItemSchema(many=True), list(rows))


@api.post("/workspaces/<int:workspace_id>/checklist")
@operation(
    summary="Add a checklist item (lead only)",
    tags=TAGS,
    body=ChecklistItemCreateSchema,
    response=ChecklistItemSchema,
    status=201,
    scope="write",
)
def add_checklist_item(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(ChecklistItemCreateSchema())
    with _rules():
        item = service.add_checklist_item(get_session(), workspace, _me(), **data)
    return dump(ChecklistItemSchema(), item, 201)


@api.patch("/workspaces/<int:workspace_id>/checklist/<int:item_id>")
@operation(
    summary="Record progress on a checklist item",
    tags=TAGS,
    body=ChecklistItemUpdateSchema,
    response=ChecklistItemSchema,
    scope="write",
)
def update_checklist_item(workspace_id: int, item_id: int) -> Response:
    workspace = _workspace(workspace_id)
    item = _in(ChecklistItem, workspace, item_id)
    data = parse_body(ChecklistItemUpdateSchema())
    db = get_session()
    assignee = None
    if "assignee_id" in data:
        assignee = db.get(User, data.pop("assignee_id"))
        if assignee is None:
            raise ApiError(
                422,
                "Unprocessable Content",
                "No such person",
                errors={"assignee_id": ["No such person in this inspection"]},
            )
    with _rules():
        service.update_checklist_item(db, workspace, item, assignee=assignee, **data)
    return dump(ChecklistItemSchema(), item)


@api.get("/workspaces/<int:workspace_id>/notes")
@operation(
    summary="Your inspectorate's private notes in this inspection",
    tags=TAGS,
    response=NoteSchema,
    many=True,
    scope="read",
)
def list_notes(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    rows = get_session().scalars(
        select(PrivateNote).where(PrivateNote.workspace_id == workspace.id).order_by(PrivateNote.id)
    )
    return dump(NoteSchema(many=True), list(rows))


@api.post("/workspaces/<int:workspace_id>/notes")
@operation(
    summary="Add a private note only your inspectorate sees",
    tags=TAGS,
    body=NoteCreateSchema,
    response=NoteSchema,
    status=201,
    scope="write",
)
def add_note(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(NoteCreateSchema())
    note = PrivateNote(
        workspace_id=workspace.id,
        tenant_id=current_user.tenant_id,
        author_id=current_user.id,
        title=data["title"],
        body=data["body"],
    )
    db = get_session()
    db.add(note)
    db.flush()
    schedule_note(db, note)
    return dump(NoteSchema(), note, 201)


@api.patch("/workspaces/<int:workspace_id>/sites/<int:site_id>")
@operation(
    summary="Move a site's fieldwork window; answers with the rules it puts at risk",
    tags=TAGS,
    body=SiteRescheduleSchema,
    response=RescheduledSiteSchema,
    scope="write",
)
def reschedule_site(workspace_id: int, site_id: int) -> Response:
    workspace = _workspace(workspace_id)
    site = _in(Site, workspace, site_id)
    data = parse_body(SiteRescheduleSchema())
    with _rules():
        warnings = plan.reschedule_site(
            get_session(), workspace, site, _me(), today=clock.today(), **data
        )
    site.warnings = warnings  # type: ignore[attr-defined]
    return dump(RescheduledSiteSchema(), site)
