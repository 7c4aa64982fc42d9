"""marshmallow schemas for documents, versions, conflicts, comments, suggestions, red lines,
presence and exports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import StrictSchema
from shared_workspace.documents.models import DOCUMENT_KINDS, MARKINGS

#: Enough for a 100-page report with room to spare; a bigger body is refused before parsing.
MAX_BODY_BYTES = 16 * 1024 * 1024


class SectionInSchema(StrictSchema):
    #: Leave out for a new section; keep the key of an existing one (renames and moves keep it).
    key = fields.String(validate=validate.Length(1, 64))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    #: Rich HTML; cleaned on the way in (script, style, event handlers and the like removed).
    body = fields.String(load_default="", validate=validate.Length(0, 2_000_000))


class DocumentCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(list(DOCUMENT_KINDS)))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    marking = fields.String(load_default="OFFICIAL", validate=validate.OneOf(MARKINGS))
    #: Optional only for an evidence and evaluation note, built from the framework when absent.
    sections = fields.List(
        fields.Nested(SectionInSchema), load_default=list, validate=validate.Length(0, 200)
    )


class DocumentSaveSchema(StrictSchema):
    sections = fields.List(
        fields.Nested(SectionInSchema), required=True, validate=validate.Length(1, 200)
    )


class SectionSchema(Schema):
    key = fields.String()
    title = fields.String()
    body = fields.String()
    owner = fields.String(allow_none=True)
    open_comments = fields.Integer()


class DocumentSummarySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    marking = fields.String()
    version = fields.Integer(attribute="head_number")
    subject_id = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()
    destroyed_at = fields.DateTime(allow_none=True)


class DocumentSchema(DocumentSummarySchema):
    sections = fields.List(fields.Nested(SectionSchema))
    merged_with = fields.Integer(allow_none=True)


class VersionSummarySchema(Schema):
    number = fields.Integer()
    base_number = fields.Integer()
    author = fields.Function(lambda v: v.author.name if v.author else None)
    tenant = fields.Function(lambda v: v.tenant.slug)
    note = fields.String()
    content_hash = fields.String()
    created_at = fields.DateTime()


class VersionSchema(VersionSummarySchema):
    sections = fields.List(fields.Dict())


class SectionDiffSchema(Schema):
    key = fields.String()
    kind = fields.Function(lambda d: d.kind.value)
    old_title = fields.String(allow_none=True)
    new_title = fields.String(allow_none=True)
    html = fields.String()


class ResolveSchema(StrictSchema):
    #: Section key → the body to keep (null deletes the section).
    resolutions = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=fields.String(allow_none=True, validate=validate.Length(0, 2_000_000)),
        required=True,
    )
    titles = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=fields.String(validate=validate.Length(1, 300)),
        load_default=dict,
    )


class OwnerSchema(StrictSchema):
    #: An inspectorate's slug, or null to open the section to every inspectorate.
    tenant = fields.String(required=True, allow_none=True, validate=validate.Length(1, 40))


class CommentCreateSchema(StrictSchema):
    section_key = fields.String(required=True, validate=validate.Length(1, 64))
    body = fields.String(required=True, validate=validate.Length(1, 10_000))
    quote = fields.String(load_default="", validate=validate.Length(0, 2_000))
    kind = fields.String(
        load_default="comment", validate=validate.OneOf(["comment", "factual_accuracy"])
    )
    source = fields.String(load_default="", validate=validate.Length(0, 300))


class ReplySchema(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(1, 10_000))


class ResolveThreadSchema(StrictSchema):
    response = fields.String(load_default="", validate=validate.Length(0, 10_000))
    reopen = fields.Boolean(load_default=False)


class CommentSchema(Schema):
    id = fields.Integer()
    section_key = fields.String()
    quote = fields.String()
    body = fields.String()
    kind = fields.String()
    source = fields.String()
    response = fields.String()
    parent_id = fields.Integer(allow_none=True)
    author = fields.Function(lambda c: c.author.name)
    tenant_id = fields.Integer()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class SuggestionCreateSchema(StrictSchema):
    section_key = fields.String(required=True, validate=validate.Length(1, 64))
    operation = fields.String(
        required=True, validate=validate.OneOf(["insert", "delete", "replace"])
    )
    quote = fields.String(load_default="", validate=validate.Length(0, 2_000))
    text = fields.String(load_default="", validate=validate.Length(0, 10_000))
    reason = fields.String(load_default="", validate=validate.Length(0, 10_000))


class SuggestionDecisionSchema(StrictSchema):
    accept = fields.Boolean(required=True)


class SuggestionSchema(Schema):
    id = fields.Integer()
    section_key = fields.String()
    operation = fields.String()
    quote = fields.String()
    text = fields.String()
    reason = fields.String()
    status = fields.String()
    version_number = fields.Integer()
    result_number = fields.Integer(allow_none=True)
    author = fields.Function(lambda s: s.author.name)
    tenant_id = fields.Integer()
    created_at = fields.DateTime()


class RedLineCreateSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, 2_000))


class RedLineSchema(Schema):
    id = fields.Integer()
    tenant = fields.Function(lambda r: r.tenant.slug)
    text = fields.String()
    created_at = fields.DateTime()


class PresenceInSchema(StrictSchema):
    section_key = fields.String(load_default="", validate=validate.Length(0, 64))


class PresenceSchema(Schema):
    name = fields.Function(lambda p: p.user.name)
    tenant_id = fields.Integer()
    section_key = fields.String()
    seen_at = fields.DateTime()


class ExportCreateSchema(StrictSchema):
    format = fields.String(required=True, validate=validate.OneOf(["pdf", "docx"]))
    #: Defaults to the latest version.
    version = fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1))


class ExportSchema(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    version_number = fields.Integer()
    format = fields.String()
    status = fields.String()
    progress = fields.Integer()
    draft = fields.Boolean()
    error = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
