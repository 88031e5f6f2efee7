"""Typed errors of the core.

Every error carries a stable snake_case ``code`` that clients may switch on, and a message that
names the offending value. HTTP statuses are chosen only by the web layer; the CLI turns these
into one clean line and a non-zero exit.
"""

from __future__ import annotations

from typing import ClassVar


class EduverseError(Exception):
    """Base of every error the core raises on purpose."""

    code: ClassVar[str] = "eduverse_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            # An instance may narrow the class code (e.g. "invite_code_not_found").
            self.code = code  # type: ignore[misc]

    def __str__(self) -> str:
        return self.message


class NotFound(EduverseError):
    """An id, code or name does not exist (or is not visible to the caller)."""

    code = "not_found"


class PermissionDenied(EduverseError):
    """The acting user lacks the role or class membership the operation requires."""

    code = "permission_denied"


class ValidationFailed(EduverseError):
    """Input is malformed. ``problems`` lists every problem found, not just the first."""

    code = "validation_failed"

    def __init__(
        self, message: str, *, problems: list[str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.problems = list(problems or [message])


class Conflict(EduverseError):
    """The operation collides with existing state (duplicate e-mail, taken invite code)."""

    code = "conflict"


class RateLimited(EduverseError):
    """Too many attempts; ``retry_after`` says how many seconds to wait."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class AuthenticationFailed(EduverseError):
    """Credentials or token are wrong, expired or revoked."""

    code = "authentication_failed"


class GradingError(EduverseError):
    """The grader itself failed (our fault, never the learner's)."""

    code = "grading_error"


class StorageError(EduverseError):
    """The storage backend failed or is unreachable."""

    code = "storage_error"


class StartupError(EduverseError):
    """The engine cannot start: bad settings, unknown backend, misspelt hook."""

    code = "startup_error"
