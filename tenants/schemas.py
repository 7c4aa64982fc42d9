"""marshmallow schemas for tenants, users, tokens and the audit log (forms and API)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import StrictSchema
from app.forms import FormSchema
from tenants.models import Role

ROLE_VALUES = [r.value for r in Role]
REQUIRED = {"required": "Enter a value", "null": "Enter a value"}


class SignInForm(FormSchema):
    email = fields.String(
        required=True,
        validate=validate.Length(1, 320, error="Enter your email address"),
        error_messages={"required": "Enter your email address"},
    )
    password = fields.String(
        load_default="",
        validate=validate.Length(0, 256, error="Password must be 256 characters or fewer"),
    )
    next = fields.String(load_default="")


class MfaCodeForm(FormSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(1, 20, error="Enter the 6-digit code"),
        error_messages={"required": "Enter the 6-digit code"},
    )


class TokenForm(FormSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(1, 100, error="Enter a name of 100 characters or fewer"),
        error_messages={"required": "Enter a name for the token"},
    )
    scopes = fields.List(
        fields.String(validate=validate.OneOf(["read", "write"])),
        required=True,
        validate=validate.Length(min=1, error="Choose read, write or both"),
        error_messages={"required": "Choose read, write or both"},
    )
    days = fields.Integer(
        load_default=90,
        validate=validate.Range(1, 366, error="Enter a number of days from 1 to 366"),
        error_messages={"invalid": "Enter a number of days from 1 to 366"},
    )


class UserForm(FormSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(1, 200, error="Enter the person's full name"),
        error_messages={"required": "Enter the person's full name"},
    )
    email = fields.String(
        required=True,
        validate=validate.Length(1, 320, error="Enter an email address"),
        error_messages={"required": "Enter an email address"},
    )
    job_title = fields.String(load_default="", validate=validate.Length(0, 200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_VALUES)), load_default=list)
    password = fields.String(
        load_default="",
        validate=validate.Length(0, 256, error="Password must be 256 characters or fewer"),
    )


class UserRolesForm(FormSchema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_VALUES)), load_default=list)
    active = fields.Boolean(load_default=False)


class AuditFilterSchema(Schema):
    action = fields.String(load_default="", validate=validate.Length(0, 100))
    actor = fields.String(load_default="", validate=validate.Length(0, 320))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100000))


# --- API --------------------------------------------------------------------------------


class TenantSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    short_name = fields.String()
    senior_oversight_title = fields.String()


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    job_title = fields.String()
    active = fields.Boolean()
    roles = fields.Function(lambda user: sorted(r.value for r in user.roles))
    tenant = fields.Function(lambda user: user.tenant.slug)
    mfa_enabled = fields.Boolean()


class UserCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    job_title = fields.String(load_default="", validate=validate.Length(0, 200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_VALUES)), load_default=list)


class AuditEventSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    actor_label = fields.String()
    changes = fields.Dict()
    request_id = fields.String()
    ip_address = fields.String()
    created_at = fields.DateTime()
