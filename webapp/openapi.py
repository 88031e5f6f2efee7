"""The OpenAPI 3.1 document, generated from the endpoint registry (``webapp.api``).

OpenAPI 3.1 uses JSON Schema 2020-12, which is what pydantic emits, so request and response
models are referenced from ``components/schemas`` as they are.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api import Api, Operation

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "error", "code"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string", "description": "What went wrong, naming the bad value."},
        "code": {"type": "string", "description": "Stable snake_case error code."},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}
_CONVERTERS = {"int": {"type": "integer"}, "string": {"type": "string"}}
_REASONS = {
    400: "Bad request",
    401: "Not logged in, or the token is invalid, expired or revoked",
    403: "Wrong role or not the class's instructor or member",
    404: "Not found",
    409: "Conflict with existing state",
    413: "Body too large",
    415: "Not a JSON body",
    422: "The body or query does not match its schema",
    429: "Too many attempts",
}


def _models(api: Api) -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for op in api.operations:
        for model in (op.body, op.query, op.response):
            if model is None:
                continue
            other = seen.setdefault(model.__name__, model)
            if other is not model:  # both would claim components/schemas/<name>
                raise TypeError(
                    f"two API models are named {model.__name__!r}: {other.__module__} and"
                    f" {model.__module__}; rename one"
                )
    return list(seen.values())


def build_openapi(api: Api, *, title: str, version: str) -> dict[str, Any]:
    """The whole document: every registered operation with its schemas."""
    models = _models(api)
    modes: tuple[Literal["validation", "serialization"], ...] = ("validation", "serialization")
    keyed = [(m, mode) for mode in modes for m in models]
    refs, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(api.operations, key=lambda o: (o.openapi_path, o.method)):
        operation = _operation(op, refs)
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": list(op.tags),
        "responses": _responses(op, refs),
    }
    if op.description:
        result["description"] = op.description
    if op.auth != "public":
        result["security"] = [{"bearer": []}]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _CONVERTERS.get(conv, {})}
        for name, conv in op.path_params()
    ]
    if op.query is not None:
        for name, info in op.query.model_fields.items():
            field_schema = op.query.model_json_schema()["properties"][name]
            parameters.append(
                {
                    "name": info.alias or name,
                    "in": "query",
                    "required": info.is_required(),
                    "schema": field_schema,
                    "description": info.description or "",
                }
            )
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return result


def _responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    if op.produces == "application/json":
        schema = (
            refs[(op.response, "serialization")]
            if op.response is not None
            else {"type": "object", "properties": {"ok": {"const": True}}, "required": ["ok"]}
        )
        ok = {"description": "Success", "content": {"application/json": {"schema": schema}}}
    else:
        ok = {"description": "Success", "content": {op.produces: {"schema": {"type": "string"}}}}
    responses: dict[str, Any] = {str(op.status): ok}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    statuses = {400, 404, 413, 415, 422, *(s for s in op.extra_statuses if s >= 400)}
    if op.auth != "public":
        statuses |= {401}
    if op.auth in ("student", "instructor"):
        statuses |= {403}
    for status in sorted(statuses):
        responses[str(status)] = {"description": _REASONS.get(status, "Error"), **error}
    if 304 in op.extra_statuses:
        responses["304"] = {"description": "Not modified since the given ETag"}
    return responses
