"""/healthz (the process is up) and /readyz (each dependency reachable)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.db import get_database

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


def _probe(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "not ready"
        log.warning("readiness check failed", extra={"error": repr(exc)})
        return {"status": "error", "error": type(exc).__name__}
    return {
        "status": "ok",
        "backend": detail,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _check_database() -> str:
    database = get_database()
    with database.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return database.dialect


def _check_queue() -> str:
    return current_app.extensions["jobs"].check()


def _check_storage() -> str:
    from app.storage import get_storage

    storage = get_storage()
    storage.check()
    return storage.name


@bp.get("/readyz")
def readyz() -> Response:
    checks = {
        "database": _probe(_check_database),
        "queue": _probe(_check_queue),
        "storage": _probe(_check_storage),
    }
    ready = all(c["status"] == "ok" for c in checks.values())
    response = jsonify({"status": "ok" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
