"""CORS is off by default and exact when configured."""

from __future__ import annotations

from eduverse_core import Eduverse, Settings
from webapp import create_app

from fakes import InProcessGrader, TestPlugin, test_settings


def test_cors_is_off_by_default(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/packs", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origin_is_allowed_exactly() -> None:
    settings = test_settings(cors_origins=("https://school.example",))
    with Eduverse(settings, plugins=[TestPlugin(InProcessGrader())]) as ev:
        client = create_app(eduverse=ev).test_client()
        ok = client.get("/api/packs", headers={"Origin": "https://school.example"})
        assert ok.headers["Access-Control-Allow-Origin"] == "https://school.example"
        assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
        other = client.get("/api/packs", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        preflight = client.options(
            "/api/me",
            headers={"Origin": "https://school.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://school.example"


def test_cors_origins_come_from_the_environment() -> None:
    env = {"EDUVERSE_CORS_ORIGINS": "https://a.example/, https://b.example"}
    assert Settings.from_env(env).cors_origins == ("https://a.example", "https://b.example")


def test_two_api_models_with_one_name_are_refused() -> None:
    import pytest
    from flask import Blueprint
    from pydantic import BaseModel

    from webapp.api import Api
    from webapp.openapi import build_openapi

    def model() -> type[BaseModel]:
        class Twin(BaseModel):
            x: int = 0

        return Twin

    api = Api()
    bp = Blueprint("twins", __name__)
    api.route(bp, "GET", "/a", auth="public", summary="a", response=model())(lambda: None)
    api.route(bp, "GET", "/b", auth="public", summary="b", response=model())(lambda: None)
    with pytest.raises(TypeError, match="Twin"):
        build_openapi(api, title="t", version="1")
