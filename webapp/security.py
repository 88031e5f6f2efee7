"""Security headers on every response.

The page runs only our own bundled scripts: no inline script, no ``eval`` in the page, no
inline styles (``style-src 'self'``), nothing framed. ``'wasm-unsafe-eval'`` lets the Pyodide
worker compile WebAssembly; it does not allow JavaScript ``eval``.
"""

from __future__ import annotations

import ctypes
import sys

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def add_security_headers(app: Flask) -> None:
    """Send :data:`HEADERS` with every response (a view may set a stricter value first).
    API answers are personal (progress, a temporary password): nothing may store them unless
    the view says otherwise (the monitor feed revalidates with its ETag)."""

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def make_process_undumpable() -> bool:
    """Mark this server process not dumpable (Linux): processes of the same uid — learner code
    when the server is not root — can then neither read its ``/proc/<pid>/environ`` (the secret
    key) or memory nor attach a debugger to it. Returns whether it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            return False
        return int(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False
