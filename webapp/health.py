"""Liveness and readiness for Cloud Run and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from eduverse_core import EduverseError

from .api import api
from .context import eduverse
from .models import HealthOut, ReadyOut

bp = Blueprint("health", __name__)


@api.route(bp, "GET", "/healthz", auth="public", summary="The process is up", response=HealthOut)
def healthz() -> HealthOut:
    return HealthOut()


@api.route(
    bp,
    "GET",
    "/readyz",
    auth="public",
    summary="Storage reachable and packs loaded",
    response=ReadyOut,
    extra_statuses=(503,),
)
def readyz() -> ReadyOut | Response:
    ev = eduverse()
    try:
        ev.storage.ping()
        packs = ev.packs.names()
    except EduverseError as exc:
        response = jsonify({"ok": False, "error": exc.message, "code": exc.code})
        response.status_code = 503
        return response
    return ReadyOut(packs=packs)
