"""API tokens: shown once, stored hashed, scoped, expiring, revocable at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import clock
from app.db import set_context
from tenants import auth
from tenants.models import ApiToken, Role
from tests.tenants.fixtures import create_tenant, create_user, sign_in


@pytest.fixture
def owner(session: Session):  # type: ignore[no-untyped-def]
    return create_user(session, create_tenant(session), roles=[Role.ADMINISTRATOR])


def _token(session: Session, user, scopes=("read",), days=30) -> str:  # type: ignore[no-untyped-def]
    set_context(session, tenant_id=user.tenant_id, user_id=user.id)
    _row, plaintext = auth.create_token(session, user, name="script", scopes=set(scopes), days=days)
    session.commit()
    return plaintext


def _get(client: FlaskClient, path: str, token: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers)


def test_token_authenticates_the_api_and_is_stored_only_as_a_hash(
    client: FlaskClient, session: Session, owner
) -> None:
    plaintext = _token(session, owner)
    response = _get(client, "/api/v1/me", plaintext)
    assert response.status_code == 200
    assert response.get_json()["email"] == owner.email
    set_context(session, tenant_id=owner.tenant_id)
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert plaintext not in stored and auth.hash_token(plaintext) in stored


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer cjji_" + "x" * 500,
        "Bearer cjji_' OR '1'='1",
    ],
    ids=["missing", "empty", "nonsense", "basic", "huge", "sql"],
)
def test_bad_credentials_answer_401_problem(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_expired_token_is_refused(client: FlaskClient, session: Session, owner) -> None:
    plaintext = _token(session, owner, days=1)
    clock.advance(timedelta(days=1, seconds=1))
    assert _get(client, "/api/v1/me", plaintext).status_code == 401


def test_revocation_takes_effect_on_the_next_request(
    client: FlaskClient, session: Session, owner
) -> None:
    plaintext = _token(session, owner)
    assert _get(client, "/api/v1/me", plaintext).status_code == 200
    set_context(session, tenant_id=owner.tenant_id)
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == auth.hash_token(plaintext))
    )
    auth.revoke_token(session, token)
    session.commit()
    assert _get(client, "/api/v1/me", plaintext).status_code == 401


def test_deactivated_user_token_is_refused(client: FlaskClient, session: Session, owner) -> None:
    plaintext = _token(session, owner)
    set_context(session, tenant_id=owner.tenant_id)
    owner.active = False
    session.commit()
    assert _get(client, "/api/v1/me", plaintext).status_code == 401


def test_read_scope_cannot_write(client: FlaskClient, session: Session, owner) -> None:
    plaintext = _token(session, owner, scopes=("read",))
    response = client.post(
        "/api/v1/users",
        json={"email": "n@x.example.gov.uk", "name": "N"},
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == 403
    assert "write scope" in response.get_json()["detail"]


def test_write_scope_creates_and_bad_bodies_get_field_errors(
    client: FlaskClient, session: Session, owner
) -> None:
    plaintext = _token(session, owner, scopes=("read", "write"))
    headers = {"Authorization": f"Bearer {plaintext}"}
    created = client.post(
        "/api/v1/users",
        json={"email": "new.person@x.example.gov.uk", "name": "New Person", "roles": ["inspector"]},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["roles"] == ["inspector"]
    for body, field in [
        ({"email": "not-an-email", "name": "N"}, "email"),
        ({"email": "a@b.example", "name": "N", "roles": ["emperor"]}, "roles"),
        ({"email": "a@b.example", "name": "N", "tenant_id": 999}, "tenant_id"),
        ({"email": "a@b.example", "name": 12345}, "name"),
        ({"name": "N"}, "email"),
    ]:
        response = client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], response.get_json()
    not_json = client.post("/api/v1/users", data="x", headers=headers)
    assert not_json.status_code == 415
    array = client.post("/api/v1/users", json=[1, 2], headers=headers)
    assert array.status_code == 400
    duplicate = client.post(
        "/api/v1/users", json={"email": "new.person@x.example.gov.uk", "name": "N"}, headers=headers
    )
    assert duplicate.status_code == 422


def test_another_tenants_token_cannot_reach_this_tenants_user(
    client: FlaskClient, session: Session, owner
) -> None:
    other_admin = create_user(session, create_tenant(session), roles=[Role.ADMINISTRATOR])
    plaintext = _token(session, other_admin)
    assert _get(client, f"/api/v1/users/{owner.id}", plaintext).status_code == 404
    listed = _get(client, "/api/v1/users", plaintext).get_json()
    assert owner.email not in {u["email"] for u in listed}


def test_account_page_shows_a_new_token_once_and_revokes(
    client: FlaskClient, session: Session, owner
) -> None:
    sign_in(client, owner)
    page = client.post(
        "/account/tokens", data={"name": "My script", "scopes": ["read"], "days": "7"}
    )
    text = page.get_data(as_text=True)
    assert "Copy this token now" in text
    plaintext = text.split('<span class="app-token">')[1].split("<")[0]
    assert _get(client, "/api/v1/me", plaintext).status_code == 200
    assert plaintext not in client.get("/account").get_data(as_text=True)
    set_context(session, tenant_id=owner.tenant_id)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "My script"))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert _get(client, "/api/v1/me", plaintext).status_code == 401


@pytest.mark.parametrize("days", ["0", "367", "abc", "-1", "99999999999999999999"])
def test_token_form_rejects_bad_lifetimes(
    client: FlaskClient, session: Session, owner, days
) -> None:
    sign_in(client, owner)
    page = client.post("/account/tokens", data={"name": "x", "scopes": ["read"], "days": days})
    assert page.status_code == 200
    assert "Enter a number of days from 1 to 366" in page.get_data(as_text=True)


def test_cli_prints_only_the_token(app, session: Session, owner) -> None:
    session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--user", owner.email])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("cjji_")
    assert len(result.output.strip().splitlines()) == 1
