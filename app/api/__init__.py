"""JSON API plumbing: the ``/api/v1`` blueprint, input parsing and the OpenAPI document.

Routes declare their schemas with ``@operation``; the OpenAPI document is built from
the URL map and those declarations, so a new route appears in it without extra work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from app.api.errors import ApiError, problem, problem_from_http
from app.api.schemas import StatusSchema

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/api/v1"
api = Blueprint("api", __name__, url_prefix=API_PREFIX)


def operation(
    *,
    summary: str,
    tags: list[str] | None = None,
    body: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    many: bool = False,
    scope: str | None = None,
) -> Callable[[F], F]:
    """Record what a route takes and returns; used to build /api/openapi.json."""

    def wrap(view: F) -> F:
        view._api_operation = {  # type: ignore[attr-defined]
            "summary": summary,
            "tags": tags or [],
            "body": body,
            "response": response,
            "status": status,
            "many": many,
            "scope": scope,
        }
        return view

    return wrap


def parse_body(schema: Schema) -> Any:
    """Load the JSON request body with ``schema`` or raise a 400/422 problem."""
    if not request.is_json:
        raise ApiError(415, "Unsupported Media Type", "Send the body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "Bad Request", "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "Bad Request", "The body must be a JSON object.")
    return schema.load(data)


def dump(schema: Schema, obj: Any, status: int = 200) -> Response:
    response = jsonify(schema.dump(obj))
    response.status_code = status
    return response


@api.get("/status")
@operation(summary="Service status and version", tags=["platform"], response=StatusSchema)
def status() -> Response:
    from app import __version__

    return dump(StatusSchema(), {"status": "ok", "version": __version__})


def init_app(app: Flask) -> None:
    from app.api.openapi import openapi_bp
    from app.security import csrf

    # API clients authenticate with bearer tokens, never cookies, so no CSRF token applies.
    csrf.exempt(api)
    csrf.exempt(openapi_bp)
    from app.storage.views import bp as storage_bp

    csrf.exempt(storage_bp)  # presigned storage URLs carry their own signed credential
    app.register_blueprint(api)
    app.register_blueprint(openapi_bp)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extensions=exc.extensions,
        )

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        return problem(
            422, "Unprocessable Content", "Some fields are missing or not valid.", errors=messages
        )


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def http_error_for_api(exc: HTTPException) -> Response:
    return problem_from_http(exc)
