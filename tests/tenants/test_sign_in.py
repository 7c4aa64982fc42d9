"""Signing in: passwords, throttling, MFA, sessions, sign-out, forged cookies, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEvent
from app.clock import clock
from app.db import set_context
from tenants.auth import ACCOUNT_LIMIT, ADDRESS_LIMIT
from tenants.models import Role
from tests.tenants.fixtures import PASSWORD, create_tenant, create_user, sign_in


@pytest.fixture
def tenant(session: Session):  # type: ignore[no-untyped-def]
    return create_tenant(session)


@pytest.fixture
def user(session: Session, tenant):  # type: ignore[no-untyped-def]
    return create_user(session, tenant, roles=[Role.INSPECTOR, Role.ADMINISTRATOR])


def _post(client: FlaskClient, email: str, password: str, **kw: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, **kw},
        environ_base={"REMOTE_ADDR": kw.pop("addr", "10.0.0.1")},
    )


def test_correct_password_signs_in_and_is_audited(
    client: FlaskClient, user, session: Session
) -> None:
    response = _post(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    set_context(session, tenant_id=user.tenant_id)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id)))
    assert "user.signed_in" in list(actions)


def test_email_is_matched_case_insensitively(client: FlaskClient, user) -> None:
    assert _post(client, "  " + user.email.upper() + " ", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password",
    ["wrong password!", "", "x" * 10_000, "' OR 1=1 --"],
    ids=["wrong", "empty", "huge", "sql"],
)
def test_wrong_password_is_refused_with_a_clear_message(
    client: FlaskClient, user, password
) -> None:
    response = _post(client, user.email, password)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Enter a correct email address and password" in text or "256" in text
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "email",
    ["nobody@example.gov.uk", "'; DROP TABLE users; --", "a" * 400, ""],
    ids=["unknown", "sql", "huge", "empty"],
)
def test_unknown_or_hostile_email_gets_the_same_answer(client: FlaskClient, user, email) -> None:
    response = _post(client, email, PASSWORD)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "There is a problem" in text
    assert client.get("/account").status_code == 302


def test_account_locks_after_repeated_failures_and_says_when_to_retry(
    client: FlaskClient, user
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        _post(client, user.email, "wrong password!")
    response = _post(client, user.email, PASSWORD)
    text = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in text
    assert client.get("/account").status_code == 302
    clock.advance(timedelta(minutes=16))
    assert _post(client, user.email, PASSWORD).status_code == 302


def test_an_address_is_throttled_across_accounts(
    client: FlaskClient, session: Session, tenant
) -> None:
    users = [create_user(session, tenant) for _ in range(5)]
    for i in range(ADDRESS_LIMIT):
        _post(client, users[i % 5].email, "wrong password!", addr="10.9.9.9")
    fresh = create_user(session, tenant)
    response = client.post(
        "/sign-in",
        data={"email": fresh.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert "Try again in" in response.get_data(as_text=True)
    other = client.post(
        "/sign-in",
        data={"email": fresh.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert other.status_code == 302


def test_deactivated_user_cannot_sign_in(client: FlaskClient, session: Session, tenant) -> None:
    inactive = create_user(session, tenant, active=False)
    assert _post(client, inactive.email, PASSWORD).status_code == 200


def test_sign_out_ends_every_session_of_the_user(app: Flask, client: FlaskClient, user) -> None:
    sign_in(client, user)
    other_device = app.test_client()
    sign_in(other_device, user)
    assert client.post("/sign-out").status_code == 302
    assert client.get("/account").status_code == 302
    assert other_device.get("/account").status_code == 302


def test_idle_session_times_out(client: FlaskClient, user) -> None:
    sign_in(client, user)
    clock.advance(timedelta(minutes=31))
    response = client.get("/account")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_absolute_session_lifetime_is_enforced_even_when_active(client: FlaskClient, user) -> None:
    sign_in(client, user)
    for _ in range(30):
        clock.advance(timedelta(minutes=25))
        client.get("/account")
    assert client.get("/account").status_code == 302


def test_session_is_renewed_at_sign_in(client: FlaskClient, user) -> None:
    with client.session_transaction() as pre:
        pre["planted"] = "by an attacker"
    sign_in(client, user)
    with client.session_transaction() as post:
        assert "planted" not in post


def test_forged_session_cookie_is_ignored(app: Flask, client: FlaskClient, user) -> None:
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-secret", salt="cookie-session").dumps(
        {"_user_id": user.get_id(), "_fresh": True}
    )
    client.set_cookie("session", forged)
    assert client.get("/account").status_code == 302


def test_csrf_token_is_required_on_sign_in(app: Flask, client: FlaskClient, user) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        page = client.get("/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        ok = client.post(
            "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_open_redirect_after_sign_in_is_refused(client: FlaskClient, user) -> None:
    response = _post(client, user.email, PASSWORD, next="https://evil.example/")
    assert response.headers["Location"] == "/"
    response = client.get("/sign-in")  # already signed in
    assert response.status_code == 302


def test_mfa_challenge_then_replay_is_refused(
    client: FlaskClient, session: Session, tenant
) -> None:
    from app.secrets import encrypt

    secret = pyotp.random_base32()
    with client.application.app_context():
        encrypted = encrypt(secret)
    mfa_user = create_user(session, tenant, mfa_enabled=True, totp_secret_encrypted=encrypted)
    response = _post(client, mfa_user.email, PASSWORD)
    assert response.headers["Location"].endswith("/sign-in/mfa")
    assert client.get("/account").status_code == 302  # not signed in yet
    assert client.post("/sign-in/mfa", data={"code": "000000"}).status_code == 200
    code = pyotp.TOTP(secret).at(clock.now())
    assert client.post("/sign-in/mfa", data={"code": code}).status_code == 302
    assert client.get("/account").status_code == 200
    client.post("/sign-out")
    _post(client, mfa_user.email, PASSWORD)
    replay = client.post("/sign-in/mfa", data={"code": code})
    assert replay.status_code == 200  # the same code is not accepted twice


def test_tenant_requiring_mfa_makes_users_set_it_up(client: FlaskClient, session: Session) -> None:
    strict = create_tenant(session, mfa_required=True)
    person = create_user(session, strict)
    response = _post(client, person.email, PASSWORD)
    assert response.headers["Location"].endswith("/sign-in/mfa/setup")
    page = client.get("/sign-in/mfa/setup").get_data(as_text=True)
    secret = page.split('id="setup-key">')[1].split("<")[0]
    assert client.post("/sign-in/mfa/setup", data={"code": "123"}).status_code == 200
    code = pyotp.TOTP(secret).at(clock.now())
    assert client.post("/sign-in/mfa/setup", data={"code": code}).status_code == 302
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
    ],
    ids=["absolute", "scheme-relative", "tab", "backslash", "space", "javascript", "crlf-encoded"],
)
def test_no_next_target_leaves_the_site(client: FlaskClient, user, target: str) -> None:
    response = _post(client, user.email, PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/", target) and not location.startswith("//")
    assert "evil" not in location or location == target and target.startswith("/%0d")


def test_wrong_security_codes_lock_out_on_the_server(
    app: Flask, client: FlaskClient, session: Session, tenant
) -> None:
    from app.secrets import encrypt

    secret = pyotp.random_base32()
    with app.app_context():
        encrypted = encrypt(secret)
    person = create_user(session, tenant, mfa_enabled=True, totp_secret_encrypted=encrypted)
    _post(client, person.email, PASSWORD)
    with client.session_transaction() as saved:
        replay = dict(saved)
    for _ in range(5):
        client.post("/sign-in/mfa", data={"code": "000000"})
    # Replaying the cookie from before the failures, or signing in again, does not reset it.
    with client.session_transaction() as restored:
        restored.update(replay)
    good = pyotp.TOTP(secret).at(clock.now())
    response = client.post("/sign-in/mfa", data={"code": good})
    assert client.get("/account").status_code == 302
    _post(client, person.email, PASSWORD)
    response = client.post("/sign-in/mfa", data={"code": good})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.get("/account").status_code == 302
    set_context(session, tenant_id=tenant.id)
    actions = list(session.scalars(select(AuditEvent.action)))
    assert actions.count("user.mfa_failed") >= 5
    clock.advance(timedelta(minutes=16))
    _post(client, person.email, PASSWORD)
    fresh = pyotp.TOTP(secret).at(clock.now())
    assert client.post("/sign-in/mfa", data={"code": fresh}).status_code == 302
    assert client.get("/account").status_code == 200


def test_sign_in_is_audited_with_the_user_as_actor(
    client: FlaskClient, user, session: Session
) -> None:
    _post(client, user.email, PASSWORD)
    set_context(session, tenant_id=user.tenant_id)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_in"))
    assert event.actor_user_id == user.id and event.actor_label == user.email
