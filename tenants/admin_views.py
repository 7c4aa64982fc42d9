"""Tenant administration: users and roles, the identity provider, the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.audit import AuditEvent
from app.db import get_database, get_session, set_context
from app.forms import parse_form
from app.tenancy import get_or_404
from app.web import register_nav
from tenants import service
from tenants.login import role_required
from tenants.models import Role, User
from tenants.schemas import AuditFilterSchema, UserForm, UserRolesForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
PAGE_SIZE = 50
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/users")
@role_required(Role.ADMINISTRATOR)
def users() -> str:
    return render_template("admin/users.html", users=service.users_of(get_session()))


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMINISTRATOR)
def new_user() -> str | Response:
    errors: dict[str, str] = {}
    values = {k: request.form.get(k, "")[:320] for k in ("name", "email", "job_title")}
    if request.method == "POST":
        data, errors = parse_form(UserForm())
        if not errors:
            try:
                user = service.create_user(
                    get_session(),
                    tenant=current_user.tenant,
                    email=data["email"],
                    name=data["name"],
                    job_title=data["job_title"],
                    roles={Role(r) for r in data["roles"]},
                    password=data["password"] or None,
                )
            except service.ServiceError as exc:
                errors = {exc.field: exc.message}
            else:
                flash(f"{user.name} has been added", "success")
                return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        errors=errors,
        values=values,
        checked=set(request.form.getlist("roles")),
        roles=list(Role),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMINISTRATOR)
def edit_user(user_id: int) -> str | Response:
    db = get_session()
    user = get_or_404(db, User, user_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = parse_form(UserRolesForm())
        if (
            not errors
            and user.id == current_user.id
            and (Role.ADMINISTRATOR.value not in data["roles"] or not data["active"])
        ):
            errors = {
                "roles": "You cannot remove your own administrator role or deactivate yourself"
            }
        if not errors:
            service.set_roles(db, user, {Role(r) for r in data["roles"]})
            if user.active and not data["active"]:
                user.session_version += 1  # signs them out at once
            user.active = data["active"]
            db.flush()
            flash(f"{user.name}'s roles have been updated", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", user=user, errors=errors, roles=list(Role))


def _audit_query(filters: dict[str, object]):  # type: ignore[no-untyped-def]
    query = select(AuditEvent)
    if filters.get("action"):
        query = query.where(AuditEvent.action.contains(str(filters["action"]), autoescape=True))
    if filters.get("actor"):
        query = query.where(AuditEvent.actor_label.contains(str(filters["actor"]), autoescape=True))
    return query


def _filters() -> dict[str, object]:
    try:
        return AuditFilterSchema().load(request.args.to_dict())
    except ValidationError:
        return {"action": "", "actor": "", "page": 1}


@bp.get("/audit")
@role_required(Role.ADMINISTRATOR)
def audit_log() -> str:
    db = get_session()
    filters = _filters()
    page = int(filters["page"])  # type: ignore[call-overload]
    query = _audit_query(filters)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = db.scalars(
        query.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "admin/audit.html",
        events=events,
        filters=filters,
        page=page,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


def _csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in exported text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


@bp.get("/audit.csv")
@role_required(Role.ADMINISTRATOR)
def audit_csv() -> Response:
    db = get_session()
    query = _audit_query(_filters()).order_by(AuditEvent.seq)
    columns = [
        "seq",
        "created_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "changes",
        "request_id",
        "ip_address",
        "hash",
    ]

    tenant_id = current_user.tenant_id
    database = get_database()

    def rows() -> Iterator[str]:
        """Stream from a session of its own, closed when the last row is sent, so the
        download never depends on the request's session (long since committed)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        with database.transaction() as export:
            set_context(export, tenant_id=tenant_id)
            for event in export.scalars(query.execution_options(yield_per=500)):
                writer.writerow([_csv_cell(getattr(event, c)) for c in columns])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    from app import audit as audit_module

    audit_module.record(
        db, tenant_id=tenant_id, action="audit_log.exported", object_type="audit_log"
    )
    filename = f"audit-{current_user.tenant.slug}.csv"
    return Response(
        rows(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def init_nav() -> None:
    register_nav("admin.users", "Users")
    register_nav("admin.audit_log", "Audit log")
    register_nav("admin.identity_provider", "Single sign-on")


def parse_role_map(text: str) -> tuple[dict[str, str], str | None]:
    """``value = role`` per line; returns the mapping or the first line that is wrong."""
    mapping: dict[str, str] = {}
    known = {r.value for r in Role}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, sep, role = line.partition("=")
        if not sep or role.strip() not in known or not value.strip():
            return {}, f"Line {number}: write provider-value = role, with one of our role names"
        mapping[value.strip()] = role.strip()
    return mapping, None


@bp.route("/identity-provider", methods=["GET", "POST"])
@role_required(Role.ADMINISTRATOR)
def identity_provider() -> str | Response:
    from tenants import oidc
    from tenants.models import IdentityProvider
    from tenants.schemas import IdentityProviderForm

    db = get_session()
    provider = db.scalar(select(IdentityProvider))
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = parse_form(IdentityProviderForm())
        mapping: dict[str, str] = {}
        if not errors:
            mapping, problem = parse_role_map(data["role_map"])
            if problem:
                errors = {"role_map": problem}
        if not errors:
            config = current_app.extensions["config"]
            try:
                oidc.save_provider(
                    db,
                    current_user.tenant,
                    discovery_url=data["discovery_url"],
                    client_id=data["client_id"],
                    client_secret=data["client_secret"] or None,
                    role_claim=data["role_claim"],
                    role_map=mapping,
                    enabled=data["enabled"],
                    allow_http_loopback=not config.is_production,
                )
            except service.ServiceError as exc:
                errors = {exc.field: exc.message}
            else:
                flash("Single sign-on settings saved", "success")
                return redirect(url_for("admin.identity_provider"))
    values = {
        "discovery_url": request.form.get(
            "discovery_url", provider.discovery_url if provider else ""
        ),
        "client_id": request.form.get("client_id", provider.client_id if provider else ""),
        "role_claim": request.form.get("role_claim", provider.role_claim if provider else "roles"),
        "role_map": request.form.get(
            "role_map",
            "\n".join(f"{k} = {v}" for k, v in (provider.role_map or {}).items())
            if provider
            else "",
        ),
        "enabled": provider.enabled
        if provider and request.method == "GET"
        else bool(request.form.get("enabled")),
    }
    return render_template(
        "admin/identity_provider.html",
        errors=errors,
        values=values,
        provider=provider,
        roles=list(Role),
    )
