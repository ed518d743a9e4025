"""`dialogrum backup FILE`: a consistent copy of the database, safe while the server runs.

- SQLite: the online backup API (`sqlite3.Connection.backup`) in one step, which reads one
  snapshot of the database; in WAL mode the server's writers go on meanwhile. The copy is written
  next to FILE, switched to a rollback journal (one self-contained file, no `-wal`), checked with
  `PRAGMA quick_check`, and only then renamed to FILE.
- PostgreSQL: `pg_dump --format=custom` (one transaction, so consistent too), restored with
  `pg_restore` into an empty database (docs/deploy.md#backup-and-restore).

Backups hold personal data (e-mail addresses, comments): the file is created readable by its
owner only.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """Why no backup was written (a one-line message for the command line)."""


def backup(url: str, target: str | os.PathLike) -> None:
    """Write a consistent copy of the database at `url` to `target` (replaced if it exists)."""
    parsed = sa.engine.make_url(url)
    target = Path(target)
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give the backup's file name")
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite(parsed, partial)
        elif parsed.get_backend_name() == "postgresql":
            _pg_dump(parsed, partial)
        else:
            raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite(url: sa.URL, partial: Path) -> None:
    if url.database in (None, "", ":memory:") or not Path(url.database).is_file():
        raise BackupError(f"there is no SQLite database at {url.database or '(memory)'}")
    source = sqlite3.connect(url.database, timeout=15)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages=-1: the whole database in one step, from one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from None
    finally:
        source.close()
    if verdict != "ok":
        raise BackupError(f"the copy failed its check: {verdict}")


def _pg_dump(url: sa.URL, partial: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt install postgresql-client, the server's version "
                          "or newer)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where `ps` shows it
    libpq = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    # The operator's own settings, as a list (no shell).
    done = subprocess.run([pg_dump, "--format=custom", f"--file={partial}", f"--dbname={libpq}"], env=env,  # noqa: S603
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {message}")
