"""The HTML shell: GOV.UK layout, error pages in the same style, assets, CSRF."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient


def test_home_page_uses_the_govuk_layout(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="govuk-template' in html
    assert "govuk-frontend.min.css" in html
    assert 'href="#main-content"' in html  # skip link


@pytest.mark.parametrize("path", ["/no-such-page", "/%00", "/no-such/99999999999999999999"])
def test_missing_pages_answer_a_govuk_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_govuk_assets_are_served(client: FlaskClient) -> None:
    assert client.get("/static/govuk/govuk-frontend.min.css").status_code == 200
    assert client.get("/assets/images/favicon.ico").status_code == 200
    assert client.get("/assets/../../app/config.py").status_code == 404


@pytest.fixture
def shell_app(tmp_path) -> Flask:
    """A fresh app with test-only routes: one that fails, one form that changes state."""
    from app import create_app
    from tenants.login import public
    from tests.conftest import make_config

    flask_app = create_app(make_config(tmp_path, database_url=f"sqlite:///{tmp_path}/a.db"))
    extra = Blueprint("extra", __name__)

    @extra.get("/boom")
    @public
    def boom() -> str:
        raise RuntimeError("secret detail that must not leak")

    @extra.post("/form")
    @public
    def form() -> str:
        return "changed"

    flask_app.register_blueprint(extra)
    return flask_app


def test_an_unhandled_error_renders_a_500_page_without_details(shell_app: Flask) -> None:
    response = shell_app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    assert "secret detail" not in html
    assert response.headers["X-Request-Id"] in html


def test_forms_without_a_csrf_token_are_refused(shell_app: Flask) -> None:
    shell_app.config["WTF_CSRF_ENABLED"] = True
    response = shell_app.test_client().post("/form", data={"x": "1"})
    assert response.status_code == 400
    assert "changed" not in response.get_data(as_text=True)


def test_pages_are_private_unless_marked_public(shell_app: Flask) -> None:
    extra = Blueprint("extra2", __name__)

    @extra.get("/private")
    def private() -> str:
        return "secret"

    shell_app.register_blueprint(extra)
    response = shell_app.test_client().get("/private")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
