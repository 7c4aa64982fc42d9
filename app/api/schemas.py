"""Shared marshmallow bases: unknown fields rejected on write, strings stripped."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _strip_strings(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


class ProblemSchema(Schema):
    """RFC 9457 problem details, with field-level messages under ``errors``."""

    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict()
    request_id = fields.String()


class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    version = fields.String(required=True)
