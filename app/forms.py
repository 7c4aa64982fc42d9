"""HTML form helpers: marshmallow parses forms as it parses JSON; errors become GOV.UK
error summaries with a message per field."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields

from app.api.schemas import StrictSchema


class FormSchema(StrictSchema):
    """Like StrictSchema, but the CSRF token and buttons are not data."""

    class Meta(StrictSchema.Meta):
        unknown = "exclude"


def parse_form(schema: Schema) -> tuple[dict[str, Any], dict[str, str]]:
    """(data, errors): errors map each field to one message a person can act on."""
    list_fields = {name for name, f in schema.fields.items() if isinstance(f, fields.List)}
    raw: dict[str, Any] = {}
    for key in request.form:
        if key == "csrf_token":
            continue
        raw[key] = request.form.getlist(key) if key in list_fields else request.form.get(key)
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_form": exc.messages}
        return {}, {field: _first(message) for field, message in messages.items()}


def _first(message: Any) -> str:
    if isinstance(message, list):
        return _first(message[0]) if message else "Enter a valid value"
    if isinstance(message, dict):
        return _first(next(iter(message.values()), "Enter a valid value"))
    return str(message)


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """The items of a govukErrorSummary, each linking to its field."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]
