"""Platform administration: adding and editing tenants (inspectorates)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.db import get_session
from app.forms import parse_form
from app.tenancy import get_or_404
from tenants.login import platform_admin_required
from tenants.models import Tenant
from tenants.schemas import TenantForm

bp = Blueprint("platform", __name__, url_prefix="/platform", template_folder="templates")
FIELDS = (
    "slug",
    "name",
    "short_name",
    "senior_oversight_title",
    "sponsoring_department",
    "colour",
    "email_domains",
)


@bp.get("/tenants")
@platform_admin_required
def tenants() -> str:
    rows = get_session().scalars(select(Tenant).order_by(Tenant.name)).all()
    return render_template("platform/tenants.html", tenants=rows)


def _apply(tenant: Tenant, data: dict[str, object]) -> None:
    tenant.name = str(data["name"])
    tenant.short_name = str(data["short_name"])
    tenant.senior_oversight_title = str(data["senior_oversight_title"])
    tenant.sponsoring_department = str(data["sponsoring_department"]) or None
    tenant.embargoed_copy = bool(data["sponsoring_department"])
    tenant.colour = str(data["colour"])
    tenant.email_domains = ",".join(
        d.strip().lower() for d in str(data["email_domains"]).split(",") if d.strip()
    )
    tenant.mfa_required = bool(data["mfa_required"])


@bp.route("/tenants/new", methods=["GET", "POST"])
@platform_admin_required
def new_tenant() -> str | Response:
    db = get_session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = parse_form(TenantForm())
        if not errors and db.scalar(select(Tenant.id).where(Tenant.slug == data["slug"])):
            errors = {"slug": "Another inspectorate already uses this identifier"}
        if not errors:
            tenant = Tenant(slug=data["slug"])
            _apply(tenant, data)
            db.add(tenant)
            db.flush()
            flash(f"{tenant.name} has been added", "success")
            return redirect(url_for("platform.tenants"))
    values = {k: request.form.get(k, "")[:1000] for k in FIELDS}
    values["colour"] = values["colour"] or "#1d70b8"
    return render_template(
        "platform/tenant_form.html",
        errors=errors,
        values=values,
        tenant=None,
        mfa_required=bool(request.form.get("mfa_required")),
    )


@bp.route("/tenants/<int:tenant_id>", methods=["GET", "POST"])
@platform_admin_required
def edit_tenant(tenant_id: int) -> str | Response:
    db = get_session()
    tenant = get_or_404(db, Tenant, tenant_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form.copy()
        form["slug"] = tenant.slug  # the identifier never changes once made
        request.form = form  # type: ignore[misc]
        data, errors = parse_form(TenantForm())
        if not errors:
            _apply(tenant, data)
            db.flush()
            flash(f"{tenant.name} has been updated", "success")
            return redirect(url_for("platform.tenants"))
        values = {k: request.form.get(k, "")[:1000] for k in FIELDS}
    else:
        values = {k: getattr(tenant, k) or "" for k in FIELDS}
    return render_template(
        "platform/tenant_form.html",
        errors=errors,
        values=values,
        tenant=tenant,
        mfa_required=tenant.mfa_required,
    )
