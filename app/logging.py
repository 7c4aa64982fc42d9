"""Structured JSON logs with the request id on every line."""

from __future__ import annotations

import logging
import sys
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-Id"
_MAX_INCOMING_ID = 64


class _RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.method = request.method
            record.path = request.path
        else:
            record.request_id = getattr(record, "request_id", "-")
        return True


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr; idempotent so tests can create many apps."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cjji", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._cjji = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(level)


def _clean_incoming_id(value: str | None) -> str | None:
    """Accept a caller's request id only when it is short and plainly printable."""
    if not value or len(value) > _MAX_INCOMING_ID:
        return None
    if not all(ch.isalnum() or ch in "-_." for ch in value):
        return None
    return value


def init_app(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        g.request_id = (
            _clean_incoming_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        )

    @app.after_request
    def _echo_request_id(response):  # type: ignore[no-untyped-def]
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        return response


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None
