"""marshmallow schemas for workspaces and decisions (API input and output)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import StrictSchema
from shared_workspace.decisions import KINDS
from shared_workspace.models import BodyType, WorkspaceRole


class WorkspaceCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 300))
    participants = fields.List(
        fields.String(validate=validate.Length(1, 40)),
        required=True,
        validate=validate.Length(1, 20),
    )
    publication_date = fields.Date(load_default=None)


class ParticipantSchema(Schema):
    tenant = fields.Function(lambda p: p.tenant.slug)
    name = fields.Function(lambda p: p.tenant.name)
    joined_at = fields.DateTime()


class WorkspaceSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    lead = fields.Function(lambda w: w.lead_tenant.slug)
    stage = fields.Integer()
    stage_name = fields.String()
    publication_date = fields.Date()
    published_at = fields.DateTime()
    terms_published_at = fields.DateTime()
    recommendations_word = fields.String()
    participants = fields.List(fields.Nested(ParticipantSchema))


class ParticipantAddSchema(StrictSchema):
    tenant = fields.String(required=True, validate=validate.Length(1, 40))


class MemberCreateSchema(StrictSchema):
    user_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in WorkspaceRole]))


class MemberSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.Function(lambda m: m.user.name)
    tenant_id = fields.Integer()
    role = fields.String()


class SiteCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    body_type = fields.String(required=True, validate=validate.OneOf([b.value for b in BodyType]))
    fieldwork_starts_on = fields.Date(load_default=None)
    fieldwork_ends_on = fields.Date(load_default=None)


class SiteSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    body_type = fields.String()
    fieldwork_starts_on = fields.Date()
    fieldwork_ends_on = fields.Date()
    letters_sent_on = fields.Date()


class SubjectCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.Length(1, 40))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    content = fields.Dict(required=True)


class SubjectUpdateSchema(StrictSchema):
    content = fields.Dict(required=True)


class SubjectSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    content = fields.Dict()
    version = fields.Integer()
    content_hash = fields.String()


class DecisionCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    subject_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    due_on = fields.Date(load_default=None)


class AnswerSchema(StrictSchema):
    approve = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(0, 5000))


class ApprovalSchema(Schema):
    tenant_id = fields.Integer()
    user_id = fields.Integer()
    verdict = fields.String()
    reason = fields.String()
    subject_hash = fields.String()
    created_at = fields.DateTime()
    voided_at = fields.DateTime()


class DecisionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    label = fields.Function(lambda d: KINDS[d.kind].label)
    subject_id = fields.Integer()
    subject_version = fields.Integer()
    subject_hash = fields.String()
    status = fields.String()
    due_on = fields.Date()
    agreed_at = fields.DateTime()
    voided_reason = fields.String()
    approvals = fields.List(fields.Nested(ApprovalSchema))


class FactsSchema(StrictSchema):
    emerging_findings_meeting_on = fields.Date(load_default=None)
    joint_qa_concluded_on = fields.Date(load_default=None)


class SendLettersSchema(StrictSchema):
    send_on = fields.Date(required=True)


class ShareDraftSchema(StrictSchema):
    audience = fields.String(required=True, validate=validate.OneOf(["hmis", "stakeholders"]))


class ChecklistItemCreateSchema(StrictSchema):
    stage = fields.Integer(required=True, strict=True, validate=validate.Range(1, 8))
    text = fields.String(required=True, validate=validate.Length(1, 2000))
    due_on = fields.Date(load_default=None)


class ChecklistItemUpdateSchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(["open", "done", "not_applicable"]))
    assignee_id = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))
    due_on = fields.Date()
    link = fields.String(validate=validate.Length(0, 500))


class ChecklistItemSchema(Schema):
    id = fields.Integer()
    stage = fields.Integer()
    reference = fields.String()
    text = fields.String()
    status = fields.String()
    assignee_id = fields.Integer()
    due_on = fields.Date()
    link = fields.String()


class NoteCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 300))
    body = fields.String(load_default="", validate=validate.Length(0, 100_000))


class NoteSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    author_id = fields.Integer()
    created_at = fields.DateTime()


class SiteRescheduleSchema(StrictSchema):
    fieldwork_starts_on = fields.Date(load_default=None)
    fieldwork_ends_on = fields.Date(load_default=None)


class RescheduledSiteSchema(SiteSchema):
    warnings = fields.List(fields.String())
