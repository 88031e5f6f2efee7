"""EduVerse core: story-driven Python courses, graded on the server.

The public surface: :class:`Eduverse`, :data:`hookimpl`, the models and the errors.
"""

from .engine import Eduverse
from .errors import (
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
from .plugins import hookimpl
from .settings import Settings

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "Eduverse",
    "EduverseError",
    "GradingError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Settings",
    "StartupError",
    "StorageError",
    "ValidationFailed",
    "hookimpl",
]
