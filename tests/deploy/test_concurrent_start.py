"""Installation is safe under concurrency (issue 13, point 2; issue 15, point 16): processes started
at once on an empty database wait for one another's migrations instead of dying on
`alembic_version` or on the built-in guides' unique key."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from shared.guides import BUILTIN_DIR
from tests.conftest import BIN, ServerProcess, create_pg_database, drop_pg_database

BUILTINS = len(list(BUILTIN_DIR.glob("*.yaml")))


def _installed_once(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
            keys = conn.scalars(sa.text("SELECT builtin_key FROM guides WHERE builtin_key IS NOT NULL")).all()
    finally:
        engine.dispose()
    assert len(keys) == BUILTINS == len(set(keys))


@pytest.mark.postgres
@pytest.mark.server
def test_four_servers_started_at_once_on_an_empty_postgresql_database_all_come_up(tmp_path):
    url = create_pg_database()
    servers = [ServerProcess(tmp_path / f"p{i}", url) for i in range(4)]
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            started = list(pool.map(_start, servers))
        assert started == [None] * len(servers), "\n".join(filter(None, started))
        _installed_once(url)
    finally:
        for s in servers:
            s.stop()
        drop_pg_database(url)


def _start(server: ServerProcess) -> str | None:
    try:
        server.start(timeout=90)
    except RuntimeError as exc:
        return str(exc)[-1500:]
    return None


def test_four_upgrades_at_once_on_an_empty_sqlite_database_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'dialogrum.db'}"
    env = ServerProcess(tmp_path, url).env()
    procs = [subprocess.Popen([str(BIN / "dialogrum"), "db", "upgrade"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(outputs)
    _installed_once(url)
