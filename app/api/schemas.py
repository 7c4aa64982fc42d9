"""Shared marshmallow bases: unknown fields rejected on write, strings stripped."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

#: Control characters other than tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _strip_strings(self, data: Any, **_: Any) -> Any:
        """Trim text and refuse NUL and other control characters (PostgreSQL cannot store NUL)."""
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                if _CONTROL.search(value):
                    raise ValidationError(
                        {key: ["Remove the hidden control characters from this text"]}
                    )
                value = value.strip()
            cleaned[key] = value
        return cleaned


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
