"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import import_string

from shared import assets, faults, i18n, logs, metrics, templating
from shared import config as config_module
from shared.db import Database
from shared.ratelimit import Limiter

#: Request bodies above this are refused with 413 (a guide document is far smaller).
MAX_CONTENT_LENGTH = 1_000_000

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

#: The blueprints, one per audience, by name: the factory is the one place that knows them, and
#: nothing in shared/ imports one (they import shared/, never each other).
BLUEPRINTS = (
    "participant.views:bp",         # the phone: join page and phone view (no account)
    "participant.public:bp",        # published roll-ups (no account)
    "facilitator.views:bp",         # sign-in, guides, sessions, console, projector
    "facilitator.editor:bp",        # the guide editor (new, edit, duplicate, validate as you type)
    "facilitator.organiser:bp",     # users, units, settings, reports, roll-ups
    "shared.api:bp",                # REST API v1 (bearer tokens, CSRF-exempt)
)

csrf = CSRFProtect()
login_manager = LoginManager()


class _SessionInterface(SecureCookieSessionInterface):
    """The login cookie is `Secure` whenever the request came over HTTPS, also through a trusted
    proxy's `X-Forwarded-Proto` (issue 15, point 8), and stays usable on plain HTTP (a hall's LAN)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration from the environment, overridden by `test_config`."""
    app = faults.App(__name__, instance_relative_config=False)
    app.session_interface = _SessionInterface()
    cfg = config_module.from_environment() if not (test_config or {}).get("SKIP_ENV") else {}
    app.config.update(cfg)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    database = Database(app.config["DATABASE_URL"], max_connections=app.config.get("DATABASE_POOL"))
    database.init_app(app)
    # First, so that a request refused by any later hook still gets its log line and its count.
    logs.init_app(app)
    metrics.init_app(app, database)
    limiter = Limiter(app.config.get("RATELIMIT_STORAGE", "memory://"))
    app.extensions["dialogrum.limiter"] = limiter

    i18n.init_app(app)
    templating.init_app(app)
    assets.init_app(app)
    faults.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "facilitator.login"
    # Flask-Login's own English default would be flashed on Swedish and Danish pages (issue 12, defect 4).
    login_manager.login_message = lazy_gettext("Sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(cookie_id: str):
        # Checked on every request: a sign-out, a new password or a deactivation ends the
        # sign-ins made before, on every process (shared/accounts.py, signed_in_user).
        from shared.accounts import signed_in_user

        return signed_in_user(database.session, cookie_id)

    socketio = SocketIO(
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        **_message_queue(app.config.get("MESSAGE_QUEUE")),
        # cors_allowed_origins stays at its default, same origin only; behind a proxy the check
        # honours X-Forwarded-* (docs/architecture.md#the-process-model).
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=64_000,
        manage_session=False,
        # Loggers of our own: with `False` each library adds its own handler and an error it
        # logs was printed twice (shared/logs.py).
        logger=logs.quiet("socketio.server"),
        engineio_logger=logs.quiet("engineio.server"),
    )
    socketio.init_app(app)
    app.extensions["dialogrum.socketio"] = socketio
    if app.config.get("TRUST_PROXY"):
        # Outermost, so Socket.IO connections see the client's address and scheme too (rate
        # limits per address, the same-origin check), not the proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)

    from shared import realtime

    realtime.init_app(app, socketio, database, limiter)

    for name in BLUEPRINTS:
        app.register_blueprint(import_string(name))
    csrf.exempt(app.blueprints["api"])

    @app.get("/healthz")
    def healthz():
        from shared import health
        from shared.schemas.rest import Health, dump

        failing = health.failing(app, database)
        if failing:
            return jsonify(dump(Health, {"status": "degraded", "failing": failing})), 503
        return jsonify(dump(Health, {"status": "ok"}))

    @app.get("/favicon.ico")
    def favicon():
        # Pages name the SVG icon; this answers what browsers ask for by themselves (JSON, files).
        return redirect(url_for("static", filename="favicon.svg"), 301)

    def security_headers(secure: bool) -> list[tuple[str, str]]:
        """The headers every answer carries (pages, the API, static files)."""
        headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                   ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
        if app.config.get("HSTS_SECONDS") and secure:
            # Only over HTTPS (RFC 6797 8.1), and only when chosen: DIALOGRUM_HSTS_SECONDS.
            headers.append(("Strict-Transport-Security", f"max-age={int(app.config['HSTS_SECONDS'])}"))
        return headers

    @app.after_request
    def _security_headers(response):
        for name, value in security_headers(request.is_secure):
            response.headers.setdefault(name, value)
        return response

    # Inside ProxyFix (set below), so that a file answered from memory sees the client's scheme.
    app.wsgi_app = assets.StaticFiles(app, app.wsgi_app, security_headers)

    return app


def _message_queue(url: str | None) -> dict[str, Any]:
    """Socket.IO's message queue: over Redis, a manager whose publishing is bounded in time, so
    that an unreachable or paused Redis never holds an emit (shared/realtime/queue.py); its
    listener waits on its subscription without a read timeout, by design."""
    if url and url.startswith(("redis://", "rediss://")):
        from shared.realtime.queue import QueueManager

        return {"client_manager": QueueManager(url, channel="flask-socketio")}
    return {"message_queue": url}


def get_hub(app: Flask):
    """The realtime hub of an app."""
    return app.extensions["dialogrum.hub"]
