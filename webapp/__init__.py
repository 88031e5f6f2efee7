"""The Flask web app: a thin composition of ``eduverse_core``.

Production: ``gunicorn "webapp:create_app()"``. Views parse the request, call one service and
render; business rules live in the core. Every JSON endpoint is declared through
``webapp.api`` so ``/api/openapi.json`` describes exactly what is served.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask

from eduverse_core import Eduverse, Settings
from eduverse_core.errors import StartupError

from . import bearer
from .cors import enable_cors
from .errors import register_error_handlers
from .logs import configure_json_logging
from .security import add_security_headers, make_process_undumpable

MAX_BODY_BYTES = 256 * 1024  # code is capped at 64 KiB; anything bigger is abuse or a mistake

# One module per area; importing a module registers its endpoints with ``webapp.api.api``.
BLUEPRINT_MODULES = ("health", "auth", "packs", "meta", "learner", "instructor", "pages")


def create_app(settings: Settings | None = None, *, eduverse: Eduverse | None = None) -> Flask:
    """Build the app around one :class:`Eduverse` (created from the environment if not given).

    In production (``EDUVERSE_ENV=production``) it refuses to start on settings that would
    lose data or let tokens be forged (:meth:`Settings.production_problems`), and makes the
    process non-dumpable so that code of the same uid cannot read its memory or environment.
    """
    chosen = eduverse.settings if eduverse is not None else (settings or Settings.from_env())
    if chosen.json_logs:
        configure_json_logging()
    if chosen.environment == "production" and (problems := chosen.production_problems()):
        raise StartupError("refusing to start in production: " + "; ".join(problems))
    if chosen.environment == "production":
        make_process_undumpable()  # learner code of the same uid cannot read our environment
    ev = eduverse if eduverse is not None else Eduverse(chosen)
    if not ev.pm.is_registered(bearer):
        ev.pm.register(bearer, name="web_bearer")
    app = Flask(__name__, static_folder=None)  # built assets are served by webapp.pages
    app.config.update(
        EDUVERSE_STORAGE=ev.settings.storage,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the models' field order
    app.extensions["eduverse"] = ev
    register_error_handlers(app)
    enable_cors(app, ev.settings.cors_origins)
    add_security_headers(app)
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)

    def register(blueprint: Blueprint) -> None:
        app.register_blueprint(blueprint)

    ev.pm.hook.eduverse_web_register_blueprints(app=app, register=register)
    return app
