"""Logging: one line per HTTP request and per socket connect, disconnect and refusal, each with a
timestamp, the process and a request id, as text or as JSON (docs/deploy.md#logging).

`dialogrum serve` calls `configure()` once, before the app is built; everything else logs through
the standard library. Two rules keep the lines safe to ship to a log store:

- A line carries only the fields named in `FIELDS` besides its message: what a caller passes in
  `extra=` under any other name is dropped, so a token, a cookie, a password or a comment's text
  cannot reach a line by accident. Paths are logged without their query string, and the values of
  path parts that are secrets (`/setup/<secret>`, `/p/<key>`, `/f/<key>`) are replaced by `…`.
- Control characters in a request's path are escaped, so a crafted URL cannot forge a line.

Socket.IO's own transport requests (long-polling GETs and POSTs, the websocket upgrade) never
reach Flask and are not logged one by one: a polling phone makes one every few seconds, so a hall
would drown the log. The socket's connect, disconnect and refusal are logged instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request, request_started

#: DIALOGRUM_LOG_LEVEL's values; INFO (the default) has a line per request and per socket.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: DIALOGRUM_LOG_FORMAT's values.
FORMATS = ("text", "json")
#: The only fields besides the message that reach a line (see the module's docstring).
FIELDS = ("event", "method", "path", "status", "duration_ms", "sid", "role", "meeting", "reason")
#: Path parts whose values are secrets, by the name of their URL variable.
SECRET_PARTS = ("secret", "key", "token")
#: Probes that answer 200 are logged at DEBUG: a load balancer asking every few seconds, and
#: Prometheus every 15 s per process, would otherwise fill the log with nothing.
PROBES = ("/healthz", "/metrics")

access_log = logging.getLogger("dialogrum.access")
socket_log = logging.getLogger("dialogrum.sockets")

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _escape(text: str, limit: int | None = 300) -> str:
    """No control character nor lone surrogate in a line (a crafted path cannot forge a line),
    and no endless path."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                       text)


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(created % 1 * 1000):03d}Z"


class _Context(logging.Filter):
    """Every record gets the request id (`-` outside a request, unless the caller named one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            from shared.faults import request_id

            record.request_id = request_id() if has_request_context() else "-"
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-02T10:00:00.123Z INFO pid=123 req=ab12… GET /j/ABC123 200 3.1ms`."""

    def format(self, record: logging.LogRecord) -> str:
        message = _escape(record.getMessage(), None)
        if not record.name.startswith("dialogrum."):
            message = f"{record.name}: {message}"
        rid = getattr(record, "request_id", "-")
        line = f"{_timestamp(record.created)} {record.levelname} pid={record.process} req={rid} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, pid, request_id, logger, message, the `FIELDS` the
    record carries, and the traceback as one string (`exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": _timestamp(record.created), "level": record.levelname, "pid": record.process,
                               "request_id": getattr(record, "request_id", "-"), "logger": record.name,
                               "message": record.getMessage()}
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def settings(env: dict[str, str] | None = None) -> tuple[str, str]:
    """The level and format asked for in the environment; a clear error for anything else."""
    env = os.environ if env is None else env
    level = (env.get("DIALOGRUM_LOG_LEVEL") or "INFO").strip().upper()
    fmt = (env.get("DIALOGRUM_LOG_FORMAT") or "text").strip().lower()
    if level not in LEVELS:
        raise SystemExit(f"dialogrum: DIALOGRUM_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    if fmt not in FORMATS:
        raise SystemExit(f"dialogrum: DIALOGRUM_LOG_FORMAT must be text or json, not {fmt!r}")
    return level, fmt


def configure(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Send every log record of the process to one handler (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_Context())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic tells of every start's migration context at INFO; only DEBUG wants that.
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def quiet(name: str) -> logging.Logger:
    """The logger to hand python-socketio and python-engineio: with `logger=False` each adds a
    handler of its own to its logger, and every error it logs was printed twice (its handler,
    then the root's). A logger handed in is used as it is; at WARNING, because at INFO they
    report every message they send."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    return logger


def safe_path() -> str:
    """The request's path without its query string, secrets in the path replaced by `…`."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and value and any(part in name for part in SECRET_PARTS):
            path = path.replace("/" + value, "/…")
    return _escape(path)


def init_app(app: Flask) -> None:
    """One line per HTTP request that reaches the app, when its answer is ready."""

    def _started(_sender: Flask, **_kw: Any) -> None:
        g.log_started = time.perf_counter()

    # A signal, not before_request: it fires before the URL is matched, so a request refused by a
    # URL value preprocessor (shared/faults.py) is timed too.
    request_started.connect(_started, app, weak=False)

    @app.after_request
    def _access_line(response: Response) -> Response:
        started = g.pop("log_started", None)
        ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
        path = safe_path()
        level = logging.DEBUG if request.path in PROBES and response.status_code == 200 else logging.INFO
        if access_log.isEnabledFor(level):
            access_log.log(level, "%s %s %s %sms", request.method, path, response.status_code,
                           ms if ms is not None else "-",
                           extra={"event": "http_request", "method": request.method, "path": path,
                                  "status": response.status_code, "duration_ms": ms})
        return response


def socket_event(event: str, *, request_id: str | None = None, level: int = logging.INFO, **fields: Any) -> None:
    """A socket's connect, disconnect or refusal: `event` is socket_connect, socket_disconnect or
    socket_refused; `fields` are among `FIELDS` (sid, role, meeting, reason)."""
    if not socket_log.isEnabledFor(level):
        return
    shown = " ".join(f"{k}={_escape(str(v), 80)}" for k, v in fields.items() if v is not None)
    extra = {k: v for k, v in fields.items() if k in FIELDS}
    extra["event"] = event
    if request_id is not None:
        extra["request_id"] = request_id
    socket_log.log(level, "%s %s", event.replace("_", " "), shown, extra=extra)
