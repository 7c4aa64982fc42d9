"""Tenant administration, platform administration and seeding."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import set_context
from app.secrets import decrypt
from tenants.models import IdentityProvider, Role, Tenant, User
from tenants.seed import FOUNDING_TENANTS, seed
from tests.tenants.fixtures import create_tenant, create_user, sign_in


@pytest.fixture
def admin(session: Session):  # type: ignore[no-untyped-def]
    return create_user(session, create_tenant(session), roles=[Role.ADMINISTRATOR])


def test_admin_adds_a_user_with_roles(client: FlaskClient, session: Session, admin) -> None:
    sign_in(client, admin)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Ada Inspector",
            "email": "Ada@Example.gov.uk",
            "roles": ["inspector", "lead_inspector"],
        },
    )
    assert response.status_code == 302
    set_context(session, tenant_id=admin.tenant_id)
    user = session.scalar(select(User).where(User.email == "ada@example.gov.uk"))
    assert user is not None and user.tenant_id == admin.tenant_id
    assert user.roles == {Role.INSPECTOR, Role.LEAD_INSPECTOR}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "email": "a@b.example.gov.uk"}, "Enter the person&#39;s full name"),
        ({"name": "A", "email": "not an email"}, "Enter an email address in the correct format"),
        ({"name": "A", "email": "a@b.example.gov.uk", "roles": ["emperor"]}, "There is a problem"),
        (
            {"name": "A", "email": "a@b.example.gov.uk", "password": "short"},
            "12 characters or more",
        ),
        ({"name": "x" * 201, "email": "a@b.example.gov.uk"}, "Enter the person&#39;s full name"),
    ],
    ids=["no-name", "bad-email", "bad-role", "short-password", "long-name"],
)
def test_add_user_form_explains_each_problem(client: FlaskClient, admin, form, message) -> None:
    sign_in(client, admin)
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_an_email_used_in_another_tenant_is_refused(
    client: FlaskClient, session: Session, admin
) -> None:
    other = create_user(session, create_tenant(session))
    sign_in(client, admin)
    response = client.post("/admin/users/new", data={"name": "Copy", "email": other.email})
    assert "A user with this email address already exists" in response.get_data(as_text=True)


def test_admin_cannot_remove_their_own_administrator_role(client: FlaskClient, admin) -> None:
    sign_in(client, admin)
    response = client.post(
        f"/admin/users/{admin.id}", data={"roles": ["inspector"], "active": "true"}
    )
    assert "You cannot remove your own administrator role" in response.get_data(as_text=True)


def test_deactivating_a_user_signs_them_out(
    app: Flask, client: FlaskClient, session: Session, admin
) -> None:
    person = create_user(session, session.get(Tenant, admin.tenant_id))
    theirs = app.test_client()
    sign_in(theirs, person)
    sign_in(client, admin)
    assert (
        client.post(f"/admin/users/{person.id}", data={"roles": ["inspector"]}).status_code == 302
    )
    assert theirs.get("/account").status_code == 302


def test_identity_provider_secret_is_encrypted_and_kept_when_blank(
    app: Flask, client: FlaskClient, session: Session, admin
) -> None:
    sign_in(client, admin)
    form = {
        "discovery_url": "https://idp.example/.well-known/openid-configuration",
        "client_id": "cjji",
        "client_secret": "s3cret-value",
        "role_claim": "groups",
        "role_map": "Inspectors = inspector\nLeads = lead_inspector",
        "enabled": "true",
    }
    assert client.post("/admin/identity-provider", data=form).status_code == 302
    assert (
        client.post("/admin/identity-provider", data={**form, "client_secret": ""}).status_code
        == 302
    )
    set_context(session, tenant_id=admin.tenant_id)
    provider = session.scalar(select(IdentityProvider))
    assert "s3cret" not in provider.client_secret_encrypted
    with app.app_context():
        assert decrypt(provider.client_secret_encrypted) == "s3cret-value"
    assert provider.role_map == {"Inspectors": "inspector", "Leads": "lead_inspector"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"discovery_url": "http://idp.example/x"}, "https:// discovery URL"),
        ({"discovery_url": "javascript:alert(1)"}, "https:// discovery URL"),
        ({"role_map": "Inspectors => emperor"}, "Line 1"),
        ({"client_id": ""}, "Enter the client ID"),
    ],
    ids=["http", "javascript", "bad-map", "no-client"],
)
def test_identity_provider_form_rejects_bad_settings(
    client: FlaskClient, admin, change, message
) -> None:
    sign_in(client, admin)
    form = {
        "discovery_url": "https://idp.example/.well-known/openid-configuration",
        "client_id": "cjji",
        "client_secret": "s",
        "role_map": "",
        **change,
    }
    response = client.post("/admin/identity-provider", data=form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_only_platform_administrators_manage_tenants(
    client: FlaskClient, session: Session, admin
) -> None:
    sign_in(client, admin)
    assert client.get("/platform/tenants").status_code == 403
    assert client.post("/platform/tenants/new", data={"slug": "x"}).status_code == 403


def test_platform_administrator_adds_and_edits_a_tenant(
    client: FlaskClient, session: Session
) -> None:
    root = create_user(
        session, create_tenant(session), roles=[Role.ADMINISTRATOR], is_platform_admin=True
    )
    sign_in(client, root)
    form = {
        "slug": "hmi-example",
        "name": "HM Inspectorate of Examples",
        "short_name": "HMI Ex",
        "senior_oversight_title": "Lead",
        "colour": "#123456",
        "email_domains": "Example.gov.uk, other.gov.uk",
        "mfa_required": "true",
    }
    assert client.post("/platform/tenants/new", data=form).status_code == 302
    tenant = session.scalar(select(Tenant).where(Tenant.slug == "hmi-example"))
    assert tenant.domains == ["example.gov.uk", "other.gov.uk"] and tenant.mfa_required
    again = client.post("/platform/tenants/new", data=form)
    assert "already uses this identifier" in again.get_data(as_text=True)
    bad = client.post("/platform/tenants/new", data={**form, "slug": "Bad Slug!", "colour": "red"})
    text = bad.get_data(as_text=True)
    assert "lower-case letters" in text and "Enter a colour like #1d70b8" in text
    edit = client.post(
        f"/platform/tenants/{tenant.id}", data={**form, "name": "Renamed", "slug": "hijack"}
    )
    assert edit.status_code == 302
    session.refresh(tenant)
    assert (tenant.name, tenant.slug) == ("Renamed", "hmi-example")


def test_seed_creates_the_founding_tenants_idempotently(session: Session) -> None:
    set_context(session, tenant_id=None, platform_admin=True)
    seed(session, demo=False)
    seed(session, demo=False)
    slugs = {t.slug for t in session.scalars(select(Tenant))}
    assert {f.slug for f in FOUNDING_TENANTS} <= slugs
    assert (
        session.scalar(select(func.count()).select_from(Tenant).where(Tenant.slug == "hmcpsi")) == 1
    )
    prisons = session.scalar(select(Tenant).where(Tenant.slug == "hmiprisons"))
    assert prisons.senior_oversight_title == "Team Leader"
    assert prisons.embargoed_copy and prisons.sponsoring_department == "Ministry of Justice"
    hmicfrs = session.scalar(select(Tenant).where(Tenant.slug == "hmicfrs"))
    assert not hmicfrs.embargoed_copy
