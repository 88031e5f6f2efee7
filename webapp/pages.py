"""The browser app: the page shell, the built assets and pack assets (portraits).

The front end is built from ``frontend/`` by esbuild (``make assets``) into
``webapp/static/build/``; ``manifest.json`` there maps entry names to content-hashed files.
Those files never change, so they are sent with a one-year ``immutable`` cache lifetime, and
pre-compressed twins (``.br``, ``.gz``) made at build time are sent to browsers that accept
them: no per-request compression work, no CDN.
"""

from __future__ import annotations

import json
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from werkzeug.security import safe_join

from .context import eduverse

bp = Blueprint("pages", __name__, template_folder="templates")

BUILD_DIR = Path(__file__).parent / "static" / "build"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ASSET_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif"})
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


@lru_cache(maxsize=4)
def _manifest(build_dir: Path, mtime: float) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((build_dir / "manifest.json").read_text("utf-8"))
    return data


def manifest(build_dir: Path | None = None) -> dict[str, Any] | None:
    """The build manifest, or None when the assets were never built."""
    folder = build_dir or BUILD_DIR
    path = folder / "manifest.json"
    try:
        return _manifest(folder, path.stat().st_mtime)
    except FileNotFoundError:
        return None


def _accepted(encoding: str) -> bool:
    return request.accept_encodings[encoding] > 0  # quality 0 when not listed


def send_built(path: Path, *, cache_control: str) -> Response:
    """Send a built file, its pre-compressed twin when the browser takes one."""
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype in ("application/json", "image/svg+xml"):
        mimetype += "; charset=utf-8"
    chosen, encoding = path, None
    for name, suffix in ENCODINGS:
        twin = path.with_name(path.name + suffix)
        if _accepted(name) and twin.is_file():
            chosen, encoding = twin, name
            break
    # Streamed from disk (Pyodide's runtime is megabytes), with an ETag for revalidation.
    response = send_file(chosen, mimetype=mimetype, conditional=True, etag=True)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/")
def shell() -> Response | tuple[str, int]:
    """The single page every route of the app renders in (routing is client-side)."""
    built = manifest()
    if built is None:
        return (
            "The browser app is not built yet: run `make assets` (or `make run`).",
            503,
        )
    html = render_template(
        "app.html",
        css=f"/static/build/{built['app.css']}",
        js=f"/static/build/{built['app.js']}",
        # JSON inside <script>: "<" escaped so no value can close the element.
        manifest=json.dumps(built, separators=(",", ":")).replace("<", "\\u003c"),
        service_worker="off" if current_app.config.get("EDUVERSE_NO_SERVICE_WORKER") else "on",
    )
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Cache-Control"] = REVALIDATE
    return response


@bp.get("/static/build/<path:name>")
def built_asset(name: str) -> Response:
    """A built asset: hashed names are immutable; anything else revalidates."""
    if name.endswith((".br", ".gz")):
        abort(404)
    found = safe_join(str(BUILD_DIR), name)
    if found is None or not Path(found).is_file():
        abort(404)
    path = Path(found)
    hashed = path.name != "manifest.json" and path.name != "sw.js"
    return send_built(path, cache_control=IMMUTABLE if hashed else REVALIDATE)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker at the origin's root so it may control every page."""
    path = BUILD_DIR / "sw.js"
    if not path.is_file():
        abort(404)
    response = send_built(path, cache_control=REVALIDATE)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/packs/<pack_id>/assets/<path:name>")
def pack_asset(pack_id: str, name: str) -> Response:
    """An image from a pack's folder (portraits). Only image files, never outside the pack."""
    ev = eduverse()
    ev.pack(pack_id)  # 404 for an unknown pack
    base = ev.pack_dirs.get(pack_id)
    found = safe_join(str(base), name) if base is not None else None
    if found is None or Path(found).suffix.lower() not in ASSET_SUFFIXES:
        abort(404)
    path = Path(found)
    if not path.is_file():
        abort(404)
    return send_built(path, cache_control="public, max-age=3600")
