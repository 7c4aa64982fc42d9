"""Signing in through a real browser: password, and single sign-on through the test OpenID
Connect provider with the real authorization-code flow."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import get_database, set_context
from tenants.models import Role, User
from tenants.oidc import save_provider
from tests.e2e.conftest import assert_accessible
from tests.oidc_provider import OidcProvider, OidcUser
from tests.tenants.fixtures import PASSWORD, create_tenant, create_user


def test_password_sign_in_and_out(page: Any, live_server: str, e2e_app: Flask) -> None:
    with get_database(e2e_app).transaction() as session:
        tenant = create_tenant(session)
        user = create_user(session, tenant, roles=[Role.ADMINISTRATOR], name="Pat Browser")
        email = user.email
    page.goto(live_server + "/sign-in")
    assert_accessible(page)
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live_server + "/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Signed in as Pat Browser")
    page.goto(live_server + "/admin/users")
    assert_accessible(page)
    page.goto(live_server + "/account")
    assert_accessible(page)
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")


def test_single_sign_on_through_the_authorization_code_flow(
    page: Any, live_server: str, e2e_app: Flask, oidc_provider: OidcProvider
) -> None:
    client_id = "cjji-e2e"
    oidc_provider.add_client(client_id, "e2e-secret", [live_server + "/sign-in/sso/callback"])
    oidc_provider.set_user(
        OidcUser("e2e-sub", "grace@e2e-sso.example.gov.uk", "Grace Hopper", ["Inspectors"])
    )
    with get_database(e2e_app).transaction() as session, e2e_app.app_context():
        tenant = create_tenant(session, email_domains="e2e-sso.example.gov.uk")
        set_context(session, tenant_id=tenant.id)
        save_provider(
            session,
            tenant,
            discovery_url=oidc_provider.discovery_url,
            client_id=client_id,
            client_secret="e2e-secret",
            role_claim="roles",
            role_map={"Inspectors": "inspector"},
            enabled=True,
            allow_http_loopback=True,
        )
        tenant_id = tenant.id
    page.goto(live_server + "/sign-in")
    page.get_by_label("Work email address").fill("grace@e2e-sso.example.gov.uk")
    page.get_by_role("button", name="Continue to your organisation").click()
    expect(page.get_by_role("heading", name="Sign in to Test IdP")).to_be_visible()
    page.get_by_role("button", name="Continue as Grace Hopper").click()
    page.wait_for_url(live_server + "/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Signed in as Grace Hopper")
    with get_database(e2e_app).transaction() as session:
        set_context(session, tenant_id=tenant_id)
        user = session.scalar(select(User).where(User.oidc_subject == "e2e-sub"))
        assert user is not None and user.roles == {Role.INSPECTOR}
