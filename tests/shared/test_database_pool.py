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
