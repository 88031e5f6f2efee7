"""Liveness and readiness for Cloud Run and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from eduverse_core import EduverseError

from .context import eduverse

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"ok": True})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Storage reachable and packs loaded."""
    ev = eduverse()
    try:
        ev.storage.ping()
        packs = ev.packs.names()
    except EduverseError as exc:
        return jsonify({"ok": False, "error": exc.message, "code": exc.code}), 503
    return jsonify({"ok": True, "packs": packs}), 200
