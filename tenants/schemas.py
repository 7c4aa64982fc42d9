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


class AuditFilterSchema(FormSchema):
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


class IdentityProviderForm(FormSchema):
    discovery_url = fields.String(
        required=True,
        validate=validate.Length(1, 1000, error="Enter the provider's discovery URL"),
        error_messages={"required": "Enter the provider's discovery URL"},
    )
    client_id = fields.String(
        required=True,
        validate=validate.Length(1, 500, error="Enter the client ID"),
        error_messages={"required": "Enter the client ID"},
    )
    client_secret = fields.String(load_default="", validate=validate.Length(0, 2000))
    role_claim = fields.String(load_default="roles", validate=validate.Length(0, 100))
    #: One mapping per line: ``provider value = our role``.
    role_map = fields.String(load_default="", validate=validate.Length(0, 5000))
    enabled = fields.Boolean(load_default=False)


class TenantForm(FormSchema):
    slug = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9-]{1,39}$", error="Use 2 to 40 lower-case letters, digits or hyphens"
        ),
        error_messages={"required": "Enter a short identifier, like hmi-example"},
    )
    name = fields.String(
        required=True,
        validate=validate.Length(1, 200, error="Enter the name"),
        error_messages={"required": "Enter the inspectorate's full name"},
    )
    short_name = fields.String(
        required=True,
        validate=validate.Length(1, 40, error="Enter a short name"),
        error_messages={"required": "Enter a short name, like HMI Example"},
    )
    senior_oversight_title = fields.String(
        required=True,
        validate=validate.Length(1, 200, error="Enter the senior oversight title"),
        error_messages={"required": "Enter the senior oversight title"},
    )
    sponsoring_department = fields.String(load_default="", validate=validate.Length(0, 200))
    colour = fields.String(
        load_default="#1d70b8",
        validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="Enter a colour like #1d70b8"),
    )
    email_domains = fields.String(load_default="", validate=validate.Length(0, 1000))
    mfa_required = fields.Boolean(load_default=False)
