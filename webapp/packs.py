"""Scenario packs as learners see them (no solutions, wrong answers or hidden tests)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .context import eduverse

bp = Blueprint("packs", __name__)


@bp.get("/packs")
def list_packs() -> Response:
    return jsonify({"ok": True, "packs": eduverse().catalog.list_packs(request.args.get("locale"))})


@bp.get("/packs/<pack_id>")
def pack_outline(pack_id: str) -> Response:
    outline = eduverse().catalog.outline(pack_id, request.args.get("locale"))
    return jsonify({"ok": True, "pack": outline})


@bp.get("/packs/<pack_id>/weeks/<int:week>")
def pack_week(pack_id: str, week: int) -> Response:
    view = eduverse().catalog.week(pack_id, week, request.args.get("locale"))
    return jsonify({"ok": True, "week": view})
