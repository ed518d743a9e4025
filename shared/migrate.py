"""Apply the Alembic migrations (used by `dialogrum db upgrade` and `serve`).

The scripts live in the repository's top-level `migrations/`; a wheel carries them as package data
in `shared/migrations/` (copied by setup.py). The installed copy is looked for first, so an
installed package never picks up an unrelated `site-packages/migrations`
(docs/architecture.md#the-wheel).

Installing (migrations, then the built-in guides) holds a lock on the database, a PostgreSQL
advisory lock or a file lock next to the SQLite file, so that processes started at once wait for
one another instead of dying on a unique key (docs/architecture.md#installing-under-concurrency).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import command
from alembic.config import Config

_PACKAGED = Path(__file__).resolve().parent / "migrations"
_CHECKOUT = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS = _PACKAGED if (_PACKAGED / "env.py").is_file() else _CHECKOUT


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    # ConfigParser interpolation would choke on a % in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


#: The PostgreSQL advisory lock every installing process takes (any fixed 64-bit key: "dialogrm").
ADVISORY_LOCK_KEY = int.from_bytes(b"dialogrm", "big")

log = logging.getLogger(__name__)


@contextmanager
def install_lock(url: str) -> Iterator[None]:
    """Hold the database's installation lock; a second process waits here until the first is done.

    PostgreSQL: a session-level advisory lock on a connection of its own, so Alembic's transactions
    are untouched (and a killed process's lock dies with its connection). SQLite: an exclusive
    `flock` on `<database file>.lock` (released by the kernel when a process dies); an in-memory
    database needs none.
    """
    backend = sa.engine.make_url(url)
    if backend.get_backend_name() == "postgresql":
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                key = {"key": ADVISORY_LOCK_KEY}
                if not conn.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), key):
                    log.warning("another process is migrating this database; waiting for it")
                    conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), key)
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
        finally:
            engine.dispose()
    elif backend.get_backend_name() == "sqlite" and backend.database not in (None, "", ":memory:"):
        import fcntl

        path = Path(backend.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.warning("another process is migrating this database; waiting for it")
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield


def install(url: str) -> int:
    """What `dialogrum db upgrade` and `serve` do before serving, under the installation lock:
    apply pending migrations, then add the built-in guides not yet installed. Returns how many
    guides were added (0 for every process but the first)."""
    from shared import library
    from shared.db import make_engine

    with install_lock(url):
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url, pool_size=1)
        try:
            with so.Session(engine) as db, db.begin():
                return library.install_builtins(db)
        finally:
            engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (under the installation lock)."""
    with install_lock(url):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` down to `revision` (`base` empties it), under the lock."""
    with install_lock(url):
        command.downgrade(alembic_config(url), revision)
