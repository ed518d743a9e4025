"""DIALOGRUM_DATABASE_POOL caps one process's PostgreSQL connections (issue 14, item 4): four
processes with the default pool (10, overflowing to 30) can ask for 120 connections in a connect
storm, more than PostgreSQL's default max_connections of 100; bench/cluster.py met "too many
clients already" as refused phones."""

from __future__ import annotations

import pytest

from shared.config import from_environment
from shared.db import make_engine

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/nowhere"  # no connection is opened


def test_the_setting_is_read_and_checked(monkeypatch):
    monkeypatch.setenv("DIALOGRUM_DATABASE_POOL", "15")
    assert from_environment()["DATABASE_POOL"] == 15
    monkeypatch.delenv("DIALOGRUM_DATABASE_POOL")
    assert from_environment()["DATABASE_POOL"] is None
    for wrong in ("0", "ten", "-3"):
        monkeypatch.setenv("DIALOGRUM_DATABASE_POOL", wrong)
        with pytest.raises(SystemExit, match="DIALOGRUM_DATABASE_POOL"):
            from_environment()


def test_a_capped_pool_never_overflows():
    engine = make_engine(PG, max_connections=15)
    try:
        assert engine.pool.size() == 15
        assert engine.pool._max_overflow == 0  # waiting at the pool, not refused by the server
    finally:
        engine.dispose()


def test_the_default_pool_keeps_what_it_opens():
    """30 at most, as before (10 kept, overflowing to 30), but every one kept once opened: the
    overflow was closed at check-in and opened again in the next moment of a connect storm."""
    engine = make_engine(PG)
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (30, 0)
    finally:
        engine.dispose()


def test_the_app_uses_the_setting(tmp_path):
    from shared.app import create_app

    app = create_app({"DATABASE_URL": PG, "DATABASE_POOL": 7, "SECRET_KEY": "x" * 32, "INSTANCE": str(tmp_path)})
    from shared.db import get_db

    with app.app_context():
        assert get_db().engine.pool.size() == 7


# -- the ping before use (shared.db._ping_when_idle) ---------------------------------------------


@pytest.fixture
def pg_engine(monkeypatch):
    """A pool of two on a fresh PostgreSQL database, its pings counted, with a threshold short
    enough for a test; (engine, pings, the database's name)."""
    import shared.db
    from tests.conftest import create_pg_database, drop_pg_database

    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_SECONDS", 0.5)
    url = create_pg_database()
    engine = make_engine(url, max_connections=2)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or ping(conn))
    yield engine, pings, url.rsplit("/", 1)[1]
    engine.dispose()
    drop_pg_database(url)


def _backend_pid(engine) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.postgres
def test_a_connection_in_use_a_moment_ago_is_not_pinged(pg_engine):
    """In a vote burst a connection goes back and out again within milliseconds: no round trip
    of its own for a ping (SQLAlchemy's pool_pre_ping made one at every checkout)."""
    import time

    engine, pings, _ = pg_engine
    first = _backend_pid(engine)  # a new connection: not pinged
    for _ in range(20):
        assert _backend_pid(engine) == first
    assert pings == []
    time.sleep(0.6)  # idle past the threshold: pinged once, then in use again
    assert _backend_pid(engine) == first
    assert _backend_pid(engine) == first
    assert len(pings) == 1


@pytest.mark.postgres
def test_connections_that_postgresql_ended_cost_no_request(pg_engine):
    """What a restart of PostgreSQL (or its idle timeout, or a firewall) does to a pool: every
    connection is gone. After a moment idle, the next checkouts find out by the ping and use new
    connections; no statement fails."""
    import time

    import sqlalchemy as sa

    from tests.conftest import PG_ADMIN_URL

    engine, pings, name = pg_engine
    with engine.connect() as a, engine.connect() as b:  # the pool holds two connections
        old = {a.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
               b.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()}
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    admin.dispose()
    assert ended == 2
    time.sleep(0.6)
    with engine.connect() as a, engine.connect() as b:
        new = {a.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
               b.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()}
    assert new.isdisjoint(old) and len(new) == 2
    assert len(pings) == 1  # the first failed ping replaced the pool's older connections too
