"""RFC 9457 problem details for every JSON API error."""

from __future__ import annotations

from typing import Any

from flask import Response, json
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.security import too_large_message

PROBLEM_MIMETYPE = "application/problem+json"


class ApiError(Exception):
    """Raise from a route or service to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        #: Extra members of the problem document (RFC 9457 §3.2), e.g. a conflict's texts.
        self.extensions = extensions or {}


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    from app.logging import current_request_id

    body: dict[str, Any] = {**(extensions or {}), "type": "about:blank"}
    body.update(title=title, status=status)
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = dict(exc.get_headers()) if status == 405 else {}
    headers.pop("Content-Type", None)
    return problem(status, exc.name, _description(exc), headers=headers)


def _description(exc: HTTPException) -> str | None:
    if isinstance(exc, RequestEntityTooLarge):
        return too_large_message()
    return exc.description
