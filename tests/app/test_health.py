"""/healthz says the process is up; /readyz reports each dependency."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import make_config


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_database_queue_and_storage(client: FlaskClient) -> None:
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["checks"]["database"] == {
        **body["checks"]["database"],
        "status": "ok",
        "backend": "postgresql",
    }
    assert body["checks"]["queue"]["backend"] == "in-process"
    assert body["checks"]["storage"]["backend"] == "folder"


def test_readyz_with_redis_and_s3(pg_database: str, redis, s3_server: str, tmp_path) -> None:
    from tests import services

    url = services.app_url(pg_database)
    flask_app: Flask = create_app(
        make_config(
            tmp_path,
            database_url=url,
            redis_url=services.REDIS_URL,
            storage_url="s3://readyz-bucket",
            s3_endpoint_url=s3_server,
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        )
    )
    from app.storage import storage_from_config

    storage_from_config(flask_app.extensions["config"]).ensure_bucket()
    body = flask_app.test_client().get("/readyz").get_json()
    assert body["status"] == "ok", body
    assert body["checks"]["queue"]["backend"] == "redis"
    assert body["checks"]["storage"]["backend"] == "s3"


def test_readyz_is_503_and_names_the_broken_dependency(pg_database: str, tmp_path) -> None:
    from tests import services

    flask_app = create_app(
        make_config(
            tmp_path,
            database_url=services.app_url(pg_database),
            redis_url="redis://127.0.0.1:1/0",  # nothing listens on port 1
        )
    )
    response = flask_app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["queue"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
