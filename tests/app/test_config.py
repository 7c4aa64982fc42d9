"""Configuration comes from the environment; production refuses unsafe settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.config import Config, ConfigError

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "postgresql://app@db/cjji",
    "REDIS_URL": "redis://redis:6379/0",
    "STORAGE_URL": "s3://evidence",
    "BASE_URL": "https://joint-inspections.example",
    "MAIL_URL": "smtp://cjji:secret@smtp.example:587",
}


def test_embedded_defaults_need_no_environment() -> None:
    config = Config.from_env({})
    config.validate()
    assert config.is_sqlite
    assert config.storage_url.startswith("file://")
    assert config.redis_url == ""


def test_a_safe_production_configuration_is_accepted() -> None:
    Config.from_env(SAFE_PRODUCTION).validate()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "not SQLite"),
        ({"FLASK_DEBUG": "1"}, "FLASK_DEBUG must be off"),
        ({"REDIS_URL": ""}, "REDIS_URL must be set"),
        ({"STORAGE_URL": "file:///tmp/x"}, "s3://"),
        ({"BASE_URL": "http://insecure.example"}, "https://"),
        ({"MAIL_URL": ""}, "MAIL_URL must be an smtp"),
        ({"MAIL_URL": "outbox:///tmp/mail"}, "MAIL_URL must be an smtp"),
    ],
)
def test_production_refuses_unsafe_settings(change: dict[str, str], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Config.from_env({**SAFE_PRODUCTION, **change}).validate()


@pytest.mark.parametrize(
    "env",
    [
        {"FLASK_DEBUG": "maybe"},
        {"DB_POOL_SIZE": "lots"},
        {"STORAGE_URL": "ftp://x"},
        {"MAIL_URL": "http://mail"},
    ],
)
def test_malformed_values_are_refused_with_the_setting_named(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Config.from_env(env).validate()


@pytest.mark.parametrize(
    ("unsafe", "expected"),
    [
        ({"SECRET_KEY": ""}, "configuration error: SECRET_KEY must be set in production"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "configuration error: DATABASE_URL must point at"),
    ],
)
def test_starting_in_production_unsafely_exits_with_one_line(
    unsafe: dict[str, str], expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SAFE_PRODUCTION}
    env.update(SAFE_PRODUCTION)
    env.update(unsafe)
    result = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4  # gunicorn's "app failed to load": it stops, not respawns
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)


def test_gunicorn_stops_at_once_on_an_unsafe_production_setting(tmp_path) -> None:
    """The real entry point: gunicorn exits non-zero with the one line, no respawn loop."""
    env = {k: v for k, v in os.environ.items() if k not in SAFE_PRODUCTION}
    env.update({**SAFE_PRODUCTION, "SECRET_KEY": ""})
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    result = subprocess.run(
        [gunicorn, "--bind", "127.0.0.1:0", "--workers", "1", "app.wsgi:app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.count("configuration error: SECRET_KEY must be set in production") == 1
