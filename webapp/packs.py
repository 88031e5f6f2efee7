"""Scenario packs as learners see them (no solutions, wrong answers or hidden tests)."""

from __future__ import annotations

from flask import Blueprint

from eduverse_core.models import User

from .api import api
from .context import eduverse
from .models import LocaleQuery, PackOut, PacksOut, WeekResponse

bp = Blueprint("packs", __name__)


@api.route(
    bp,
    "GET",
    "/api/packs",
    auth="public",
    summary="Every pack",
    query=LocaleQuery,
    response=PacksOut,
)
def list_packs(query: LocaleQuery) -> PacksOut:
    return PacksOut.model_validate({"packs": eduverse().catalog.list_packs(query.locale)})


@api.route(
    bp,
    "GET",
    "/api/packs/<pack_id>",
    auth="public",
    summary="A pack's outline",
    query=LocaleQuery,
    response=PackOut,
)
def pack_outline(pack_id: str, query: LocaleQuery) -> PackOut:
    return PackOut.model_validate({"pack": eduverse().catalog.outline(pack_id, query.locale)})


@api.route(
    bp,
    "GET",
    "/api/packs/<pack_id>/weeks/<int:week>",
    auth="user",
    summary="A week, ready to play",
    query=LocaleQuery,
    response=WeekResponse,
)
def pack_week(actor: User, pack_id: str, week: int, query: LocaleQuery) -> WeekResponse:
    """Scenes are rendered with the caller's name; nothing that gives an answer away."""
    view = eduverse().catalog.week(pack_id, week, query.locale, actor.name)
    return WeekResponse.model_validate({"week": view})
