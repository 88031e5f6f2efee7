"""Request-time access to the app's :class:`Eduverse`."""

from __future__ import annotations

from typing import cast

from flask import current_app

from eduverse_core import Eduverse


def eduverse() -> Eduverse:
    """The instance ``create_app`` composed."""
    return cast(Eduverse, current_app.extensions["eduverse"])
