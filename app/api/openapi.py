"""The OpenAPI 3 document, generated from the URL map and the routes' marshmallow schemas."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify

from app.api.schemas import ProblemSchema

openapi_bp = Blueprint("openapi", __name__)

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_PARAM_TYPES = {"int": {"type": "integer"}, "uuid": {"type": "string", "format": "uuid"}}


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for match in _CONVERTER.finditer(rule):
        schema = _PARAM_TYPES.get(match.group("conv") or "", {"type": "string"})
        params.append(
            {"name": match.group("name"), "in": "path", "required": True, "schema": schema}
        )
    return _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule), params


def _schema_ref(schema: Any, many: bool) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{_schema_name(schema)}"}
    return {"type": "array", "items": ref} if many else ref


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema") or cls.__name__


def build_spec(app: Flask) -> dict[str, Any]:
    """Build the document for every ``/api/v1`` route that declares an ``@operation``."""
    from app import __version__

    spec = APISpec(
        title="Joint inspections API",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "JSON API for joint inspections. Errors are RFC 9457 problems."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    seen: set[str] = set()

    def register(schema: Any) -> None:
        name = _schema_name(schema)
        # A schema nested in one registered earlier is already there, under the same name.
        if name not in seen and name not in spec.components.schemas:
            seen.add(name)
            spec.components.schema(name, schema=schema)

    register(ProblemSchema)
    problem_response = {
        "description": "Problem details",
        "content": {"application/problem+json": {"schema": _schema_ref(ProblemSchema, False)}},
    }
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "_api_operation", None)
        if meta is None:
            continue
        path, params = _openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "summary": meta["summary"],
                "tags": meta["tags"],
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "responses": {"default": problem_response},
            }
            if params:
                op["parameters"] = params
            if meta["scope"]:
                op["security"] = [{"bearer": [meta["scope"]]}]
            if meta["body"] is not None:
                register(meta["body"])
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _schema_ref(meta["body"], False)}},
                }
            success: dict[str, Any] = {"description": "Success"}
            if meta["response"] is not None:
                register(meta["response"])
                success["content"] = {
                    "application/json": {"schema": _schema_ref(meta["response"], meta["many"])}
                }
            op["responses"][str(meta["status"])] = success
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@openapi_bp.get("/api/openapi.json")
def openapi_document() -> Response:
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_spec(current_app)
    return jsonify(document)
