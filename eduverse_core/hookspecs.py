"""Every hook of EduVerse. The docstrings here ARE the plugin documentation.

A plugin is any object or module with functions named like these hooks and decorated with
``eduverse_core.hookimpl``. Registry hooks receive a ``register`` callback; notification hooks
are named in the past tense; :func:`eduverse_track_event` is the one generic event hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .engine import Eduverse
    from .events import Event
    from .grading.base import GraderFactory
    from .models import ScenarioPack
    from .storage import StorageFactory

PROJECT_NAME = "eduverse"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def eduverse_register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    """Register storage backends by URL scheme.

    :param register: call ``register(scheme, factory)``; ``factory(url)`` returns an object
        implementing :class:`eduverse_core.storage.Storage`. Settings pick a backend by the
        scheme of ``EDUVERSE_STORAGE`` (``sqlite:///eduverse.db`` → ``"sqlite"``). A scheme
        registered twice is a start-up error.
    """


@hookspec
def eduverse_register_graders(register: Callable[[str, GraderFactory], None]) -> None:
    """Register server-side graders by name.

    :param register: call ``register(name, factory)``; ``factory(settings)`` returns an object
        implementing :class:`eduverse_core.grading.base.Grader`. A cycle picks its grader with
        ``grader: {name: …}`` (default ``sandbox``).
    """


@hookspec
def eduverse_register_scenario_packs(register: Callable[[Any], None]) -> None:
    """Register scenario packs shipped by a plugin.

    :param register: call ``register(source)`` with a path to a pack file or folder, or a
        loaded :class:`~eduverse_core.models.ScenarioPack`. Two packs with one id are a
        start-up error.
    """


@hookspec
def eduverse_register_commands(cli: click.Group) -> None:
    """Add commands to the ``eduverse`` command line.

    :param cli: the root :class:`click.Group`; add commands with ``@cli.command()``.
    """


@hookspec
def eduverse_validate_scenario_pack(eduverse: Eduverse, pack: ScenarioPack) -> list[str] | None:
    """Check a pack beyond the built-in rules (e.g. a house style).

    :param eduverse: the running instance.
    :param pack: the loaded pack under validation.
    :return: problems as ``"$.json.path: message"`` strings (empty or None when fine).
    """


@hookspec
def eduverse_startup(eduverse: Eduverse) -> None:
    """Called once the registries are built and storage is chosen, before any request.

    :param eduverse: the instance that started; plugins may keep a reference.
    """


@hookspec
def eduverse_track_event(eduverse: Eduverse, event: Event) -> None:
    """Told about everything that happened: submission-graded, class-joined, question-asked…

    Called synchronously after the change is stored; an exception here is logged and
    swallowed, never undoing the change. Keep it quick: hand slow work to a queue.

    :param eduverse: the instance where it happened.
    :param event: what happened (:class:`eduverse_core.events.Event`).
    """


# -- web only: called by the Flask app in ``webapp`` -------------------------------------------
@hookspec
def eduverse_web_register_blueprints(app: Any, register: Callable[[Any], None]) -> None:
    """Add routes to the web app.

    :param app: the Flask application being built (read its config; do not mutate routing
        directly).
    :param register: call ``register(blueprint)`` with a :class:`flask.Blueprint`.
    """


@hookspec(firstresult=True)
def eduverse_web_actor_from_request(eduverse: Eduverse, request: Any) -> Any:
    """Decide who is calling. The first plugin returning a user wins; the built-in one reads
    ``Authorization: Bearer <token>``. Raise ``AuthenticationFailed`` for bad credentials;
    return None when the request carries none you understand.

    :param eduverse: the running instance (``eduverse.sessions`` checks tokens).
    :param request: the current :class:`flask.Request`.
    :return: a :class:`~eduverse_core.models.User`, or None.
    """
