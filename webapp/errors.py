"""Core errors → HTTP. The body is always ``{"ok": false, "error": message, "code": code}``;
never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from eduverse_core.errors import (
    AuthenticationFailed,
    Conflict,
    EduverseError,
    GradingError,
    NotFound,
    PermissionDenied,
    RateLimited,
    StartupError,
    StorageError,
    ValidationFailed,
)

log = logging.getLogger(__name__)


class RequestInvalid(ValidationFailed):
    """A body or query that does not match its model: 422 with every problem listed."""

    code = "invalid_request"


STATUS: dict[type[EduverseError], int] = {
    RequestInvalid: 422,
    ValidationFailed: 400,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    GradingError: 500,
    StorageError: 503,
    StartupError: 503,
}


def error_response(message: str, code: str, status: int, **extra: object) -> tuple[Response, int]:
    return jsonify({"ok": False, "error": message, "code": code, **extra}), status


def status_for(exc: EduverseError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(EduverseError)
    def _core_error(exc: EduverseError) -> tuple[Response, int]:
        status = status_for(exc)
        if status >= 500:
            log.error("%s: %s", exc.code, exc.message)
        extra = {}
        if isinstance(exc, ValidationFailed) and len(exc.problems) > 1:
            extra["problems"] = exc.problems
        response, status = error_response(exc.message, exc.code, status, **extra)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "http_error").lower().replace(" ", "_")
        return error_response(exc.description or exc.name, code, exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response("internal error", "internal_error", 500)
