"""Configuration from the environment (and an optional `.env` file).

Every setting has one name, `DIALOGRUM_<NAME>`, documented in the README; tests pass overrides
to `create_app(test_config)` instead of touching the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is a dependency
        return
    load_dotenv(override=False)


def normalise_database_url(url: str) -> str:
    """Accept `postgres://` and `postgresql://` as written and pick the psycopg2 driver.

    psycopg2 is made cooperative by eventlet's monkey patching (and by psycogreen under gevent),
    psycopg 3 is not (docs/architecture.md#postgresql).
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def secret_key_for(instance: Path) -> str:
    """The instance's secret key, generated once and kept (mode 600) in the instance dir."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _whole_number(env, name: str) -> int:
    value = (env.get(name) or "0").strip()
    if not value.isdigit():
        raise SystemExit(f"dialogrum: {name} must be a whole number of seconds, not {value!r}")
    return int(value)


def _pool_size(env) -> int | None:
    """DIALOGRUM_DATABASE_POOL, a positive whole number of connections, or None when unset."""
    value = (env.get("DIALOGRUM_DATABASE_POOL") or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"dialogrum: DIALOGRUM_DATABASE_POOL must be a whole number of connections, not {value!r}")
    return int(value)


def from_environment() -> dict:
    """Build the Flask config mapping from `DIALOGRUM_*` variables."""
    _load_dotenv()
    env = os.environ
    instance = Path(env.get("DIALOGRUM_INSTANCE", "instance")).resolve()
    database_url = env.get("DIALOGRUM_DATABASE_URL") or f"sqlite:///{instance / 'dialogrum.db'}"
    queue = env.get("DIALOGRUM_MESSAGE_QUEUE") or None
    # DIALOGRUM_ASYNC_MODE is not here: `serve` reads it before anything is imported, because it
    # decides the monkey-patching (docs/architecture.md#the-eventlet-facts).
    return {
        "DATABASE_URL": normalise_database_url(database_url),
        "MESSAGE_QUEUE": queue,
        "SECRET_KEY": env.get("DIALOGRUM_SECRET_KEY") or secret_key_for(instance),
        "BASE_URL": (env.get("DIALOGRUM_BASE_URL") or "").rstrip("/") or None,
        # Rate limits must hold across processes: with a message queue they share its Redis.
        "RATELIMIT_STORAGE": env.get("DIALOGRUM_RATELIMIT_STORAGE") or queue or "memory://",
        "TRUST_PROXY": env.get("DIALOGRUM_TRUST_PROXY", "0") in ("1", "true", "yes"),
        # New participants per client address (a hall's pace; reconnects with a token never count).
        "NEW_PARTICIPANT_LIMIT": env.get("DIALOGRUM_NEW_PARTICIPANT_LIMIT") or None,
        # Strict-Transport-Security on HTTPS answers, in seconds; 0 (the default) sends none.
        "HSTS_SECONDS": _whole_number(env, "DIALOGRUM_HSTS_SECONDS"),
        # The most connections one process opens to PostgreSQL (docs/deploy.md#sizing): the
        # processes together must stay under the server's max_connections. Unset: 10, up to 30.
        "DATABASE_POOL": _pool_size(env),
        # Dates and times on pages and reports: Sweden and Denmark share this zone.
        "BABEL_DEFAULT_TIMEZONE": env.get("DIALOGRUM_TIMEZONE") or "Europe/Stockholm",
        # GET /metrics only with a bearer token (shared/metrics.py); unset, the path is not served.
        "METRICS_TOKEN": _metrics_token(env),
        # E-mail through SMTP (shared/mail.py); unset, nothing is sent and pages show links to copy.
        "SMTP_URL": _smtp_url(env),
        "MAIL_FROM": (env.get("DIALOGRUM_MAIL_FROM") or "").strip() or None,
    }


def _smtp_url(env) -> str | None:
    """DIALOGRUM_SMTP_URL, checked at start-up: a mistake in it is one line now, not a mail that
    never leaves."""
    url = (env.get("DIALOGRUM_SMTP_URL") or "").strip()
    if not url:
        return None
    from shared.mail import parse_url

    try:
        parse_url(url, env.get("DIALOGRUM_MAIL_FROM"))
    except ValueError as exc:
        raise SystemExit(f"dialogrum: {exc}") from None
    return url


#: A metrics token must not be guessable: 16 characters at least (`openssl rand -hex 16` gives 32).
MIN_METRICS_TOKEN = 16


def _metrics_token(env) -> str | None:
    token = (env.get("DIALOGRUM_METRICS_TOKEN") or "").strip()
    if token and (len(token) < MIN_METRICS_TOKEN or not token.isprintable() or " " in token):
        raise SystemExit(f"dialogrum: DIALOGRUM_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters "
                         "without spaces (make one with `openssl rand -hex 16`)")
    return token or None
