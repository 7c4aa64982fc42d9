"""marshmallow schemas for evidence (API input and output, and the item form)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from app.api.schemas import StrictSchema
from app.forms import FormSchema
from shared_workspace.evidence.models import (
    MARKINGS,
    RETENTION_CLASSES,
    FileState,
    Method,
    Visibility,
)

_ID = validate.Range(1, 2**31 - 1)


class _ItemFields:
    title = fields.String(required=True, validate=validate.Length(1, 300))
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in Method]))
    site_id = fields.Integer(load_default=None, allow_none=True, validate=_ID)
    inspected_body = fields.String(load_default="", validate=validate.Length(0, 300))
    source = fields.String(load_default="", validate=validate.Length(0, 300))
    protective_marking = fields.String(load_default="OFFICIAL", validate=validate.OneOf(MARKINGS))
    visibility = fields.String(
        load_default=Visibility.WORKSPACE.value,
        validate=validate.OneOf([v.value for v in Visibility]),
    )
    retention_class = fields.String(
        load_default="standard", validate=validate.OneOf(RETENTION_CLASSES)
    )
    criteria = fields.List(
        fields.String(validate=validate.Length(1, 300)),
        load_default=list,
        validate=validate.Length(0, 50),
    )


class ItemCreateSchema(_ItemFields, StrictSchema):
    pass


class ItemUpdateSchema(StrictSchema):
    title = fields.String(validate=validate.Length(1, 300))
    method = fields.String(validate=validate.OneOf([m.value for m in Method]))
    site_id = fields.Integer(allow_none=True, validate=_ID)
    inspected_body = fields.String(validate=validate.Length(0, 300))
    source = fields.String(validate=validate.Length(0, 300))
    protective_marking = fields.String(validate=validate.OneOf(MARKINGS))
    visibility = fields.String(validate=validate.OneOf([v.value for v in Visibility]))
    retention_class = fields.String(validate=validate.OneOf(RETENTION_CLASSES))
    criteria = fields.List(fields.String(validate=validate.Length(1, 300)))


class ItemFormSchema(_ItemFields, FormSchema):
    @pre_load
    def _no_site(self, data: Any, **_: Any) -> Any:
        """An empty choice means no site."""
        if isinstance(data, dict) and data.get("site_id") == "":
            data = {**data, "site_id": None}
        return data


class FileSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    filename = fields.String()
    state = fields.String(metadata={"enum": [s.value for s in FileState]})
    reason = fields.String()
    declared_size = fields.Integer()
    size = fields.Integer()
    sha256 = fields.String()
    content_type = fields.String()
    part_size = fields.Integer()
    duplicate_of_id = fields.Integer()
    created_at = fields.DateTime()
    scanned_at = fields.DateTime()


class ItemSchema(Schema):
    id = fields.Integer()
    workspace_id = fields.Integer()
    inspectorate = fields.Function(lambda i: i.tenant.slug)
    title = fields.String()
    method = fields.String()
    site_id = fields.Integer()
    inspected_body = fields.String()
    source = fields.String()
    collected_by = fields.Function(lambda i: i.collected_by.name if i.collected_by else None)
    protective_marking = fields.String()
    visibility = fields.String()
    retention_class = fields.String()
    criteria = fields.Function(lambda i: [c.criterion for c in i.criteria])
    created_at = fields.DateTime()


class ItemResultSchema(Schema):
    item = fields.Nested(ItemSchema)
    files = fields.List(fields.Nested(FileSchema))
    warnings = fields.List(fields.String())


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))
    total = fields.Integer(metadata={"description": "Counted up to 1,000"})
    total_is_capped = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class UploadStartSchema(StrictSchema):
    filename = fields.String(required=True, validate=validate.Length(1, 1000))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    content_type = fields.String(load_default="", validate=validate.Length(0, 255))


class UploadStartedSchema(Schema):
    file = fields.Nested(FileSchema)
    part_size = fields.Integer()
    part_count = fields.Integer()


class PartsRequestSchema(StrictSchema):
    part_numbers = fields.List(
        fields.Integer(strict=True), required=True, validate=validate.Length(1, 1000)
    )


class PartUrlsSchema(Schema):
    urls = fields.Dict(keys=fields.String(), values=fields.String())


class PartSchema(Schema):
    part_number = fields.Integer()
    etag = fields.String()
    size = fields.Integer()


class UploadStatusSchema(Schema):
    file = fields.Nested(FileSchema)
    parts = fields.List(fields.Nested(PartSchema))


class CompleteSchema(StrictSchema):
    sha256 = fields.String(required=True, validate=validate.Length(1, 100))


class FileResultSchema(Schema):
    file = fields.Nested(FileSchema)
    warnings = fields.List(fields.String())
    duplicates = fields.List(fields.Nested(FileSchema))


class ExportSchema(Schema):
    id = fields.Integer()
    state = fields.String()
    total_files = fields.Integer()
    done_files = fields.Integer()
    percent = fields.Integer()
    size = fields.Integer()
    error = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime()
