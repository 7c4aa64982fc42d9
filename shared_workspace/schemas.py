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
    emerging_findings_meeting_on = fields.Date()
    joint_qa_concluded_on = fields.Date()
    draft_to_hmis_at = fields.DateTime()
    draft_to_stakeholders_at = fields.DateTime()
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
    #: For the draft report (§37): the approver confirms their red lines are respected.
    red_lines_confirmed = fields.Boolean(load_default=False)


class ApprovalSchema(Schema):
    tenant_id = fields.Integer()
    user_id = fields.Integer()
    verdict = fields.String()
    reason = fields.String()
    subject_hash = fields.String()
    red_lines_confirmed = fields.Boolean()
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


class MilestoneCreateSchema(StrictSchema):
    stage = fields.Integer(required=True, strict=True, validate=validate.Range(1, 8))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    due_on = fields.Date(required=True)
    owner_tenant = fields.String(validate=validate.Length(1, 40))
    owner_id = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))


class MilestoneUpdateSchema(StrictSchema):
    stage = fields.Integer(strict=True, validate=validate.Range(1, 8))
    title = fields.String(validate=validate.Length(1, 300))
    due_on = fields.Date()
    done = fields.Boolean()
    done_on = fields.Date()
    owner_tenant = fields.String(validate=validate.Length(1, 40))
    owner_id = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))


class MilestoneSchema(Schema):
    id = fields.Integer()
    stage = fields.Integer()
    title = fields.String()
    owner_tenant = fields.Function(lambda m: m.owner_tenant.slug)
    owner_id = fields.Integer(allow_none=True)
    owner_name = fields.Function(lambda m: m.owner.name if m.owner else None)
    due_on = fields.Date()
    done_on = fields.Date(allow_none=True)


class PlanSchema(Schema):
    publication_date = fields.Date(allow_none=True)
    milestones = fields.List(fields.Nested(MilestoneSchema))
    sites = fields.List(fields.Nested(SiteSchema))
    warnings = fields.List(fields.String())


class PublicationDateSchema(StrictSchema):
    publication_date = fields.Date(required=True)


class PublicationDateResultSchema(Schema):
    publication_date = fields.Date()
    warnings = fields.List(fields.String())


class DeadlineSchema(StrictSchema):
    due_on = fields.Date(required=True, allow_none=True)


class NotificationSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    link = fields.String()
    workspace_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MarkReadSchema(StrictSchema):
    #: One notification, or every unread one when left out.
    id = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))


class MarkedReadSchema(Schema):
    marked = fields.Integer()
