"""The API describing itself: ``/api/openapi.json``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Blueprint, Response, jsonify

from .api import api
from .openapi import build_openapi

bp = Blueprint("meta", __name__)
_cache: dict[str, Any] = {}


def openapi_document() -> dict[str, Any]:
    """Built once per process: the registry does not change after import."""
    if "doc" not in _cache:
        try:
            release = version("eduverse")
        except PackageNotFoundError:
            release = "0+unknown"
        _cache["doc"] = build_openapi(api, title="EduVerse API", version=release)
    document: dict[str, Any] = _cache["doc"]
    return document


@api.route(bp, "GET", "/api/openapi.json", auth="public", summary="This document")
def openapi_json() -> Response:
    return jsonify(openapi_document())
