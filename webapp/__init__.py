"""The Flask web app: a thin composition of ``eduverse_core``.

Production: ``gunicorn "webapp:create_app()"``. Views parse the request, call one service and
render; business rules live in the core.
"""

from __future__ import annotations

from flask import Flask

from eduverse_core import Eduverse, Settings

from .errors import register_error_handlers


def create_app(settings: Settings | None = None, *, eduverse: Eduverse | None = None) -> Flask:
    """Build the app around one :class:`Eduverse` (created from the environment if not given)."""
    ev = eduverse if eduverse is not None else Eduverse(settings)
    app = Flask(__name__)
    app.config["EDUVERSE_STORAGE"] = ev.settings.storage
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["eduverse"] = ev
    register_error_handlers(app)

    from .health import bp as health_bp
    from .packs import bp as packs_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(packs_bp, url_prefix="/api")
    return app
