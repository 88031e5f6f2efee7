"""Cross-origin requests: off by default (the browser app is served by this same server);
``EDUVERSE_CORS_ORIGINS`` lists the origins allowed to call the API from elsewhere."""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = "Authorization, Content-Type, If-None-Match"
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


def enable_cors(app: Flask, origins: tuple[str, ...]) -> None:
    """Answer CORS for ``origins`` exactly (no wildcard: requests carry bearer tokens)."""
    allowed = set(origins)
    if not allowed:
        return

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin in allowed and request.path.startswith("/api/"):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
            response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
        return response
