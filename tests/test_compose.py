"""docker-compose.yml has every service the app needs, wired by environment variables."""

from __future__ import annotations

import re

import yaml

from app.config import PROJECT_ROOT, Config

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "scheduler", "migrate"]
_VAR = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Substitute ${VAR:-default} with its default and ${VAR:?msg} as an operator would."""
    return _VAR.sub(
        lambda m: m.group(3) if m.group(2) == "-" else f"operator-set-{m.group(1)}-" + "x" * 32,
        value,
    )


def test_every_backing_service_is_present_with_a_health_check_and_volume() -> None:
    for name in ["postgres", "redis", "minio"]:
        assert name in SERVICES
        assert "healthcheck" in SERVICES[name], name
        assert SERVICES[name].get("volumes"), name
    for name in ["web", "worker", "scheduler"]:
        assert "healthcheck" in SERVICES[name], name


def test_app_services_are_wired_to_the_backing_services_by_environment() -> None:
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        config = Config.from_env({k: interpolate(str(v)) for k, v in env.items()})
        config.validate()  # the compose settings are a valid production configuration
        assert "@postgres:5432/" in config.database_url
        assert config.redis_url.startswith("redis://redis:")
        assert config.storage_url.startswith("s3://")
        assert config.s3_endpoint_url == "http://minio:9000"
        assert config.database_url != config.database_owner_url  # app role is not the owner


def test_the_bucket_is_created_at_start_and_app_services_wait_for_it() -> None:
    bucket = SERVICES["web"]["environment"]["STORAGE_URL"].removeprefix("s3://")
    assert bucket in SERVICES["minio-setup"]["entrypoint"]
    for name in APP_SERVICES:
        depends = SERVICES[name]["depends_on"]
        assert depends["minio-setup"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_worker_and_scheduler_run_the_job_runtime() -> None:
    assert SERVICES["worker"]["command"][-1] == "worker"
    assert SERVICES["scheduler"]["command"][-1] == "scheduler"
