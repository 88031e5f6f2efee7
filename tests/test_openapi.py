"""The OpenAPI document describes every route, and real responses match it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from web_support import auth

from eduverse_core import Eduverse
from eduverse_core.models import User


@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def flask_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("pages."):  # the browser app's HTML and assets, not the API
            continue
        path = rule.rule
        for arg in rule.arguments:
            for conv in ("int:", ""):
                path = path.replace(f"<{conv}{arg}>", "{" + arg + "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


def test_openapi_is_3_1_with_components(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert "Error" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_route_is_in_the_document(client: FlaskClient, doc: dict[str, Any]) -> None:
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    routes = flask_routes(client.application)
    assert routes - documented == set()
    assert documented - routes == set()


def test_protected_operations_declare_bearer_security(doc: dict[str, Any]) -> None:
    me = doc["paths"]["/api/me"]["get"]
    assert me["security"] == [{"bearer": []}] and "401" in me["responses"]
    assert "security" not in doc["paths"]["/healthz"]["get"]


def response_validator(doc: dict[str, Any], path: str, method: str, status: int) -> Any:
    content = doc["paths"][path][method]["responses"][str(status)]["content"]
    schema = content["application/json"]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc",
        Resource.from_contents({**doc, "$schema": "https://json-schema.org/draft/2020-12/schema"}),
    )
    ref_schema = (
        {"$ref": "urn:doc#/components/schemas/" + schema["$ref"].rsplit("/", 1)[1]}
        if ("$ref" in schema)
        else schema
    )
    return Draft202012Validator(ref_schema, registry=registry)


def assert_conforms(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    validator = response_validator(doc, path, method, response.status_code)
    errors = sorted(validator.iter_errors(response.json), key=str)
    assert not errors, f"{method.upper()} {path} {response.status_code}: {errors[0].message}"


def test_real_responses_match_the_document(
    ev: Eduverse, client: FlaskClient, doc: dict[str, Any], student: User
) -> None:
    headers = auth(ev, student)
    cases = [
        ("/healthz", "get", client.get("/healthz")),
        ("/readyz", "get", client.get("/readyz")),
        ("/api/packs", "get", client.get("/api/packs")),
        ("/api/packs/{pack_id}", "get", client.get("/api/packs/tiny")),
        (
            "/api/packs/{pack_id}/weeks/{week}",
            "get",
            client.get("/api/packs/tiny/weeks/1", headers=headers),
        ),
        ("/api/me", "get", client.get("/api/me", headers=headers)),
        ("/api/me", "get", client.get("/api/me")),
        ("/api/packs/{pack_id}", "get", client.get("/api/packs/nope")),
    ]
    for path, method, response in cases:
        assert_conforms(doc, path, method, response)
    signup = client.post(
        "/api/auth/signup", json={"email": "n@example.org", "name": "N", "password": "long enough"}
    )
    assert_conforms(doc, "/api/auth/signup", "post", signup)
