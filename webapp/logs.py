"""Logs as Cloud Logging reads them: one JSON object per line on stdout, with ``severity``
and, inside a request, the request's trace (from ``X-Cloud-Trace-Context`` or
``traceparent``) so that Cloud Logging groups a request's lines. Standard library only.

Never log secrets: request bodies, passwords and tokens are not part of any record here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime

from flask import has_request_context, request

SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
TRACE_KEY = "logging.googleapis.com/trace"
SPAN_KEY = "logging.googleapis.com/spanId"


def request_trace() -> tuple[str, str | None] | None:
    """The current request's (trace id, span id), or None outside a traced request."""
    if not has_request_context():
        return None
    cloud = _CLOUD_TRACE.match(request.headers.get("X-Cloud-Trace-Context", ""))
    if cloud:
        return cloud.group(1).lower(), cloud.group(2)
    parent = _TRACEPARENT.match(request.headers.get("traceparent", ""))
    if parent:
        return parent.group(1), parent.group(2)
    return None


class CloudLoggingFormatter(logging.Formatter):
    """Format a record as the JSON Cloud Logging's agent on Cloud Run parses."""

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "severity": SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        trace = request_trace()
        if trace is not None:
            trace_id, span_id = trace
            entry[TRACE_KEY] = (
                f"projects/{self.project}/traces/{trace_id}" if self.project else trace_id
            )
            if span_id:
                entry[SPAN_KEY] = span_id
        if has_request_context():
            entry["httpRequest"] = {"requestMethod": request.method, "requestUrl": request.path}
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record to stdout as JSON (idempotent: one handler however often called)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, CloudLoggingFormatter):
            return
    handler = logging.StreamHandler(sys.stdout)
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
    handler.setFormatter(CloudLoggingFormatter(project))
    root.handlers = [handler]
    root.setLevel(level)
