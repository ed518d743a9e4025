"""The database: one engine per app, tuned for the async mode it runs under.

SQLite gets WAL, a busy timeout and a single pooled connection, so that greenlets queue at the
pool instead of inside SQLite's lock, where a waiting writer freezes the whole eventlet loop
(docs/architecture.md#sqlite). PostgreSQL uses psycopg2, which the server entry point makes
cooperative (docs/architecture.md#postgresql).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app

#: PostgreSQL connections per process when DIALOGRUM_DATABASE_POOL is not set
DEFAULT_POOL = 30

#: A pooled PostgreSQL connection back in the pool for longer than this is pinged before it is
#: handed out (`_ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str, *, pool_size: int | None = None, max_connections: int | None = None) -> sa.Engine:
    """Create the engine for `url` with the settings that matter under eventlet.

    `max_connections` (DIALOGRUM_DATABASE_POOL) caps a PostgreSQL pool at that many connections
    (else `DEFAULT_POOL`), never with overflow, so that several processes together stay under
    the server's max_connections; greenlets beyond it wait at the pool (pool_timeout) instead of
    being refused by the server."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 15, "check_same_thread": False},
            # An error's message leaves out the statement's values: a comment's text never reaches
            # a log line through a traceback (docs/deploy.md#logging).
            hide_parameters=True,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across an application crash (kill -9) in WAL mode; only an OS
            # crash or power loss can drop the last transactions.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        return engine
    engine = sa.create_engine(
        url,
        # At most 30 connections, opened as needed and kept: with 10 kept and 20 overflowing, a
        # connect storm opened and closed PostgreSQL connections over and over (each a new server
        # process and a login: a fifth of the storm's time in py-spy, issue 14, item 3).
        pool_size=max_connections or pool_size or DEFAULT_POOL,
        max_overflow=0,
        pool_timeout=60,
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection before use when it has been idle for `PING_AFTER_IDLE_SECONDS`;
    one that fails is replaced (and the pool's older connections with it) before anyone uses it.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: in a vote burst on PostgreSQL that was
    a round trip and a driver call for every batch and every phone's connect, and the app's CPU
    per vote went from about 0.93 to 1.1-1.3 times the SQLite app's (issue 14, item 3). What the
    ping is for, a connection that PostgreSQL's restart, its idle timeouts or a firewall ended,
    is a connection that has been idle; one handed back less than a second ago was working
    then, and a restart takes longer than that, so a restarted PostgreSQL still costs no request."""
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        # `info` is emptied when the record connects again: a new connection is not pinged.
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool replaces this connection, and every one opened before now, and the
                # checkout goes on with a new one (SQLAlchemy's own pre-ping does the same).
                raise sa.exc.InvalidatePoolError() from exc
            raise


class Database:
    """The engine and the request-scoped ORM session of one app."""

    def __init__(self, url: str, *, pool_size: int | None = None, engine: sa.Engine | None = None,
                 max_connections: int | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_engine(url, pool_size=pool_size,
                                                                    max_connections=max_connections)
        self.session = so.scoped_session(so.sessionmaker(bind=self.engine, expire_on_commit=False))
        #: Called with the events of every committed unit of work (shared.uow); the realtime hub
        #: subscribes when the app serves sockets. The CLI has none: other processes poll.
        self.subscribers: list[Callable[[list[Any]], None]] = []

    @classmethod
    def for_engine(cls, engine: sa.Engine) -> Database:
        """A Database on an existing engine (scripts and tests that hold only an engine)."""
        return cls(str(engine.url), engine=engine)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection in a transaction that commits on success and rolls back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reads(self) -> Iterator[sa.Connection]:
        """A connection for reads that need no transaction. On PostgreSQL (psycopg2) it is in
        autocommit: each statement sees what is committed when it runs, and there is no `BEGIN`
        and no `ROLLBACK`, two of a phone's connect's round trips (issue 14, item 3). Writing on
        it is a mistake (each statement would commit alone).

        The driver's own switch is flipped, as the vote path does: SQLAlchemy's `AUTOCOMMIT`
        isolation level resets the level on every check-in, itself a round trip."""
        with self.engine.connect() as conn:
            if self.engine.dialect.driver != "psycopg2":
                yield conn
                return
            driver = conn.connection.driver_connection
            driver.autocommit = True
            try:
                yield conn
            finally:
                if not driver.closed:  # a lost connection is discarded by the pool anyway
                    driver.autocommit = False

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        """A pooled DB-API connection in a transaction (commit on success, rollback on error).

        Only for the vote hot path, where SQLAlchemy's Connection and Transaction objects cost as
        much as the statement itself; everything else uses `begin()`.
        """
        raw = self.engine.raw_connection()
        try:
            yield raw
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def init_app(self, app: Flask) -> None:
        """Register on the app and release the request's session when the request ends."""
        app.extensions["dialogrum.db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    def dispose(self) -> None:
        """Close every pooled connection (tests, shutdown)."""
        self.session.remove()
        self.engine.dispose()


def get_db(app: Flask | None = None) -> Database:
    """The Database of `app` (or of the current app)."""
    return (app or current_app).extensions["dialogrum.db"]
