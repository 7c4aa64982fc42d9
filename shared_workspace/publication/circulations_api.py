"""JSON API for the comments on a circulated draft and the team's response to each."""

from __future__ import annotations

from flask import Response
from marshmallow import Schema, fields, validate

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.api.schemas import StrictSchema
from app.db import get_session
from shared_workspace.api import _in, _me, _workspace
from shared_workspace.publication import circulations
from shared_workspace.publication.api import TAGS, _checks
from shared_workspace.publication.models import Circulation, CirculationComment

TEXT_LENGTH = f"between 1 and {circulations.MAX_TEXT:,} characters"


class CommentInSchema(StrictSchema):
    text = fields.String(
        required=True,
        validate=validate.Length(
            1, circulations.MAX_TEXT, error=f"Write the comment as it was made ({TEXT_LENGTH})"
        ),
    )
    source = fields.String(
        load_default="",
        validate=validate.Length(0, 300, error="Say who made it in up to 300 characters"),
    )
    reference = fields.String(
        load_default="",
        validate=validate.Length(
            0, 300, error="Say where in the draft it points in up to 300 characters"
        ),
    )
    received_on = fields.Date(load_default=None)


class CommentResponseInSchema(StrictSchema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(
            list(circulations.OUTCOMES),
            error="Choose accepted, partially_accepted or not_accepted",
        ),
    )
    response = fields.String(
        required=True,
        validate=validate.Length(
            1, circulations.MAX_TEXT, error=f"Write the response to the comment ({TEXT_LENGTH})"
        ),
    )


class CommentSchema(Schema):
    id = fields.Integer()
    circulation_id = fields.Integer()
    text = fields.String()
    source = fields.String()
    reference = fields.String()
    received_on = fields.Date()
    recorded_by = fields.Function(lambda c: c.recorded_by.name)
    recorded_at = fields.DateTime()
    outcome = fields.String(allow_none=True)
    response = fields.String()
    responded_by = fields.Function(lambda c: c.responded_by.name if c.responded_by else None)
    responded_at = fields.DateTime(allow_none=True)


@api.get("/workspaces/<int:workspace_id>/circulations/<int:circulation_id>/comments")
@operation(
    summary="The comments made on a circulated draft, with the response to each",
    tags=TAGS,
    response=CommentSchema,
    many=True,
)
def list_circulation_comments(workspace_id: int, circulation_id: int) -> Response:
    circulation = _in(Circulation, _workspace(workspace_id), circulation_id)
    return dump(CommentSchema(many=True), circulations.comments(get_session(), circulation))


@api.post("/workspaces/<int:workspace_id>/circulations/<int:circulation_id>/comments")
@operation(
    summary="Record a comment received on the draft (who made it, where it points)",
    tags=TAGS,
    body=CommentInSchema,
    response=CommentSchema,
    status=201,
    scope="write",
)
def add_circulation_comment(workspace_id: int, circulation_id: int) -> Response:
    workspace = _workspace(workspace_id)
    circulation = _in(Circulation, workspace, circulation_id)
    data = parse_body(CommentInSchema())
    with _checks():
        row = circulations.add_comment(get_session(), workspace, circulation, _me(), **data)
    return dump(CommentSchema(), row, 201)


@api.put(
    "/workspaces/<int:workspace_id>/circulations/<int:circulation_id>/comments/"
    "<int:accuracy_comment_id>/response"
)
@operation(
    summary="Record the team's response to one comment",
    tags=TAGS,
    body=CommentResponseInSchema,
    response=CommentSchema,
    scope="write",
)
def respond_to_circulation_comment(
    workspace_id: int, circulation_id: int, accuracy_comment_id: int
) -> Response:
    workspace = _workspace(workspace_id)
    circulation = _in(Circulation, workspace, circulation_id)
    comment = _in(CirculationComment, workspace, accuracy_comment_id)
    if comment.circulation_id != circulation.id:
        raise ApiError(404, "Not Found")
    data = parse_body(CommentResponseInSchema())
    with _checks():
        circulations.respond(get_session(), workspace, comment, _me(), **data)
    return dump(CommentSchema(), comment)
