"""API plumbing: problem+json errors, request ids, the OpenAPI document, security headers."""

from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/status" in document["paths"]


def test_every_api_route_is_in_the_openapi_document(app, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    documented = {path.replace("{", "<").split("<")[0] for path in document["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            assert rule.rule.split("<")[0] in documented, f"{rule.rule} has no @operation"


def test_unknown_api_route_answers_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_wrong_method_answers_problem_json_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/status")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_request_id_is_echoed_when_safe_and_replaced_when_hostile(client: FlaskClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
        == "abc-123"
    )
    for hostile in ["<script>alert(1)</script>", "a; Set-Cookie: a=b", "x" * 65]:
        echoed = client.get("/healthz", headers={"X-Request-Id": hostile}).headers["X-Request-Id"]
        assert echoed != hostile
        assert len(echoed) == 32


def test_pages_carry_security_headers_and_a_nonce_csp(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'nonce-" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"'.encode() in response.data
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_status_endpoint(client: FlaskClient) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_control_characters_are_refused_with_a_field_message() -> None:
    import pytest
    from marshmallow import ValidationError, fields

    from app.api.schemas import StrictSchema

    class Named(StrictSchema):
        name = fields.String()

    assert Named().load({"name": "  Ada  "}) == {"name": "Ada"}
    assert Named().load({"name": "two\nlines\tok"}) == {"name": "two\nlines\tok"}
    for hostile in ["a\x00b", "bell\x07", "esc\x1b[31m"]:
        with pytest.raises(ValidationError) as caught:
            Named().load({"name": hostile})
        assert "name" in caught.value.messages
