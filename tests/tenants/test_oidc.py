"""Single sign-on: the real authorization-code flow against the test provider on loopback,
and every way a response can be wrong."""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import set_context
from tenants.models import Role, User
from tenants.oidc import save_provider
from tests.oidc_provider import OidcProvider, OidcUser
from tests.tenants.fixtures import create_tenant, create_user

CALLBACK = "http://localhost/sign-in/sso/callback"
_clients = itertools.count(1)


@pytest.fixture
def sso_tenant(app: Flask, session: Session, oidc_provider: OidcProvider):  # type: ignore[no-untyped-def]
    tenant = create_tenant(session, email_domains="sso.example.gov.uk")
    client_id = f"cjji-{next(_clients)}"
    oidc_provider.add_client(client_id, "client-secret", [CALLBACK])
    set_context(session, tenant_id=tenant.id)
    with app.app_context():
        save_provider(
            session,
            tenant,
            discovery_url=oidc_provider.discovery_url,
            client_id=client_id,
            client_secret="client-secret",
            role_claim="roles",
            role_map={"Inspectors": "inspector", "Leads": "lead_inspector"},
            enabled=True,
            allow_http_loopback=True,
        )
    session.commit()
    return tenant


def _flow(client: FlaskClient, email: str, tamper_state: bool = False):  # type: ignore[no-untyped-def]
    """Start at our sign-in, approve at the provider, come back; returns our final response."""
    start = client.post("/sign-in/sso", data={"sso_email": email})
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    authorize_url = start.headers["Location"]
    approved = requests.post(
        authorize_url, data={"decision": "approve"}, allow_redirects=False, timeout=10
    )
    assert approved.status_code == 302, approved.text[:500]
    back = urlsplit(approved.headers["Location"])
    query = back.query
    if tamper_state:
        query = query.replace("state=", "state=x")
    return client.get(f"{back.path}?{query}")


def test_first_sign_in_provisions_the_user_with_mapped_roles(
    client: FlaskClient, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    oidc_provider.set_user(
        OidcUser(
            "sub-1",
            "ada@sso.example.gov.uk",
            "Ada Lovelace",
            ["Inspectors", "Leads", "Unknown group"],
        )
    )
    response = _flow(client, "ada@sso.example.gov.uk")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert client.get("/account").status_code == 200
    set_context(session, tenant_id=sso_tenant.id)
    user = session.scalar(select(User).where(User.email == "ada@sso.example.gov.uk"))
    assert user.oidc_subject == "sub-1" and user.tenant_id == sso_tenant.id
    assert user.roles == {Role.INSPECTOR, Role.LEAD_INSPECTOR}
    assert user.password_hash is None


def test_roles_follow_the_claim_on_each_sign_in(
    app: Flask, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    oidc_provider.set_user(OidcUser("sub-2", "bo@sso.example.gov.uk", "Bo", ["Leads"]))
    assert _flow(app.test_client(), "bo@sso.example.gov.uk").status_code == 302
    oidc_provider.set_user(OidcUser("sub-2", "bo@sso.example.gov.uk", "Bo", ["Inspectors"]))
    assert _flow(app.test_client(), "bo@sso.example.gov.uk").status_code == 302
    set_context(session, tenant_id=sso_tenant.id)
    user = session.scalar(select(User).where(User.oidc_subject == "sub-2"))
    session.refresh(user)
    assert user.roles == {Role.INSPECTOR}


@pytest.mark.parametrize("tamper", ["wrong_audience", "wrong_issuer", "wrong_nonce", "expired"])
def test_a_bad_id_token_is_refused(
    client: FlaskClient, sso_tenant, oidc_provider: OidcProvider, tamper: str
) -> None:
    oidc_provider.set_user(OidcUser("sub-3", "cy@sso.example.gov.uk", "Cy", ["Inspectors"]))
    oidc_provider.tamper = tamper
    response = _flow(client, "cy@sso.example.gov.uk")
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_a_state_mismatch_is_refused(
    client: FlaskClient, sso_tenant, oidc_provider: OidcProvider
) -> None:
    oidc_provider.set_user(OidcUser("sub-4", "di@sso.example.gov.uk", "Di", []))
    response = _flow(client, "di@sso.example.gov.uk", tamper_state=True)
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_an_email_outside_the_tenants_domains_is_refused(
    client: FlaskClient, sso_tenant, oidc_provider: OidcProvider
) -> None:
    oidc_provider.set_user(OidcUser("sub-5", "eve@elsewhere.example", "Eve", ["Inspectors"]))
    response = _flow(client, "someone@sso.example.gov.uk")
    assert response.status_code == 400
    assert "another domain" in response.get_data(as_text=True)


def test_an_account_of_another_tenant_is_not_taken_over(
    client: FlaskClient, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    other = create_tenant(session)
    create_user(session, other, email="fay@sso.example.gov.uk")
    session.commit()
    oidc_provider.set_user(OidcUser("sub-6", "fay@sso.example.gov.uk", "Fay", []))
    response = _flow(client, "fay@sso.example.gov.uk")
    assert response.status_code == 400
    assert "another inspectorate" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@unknown.example", "do not recognise that email domain"),
        ("not-an-email", "Enter your work email address"),
    ],
)
def test_unknown_domains_get_a_clear_answer(
    client: FlaskClient, sso_tenant, email, message
) -> None:
    response = client.post("/sign-in/sso", data={"sso_email": email})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_tenant_without_sso_says_so(client: FlaskClient, session: Session) -> None:
    create_tenant(session, email_domains="nosso.example.gov.uk")
    session.commit()
    response = client.post("/sign-in/sso", data={"sso_email": "a@nosso.example.gov.uk"})
    assert "does not use single sign-on" in response.get_data(as_text=True)


def test_a_callback_without_a_started_flow_goes_back_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/sign-in/sso/callback?code=abc&state=def")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_password_account_is_never_taken_over_by_sso(
    client: FlaskClient, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    create_user(session, sso_tenant, email="admin@sso.example.gov.uk", is_platform_admin=True)
    session.commit()
    oidc_provider.set_user(OidcUser("attacker-sub", "admin@sso.example.gov.uk", "Admin", []))
    response = _flow(client, "admin@sso.example.gov.uk")
    assert response.status_code == 400
    assert "signs in with a password" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_an_account_made_for_sso_is_linked_on_a_verified_email(
    client: FlaskClient, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    create_user(session, sso_tenant, email="pre@sso.example.gov.uk", password_hash=None)
    session.commit()
    oidc_provider.set_user(OidcUser("pre-sub", "pre@sso.example.gov.uk", "Pre", ["Leads"]))
    assert _flow(client, "pre@sso.example.gov.uk").status_code == 302
    set_context(session, tenant_id=sso_tenant.id)
    user = session.scalar(select(User).where(User.email == "pre@sso.example.gov.uk"))
    session.refresh(user)
    assert user.oidc_subject == "pre-sub" and user.roles == {Role.LEAD_INSPECTOR}


def test_roles_are_removed_when_the_claim_no_longer_carries_them_and_unmapped_names_grant_nothing(
    app: Flask, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    oidc_provider.set_user(OidcUser("sub-7", "gil@sso.example.gov.uk", "Gil", ["Leads"]))
    assert _flow(app.test_client(), "gil@sso.example.gov.uk").status_code == 302
    oidc_provider.set_user(
        OidcUser("sub-7", "gil@sso.example.gov.uk", "Gil", ["administrator", "records_manager"])
    )
    assert _flow(app.test_client(), "gil@sso.example.gov.uk").status_code == 302
    set_context(session, tenant_id=sso_tenant.id)
    user = session.scalar(select(User).where(User.oidc_subject == "sub-7"))
    session.refresh(user)
    assert user.roles == set()


def test_sso_still_asks_for_two_factor_when_the_tenant_requires_it(
    client: FlaskClient, session: Session, sso_tenant, oidc_provider: OidcProvider
) -> None:
    set_context(session, tenant_id=None, platform_admin=True)
    sso_tenant.mfa_required = True
    session.commit()
    oidc_provider.set_user(OidcUser("sub-8", "hal@sso.example.gov.uk", "Hal", []))
    response = _flow(client, "hal@sso.example.gov.uk")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/sign-in/mfa/setup"
    )
    assert client.get("/account").status_code == 302
