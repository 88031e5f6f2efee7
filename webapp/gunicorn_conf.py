"""gunicorn settings for production (``gunicorn -c python:webapp.gunicorn_conf``).

Cloud Run sends requests to ``$PORT`` and scales instances itself; inside one instance a few
worker processes with threads keep both CPUs busy while requests wait on storage or on the
sandbox. Every value can be overridden with gunicorn's own ``GUNICORN_CMD_ARGS``.
"""

from __future__ import annotations

import os
from typing import Any

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Cloud Run ends requests at its own timeout; gunicorn's would kill a worker mid-grading.
timeout = 0
graceful_timeout = 20
keepalive = 5
# Logs: the app logs JSON itself in production; gunicorn's access log would be a second,
# unstructured copy of what Cloud Run's request log already records.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
wsgi_app = "webapp:create_app()"


def worker_exit(server: Any, worker: Any) -> None:
    """Close the worker's Eduverse: storage connections and the sandbox workers' folders.

    gunicorn calls no shutdown hook of a WSGI app; without this, sandbox workers die with the
    thread that started them but leave their temporary folders behind.
    """
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    if extensions and "eduverse" in extensions:
        extensions["eduverse"].close()
