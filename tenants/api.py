"""JSON API for the signed-in user, the tenant's users and its audit log."""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from app.api import api, dump, operation, parse_body
from app.api.errors import ApiError
from app.audit import AuditEvent
from app.db import get_session
from app.tenancy import get_or_404
from tenants import service
from tenants.login import role_required
from tenants.models import Role, User
from tenants.schemas import AuditEventSchema, UserCreateSchema, UserSchema

MAX_LIMIT = 500


def _limit() -> int:
    raw = request.args.get("limit", "100")
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be a whole number from 1 to {MAX_LIMIT}."]})
    return int(raw)


@api.get("/me")
@operation(summary="The signed-in user", tags=["users"], response=UserSchema, scope="read")
def me() -> Response:
    return dump(UserSchema(), current_user)


@api.get("/users")
@role_required(Role.ADMINISTRATOR)
@operation(
    summary="Users of your tenant", tags=["users"], response=UserSchema, many=True, scope="read"
)
def list_users() -> Response:
    return dump(UserSchema(many=True), service.users_of(get_session()))


@api.get("/users/<int:user_id>")
@role_required(Role.ADMINISTRATOR)
@operation(summary="One user of your tenant", tags=["users"], response=UserSchema, scope="read")
def get_user(user_id: int) -> Response:
    return dump(UserSchema(), get_or_404(get_session(), User, user_id))


@api.post("/users")
@role_required(Role.ADMINISTRATOR)
@operation(
    summary="Add a user to your tenant",
    tags=["users"],
    body=UserCreateSchema,
    response=UserSchema,
    status=201,
    scope="write",
)
def create_user() -> Response:
    data = parse_body(UserCreateSchema())
    try:
        user = service.create_user(
            get_session(),
            tenant=current_user.tenant,
            email=data["email"],
            name=data["name"],
            job_title=data["job_title"],
            roles={Role(r) for r in data["roles"]},
        )
    except service.ServiceError as exc:
        raise ApiError(
            422, "Unprocessable Content", exc.message, errors={exc.field: [exc.message]}
        ) from None
    return dump(UserSchema(), user, status=201)


@api.get("/audit-events")
@role_required(Role.ADMINISTRATOR)
@operation(
    summary="Your tenant's audit log, newest first",
    tags=["audit"],
    response=AuditEventSchema,
    many=True,
    scope="read",
)
def list_audit_events() -> Response:
    events = get_session().scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(_limit())
    )
    return dump(AuditEventSchema(many=True), list(events))
