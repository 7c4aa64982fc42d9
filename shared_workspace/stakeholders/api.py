"""JSON API for stakeholder directories, nominations and the consolidated distribution list."""

from __future__ import annotations

from flask import Response, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.api.schemas import StrictSchema
from app.db import get_session
from app.security import body_limit
from app.tenancy import get_or_404
from shared_workspace.api import _in, _me, _workspace
from shared_workspace.stakeholders import directory, lists
from shared_workspace.stakeholders.models import (
    CATEGORIES,
    ENTRY_KINDS,
    ImportBatch,
    Nomination,
    StakeholderEntry,
)

TAGS = ["stakeholders"]


class EntryInSchema(StrictSchema):
    kind = fields.String(load_default="person", validate=validate.OneOf(ENTRY_KINDS))
    title = fields.String(load_default="", validate=validate.Length(0, 40))
    given_name = fields.String(load_default="", validate=validate.Length(0, 100))
    family_name = fields.String(load_default="", validate=validate.Length(0, 100))
    role = fields.String(load_default="", validate=validate.Length(0, 200))
    organisation = fields.String(load_default="", validate=validate.Length(0, 300))
    emails = fields.List(fields.String(validate=validate.Length(1, 320)), load_default=list)
    phones = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=list)
    address = fields.String(load_default="", validate=validate.Length(0, 1000))
    category = fields.String(load_default="other", validate=validate.OneOf(list(CATEGORIES)))
    tags = fields.List(fields.String(validate=validate.Length(1, 60)), load_default=list)
    consent = fields.Boolean(load_default=True)
    do_not_contact = fields.Boolean(load_default=False)
    notes = fields.String(load_default="", validate=validate.Length(0, 5000))


class EntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    title = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    role = fields.String()
    organisation = fields.String()
    emails = fields.List(fields.String())
    phones = fields.List(fields.String())
    address = fields.String()
    category = fields.String()
    tags = fields.List(fields.String())
    consent = fields.Boolean()
    do_not_contact = fields.Boolean()
    notes = fields.String()


class ImportSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    status = fields.String()
    imported = fields.Integer()
    rows = fields.List(fields.Dict())
    accepted = fields.Function(lambda b: sum(1 for r in b.rows if r["line"] and not r["errors"]))
    rejected = fields.Function(lambda b: sum(1 for r in b.rows if r["errors"]))
    progress = fields.Integer()
    error = fields.String()


class NominateSchema(StrictSchema):
    entry_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1)),
        required=True,
        validate=validate.Length(1, 5000),
    )
    purpose = fields.String(
        load_default="both", validate=validate.OneOf(["engagement", "publication", "both"])
    )


class NominationSchema(Schema):
    id = fields.Integer()
    tenant_id = fields.Integer()
    purpose = fields.String()
    name = fields.Function(lambda n: lists._display_name(n))
    role = fields.String()
    organisation = fields.String()
    emails = fields.List(fields.String())
    category = fields.String()


class ModeSchema(StrictSchema):
    mode = fields.String(
        required=True, validate=validate.OneOf(["lead_sends_all", "each_sends_own"])
    )


class ListSchema(Schema):
    mode = fields.String()
    status = fields.String()
    progress = fields.Integer()
    stats = fields.Dict()
    built_at = fields.DateTime(allow_none=True)
    subject_id = fields.Integer(allow_none=True)


class RecipientSchema(Schema):
    """Only what sending needs: no tenant's notes or tags ever appear here."""

    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    organisation = fields.String()
    email = fields.String()
    phone = fields.String()
    category = fields.String()
    sender = fields.Function(lambda r: r.sender.slug)
    sources = fields.List(fields.Dict())
    reasons = fields.List(fields.Dict())


class CandidateSchema(Schema):
    id = fields.Integer()
    left = fields.Nested(NominationSchema)
    right = fields.Nested(NominationSchema)
    score = fields.Float()
    reasons = fields.List(fields.Dict())


class DecisionInSchema(StrictSchema):
    left_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    right_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    same = fields.Boolean(required=True)


def _problem(exc: directory.DirectoryError | lists.ListError) -> ApiError:
    return ApiError(422, "Unprocessable Content", str(exc), errors={exc.field: [str(exc)]})


@api.get("/stakeholders")
@operation(
    summary="Your inspectorate's stakeholder directory", tags=TAGS, response=EntrySchema, many=True
)
def list_entries() -> Response:
    page = request.args.get("offset", "0")
    offset = int(page) if page.isdecimal() and len(page) < 7 else 0
    rows = directory.search(
        get_session(),
        request.args.get("q", "")[:100],
        request.args.get("category", ""),
        200,
        offset,
    )
    return dump(EntrySchema(many=True), rows)


@api.post("/stakeholders")
@operation(
    summary="Add an entry to your directory",
    tags=TAGS,
    body=EntryInSchema,
    response=EntrySchema,
    status=201,
    scope="write",
)
def add_entry() -> Response:
    data = parse_body(EntryInSchema())
    values = {**data, **{k: "; ".join(data[k]) for k in ("emails", "phones", "tags")}}
    values["consent"] = "yes" if data["consent"] else "no"
    values["do_not_contact"] = "yes" if data["do_not_contact"] else "no"
    try:
        entry = directory.save_entry(get_session(), _me(), values)
    except directory.DirectoryError as exc:
        raise _problem(exc) from None
    return dump(EntrySchema(), entry, 201)


@api.get("/stakeholders/<int:entry_id>")
@operation(summary="One entry of your directory", tags=TAGS, response=EntrySchema)
def get_entry(entry_id: int) -> Response:
    return dump(EntrySchema(), get_or_404(get_session(), StakeholderEntry, entry_id))


@api.post("/stakeholders/imports")
@operation(
    summary="Upload a CSV or XLSX file (multipart field `file`): answers with the preview",
    tags=TAGS,
    response=ImportSchema,
    status=201,
    scope="write",
)
@body_limit(directory.MAX_IMPORT_BODY_BYTES)
def upload_import() -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "Unprocessable Content", "Send the file in a field called file")
    data = upload.stream.read(directory.MAX_IMPORT_BYTES + 1)
    try:
        batch = directory.preview(get_session(), _me(), upload.filename, data)
    except directory.DirectoryError as exc:
        status = 413 if len(data) > directory.MAX_IMPORT_BYTES else 422
        raise ApiError(
            status, "Unprocessable Content" if status == 422 else "Content Too Large", str(exc)
        ) from None
    return dump(ImportSchema(), batch, 201 if batch.status == "previewed" else 202)


@api.get("/stakeholders/imports/<int:import_id>")
@operation(
    summary="An import's rows and problems, or its progress while a job reads it",
    tags=TAGS,
    response=ImportSchema,
)
def get_import(import_id: int) -> Response:
    batch = get_or_404(get_session(), ImportBatch, import_id)
    get_session().refresh(batch)
    return dump(ImportSchema(), batch)


@api.post("/stakeholders/imports/<int:import_id>/commit")
@operation(
    summary="Import the rows of a preview that have no errors",
    tags=TAGS,
    response=ImportSchema,
    scope="write",
)
def commit_import(import_id: int) -> Response:
    batch = get_or_404(get_session(), ImportBatch, import_id)
    try:
        directory.commit(get_session(), batch, _me())
    except directory.DirectoryError as exc:
        raise _problem(exc) from None
    return dump(ImportSchema(), batch)


@api.get("/workspaces/<int:workspace_id>/stakeholders/nominations")
@operation(
    summary="Every inspectorate's nominations for this inspection",
    tags=TAGS,
    response=NominationSchema,
    many=True,
)
def list_nominations(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    rows = get_session().scalars(
        select(Nomination).where(Nomination.workspace_id == workspace.id).order_by(Nomination.id)
    )
    return dump(NominationSchema(many=True), list(rows))


@api.post("/workspaces/<int:workspace_id>/stakeholders/nominations")
@operation(
    summary="Nominate entries of your directory (engagement, publication or both, §42)",
    tags=TAGS,
    body=NominateSchema,
    response=NominationSchema,
    many=True,
    status=201,
    scope="write",
)
def nominate(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(NominateSchema())
    try:
        rows = lists.nominate(get_session(), workspace, _me(), data["entry_ids"], data["purpose"])
    except lists.ListError as exc:
        raise _problem(exc) from None
    return dump(NominationSchema(many=True), rows, 201)


@api.delete("/workspaces/<int:workspace_id>/stakeholders/nominations/<int:nomination_id>")
@operation(summary="Withdraw one of your nominations", tags=TAGS, scope="write")
def withdraw(workspace_id: int, nomination_id: int) -> Response:
    workspace = _workspace(workspace_id)
    nomination = _in(Nomination, workspace, nomination_id)
    try:
        lists.withdraw(get_session(), nomination, _me())
    except lists.ListError as exc:
        raise _problem(exc) from None
    return Response(status=204)


@api.get("/workspaces/<int:workspace_id>/stakeholders/list")
@operation(
    summary="The consolidated list's state (mode, build progress)", tags=TAGS, response=ListSchema
)
def get_list(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    row = lists.distribution_list(get_session(), workspace)
    get_session().refresh(row)
    return dump(ListSchema(), row)


@api.put("/workspaces/<int:workspace_id>/stakeholders/list/mode")
@operation(
    summary="Lead sends to all, or each to its own (§43; lead proposes)",
    tags=TAGS,
    body=ModeSchema,
    response=ListSchema,
    scope="write",
)
def set_mode(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(ModeSchema())
    try:
        row = lists.set_mode(get_session(), workspace, _me(), data["mode"])
    except lists.ListError as exc:
        raise _problem(exc) from None
    return dump(ListSchema(), row)


@api.post("/workspaces/<int:workspace_id>/stakeholders/list/build")
@operation(
    summary="Consolidate the nominations (a job; poll the list for progress)",
    tags=TAGS,
    response=ListSchema,
    status=202,
    scope="write",
)
def build(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    row = lists.start_rebuild(get_session(), workspace, _me())
    return dump(ListSchema(), row, 202)


@api.get("/workspaces/<int:workspace_id>/stakeholders/recipients")
@operation(
    summary="The consolidated distribution list: each recipient once",
    tags=TAGS,
    response=RecipientSchema,
    many=True,
)
def list_recipients(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    return dump(RecipientSchema(many=True), lists.recipients(get_session(), workspace))


@api.get("/workspaces/<int:workspace_id>/stakeholders/review")
@operation(
    summary="Pairs waiting for a person to say same or different",
    tags=TAGS,
    response=CandidateSchema,
    many=True,
)
def review(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    return dump(CandidateSchema(many=True), lists.review_queue(get_session(), workspace))


@api.post("/workspaces/<int:workspace_id>/stakeholders/decisions")
@operation(
    summary="Say two nominations are the same stakeholder, or not (remembered)",
    tags=TAGS,
    body=DecisionInSchema,
    scope="write",
)
def decide(workspace_id: int) -> Response:
    workspace = _workspace(workspace_id)
    data = parse_body(DecisionInSchema())
    try:
        lists.decide(
            get_session(), workspace, _me(), data["left_id"], data["right_id"], data["same"]
        )
    except lists.ListError as exc:
        raise _problem(exc) from None
    return Response(status=204)
