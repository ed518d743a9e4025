"""Backup and restore (issue 13, point 5), as docs/deploy.md#backup-and-restore describes them:
`dialogrum backup FILE` while the server runs and writes, the instance directory beside it, and a
restore into an empty database that finds every session, vote and comment."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import subprocess
import threading

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import (
    SMALL_GUIDE,
    Builders,
    ServerProcess,
    create_pg_database,
    csrf_token,
    drop_pg_database,
    hold_meeting,
    make_app,
    unavailable,
)

PASSWORD = "correct horse battery"
#: item ids of SMALL_GUIDE's considerations, as assign_ids keeps them
VOTES = {0: ["yes", "no", "yes"], 1: ["unsure", "no"]}


def _content(url: str, tables: tuple[str, ...] | None = None) -> dict[str, set[str]]:
    """Every row of every table (or of `tables`), as comparable strings."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {name: {repr(tuple(row)) for row in conn.execute(sa.select(table))}
                    for name, table in meta.tables.items() if tables is None or name in tables}
    finally:
        engine.dispose()


def _hold_sessions(app, make: Builders, user) -> dict[str, str]:
    """One ended session and one still live (on its last item, a prompt), both with votes and
    comments, one comment hidden. Returns the session ids by name."""
    from shared import meeting as rules
    from shared.db import get_db

    guide = make.guide(SMALL_GUIDE)
    ids = {name: make.meeting(user, guide_id=guide, title=f"Møde {name}") for name in ("ended", "live")}
    with app.app_context():
        engine = get_db(app).engine
        with engine.connect() as conn:
            items = rules.snapshot(conn, ids["ended"]).items
        considerations = [i["id"] for i in items if i["kind"] == "consideration"]
        votes = {considerations[k]: v for k, v in VOTES.items()}
        for name, mid in ids.items():
            hold_meeting(engine, mid, votes, [f"{name} 1", f"{name} 2", f"{name} skjult"], hide=[f"{name} skjult"],
                         end=name == "ended")
    return ids


class CommentWriter(threading.Thread):
    """Keeps committing comments on a live session until stopped: the server's database is
    written while the backup runs."""

    def __init__(self, url: str, meeting_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.meeting_id, self.written = url, meeting_id, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        from shared import meeting as rules
        from shared.db import Database, make_engine
        from shared.uow import unit_of_work

        database = Database.for_engine(make_engine(self.url))
        with unit_of_work(database) as work:
            meeting = rules.get_meeting(work.conn, self.meeting_id)
            who = rules.join(work, meeting)[0]
            item = rules.snapshot(work.conn, self.meeting_id).items[-1]["id"]
        while not self.stopped.is_set():
            with unit_of_work(database) as work:
                rules.add_comment(work, self.meeting_id, who, item, f"under backup {self.written}")
            self.written += 1
        database.engine.dispose()


@pytest.mark.server
def test_sqlite_backup_while_serving_and_restore_into_a_new_instance(tmp_path):
    live_dir, restored_dir = tmp_path / "instance", tmp_path / "restored"
    live_url = f"sqlite:///{live_dir / 'dialogrum.db'}"
    # No DIALOGRUM_SECRET_KEY: the instance directory's generated key signs the cookies.
    live = ServerProcess(live_dir, live_url, env={"DIALOGRUM_SECRET_KEY": ""}).start()
    restored = None
    try:
        app = make_app(live_url, tmp_path / "app")
        make = Builders(app)
        organiser = make.user("organiser", email="org@example.org", password=PASSWORD)
        token = make.token(organiser)
        ids = _hold_sessions(app, make, organiser)
        browser = requests.Session()
        page = browser.get(live.url + "/login", timeout=10)
        browser.post(live.url + "/login", timeout=10,
                     data={"csrf_token": csrf_token(page.text), "email": "org@example.org", "password": PASSWORD})
        assert browser.get(live.url + "/sessions", timeout=10, allow_redirects=False).status_code == 200

        tables = ("meetings", "votes", "comments", "participants", "users", "api_tokens", "guides")
        before = _content(live_url, tables)
        writer = CommentWriter(live_url, ids["live"])
        writer.start()
        try:
            while writer.written < 5:
                writer.stopped.wait(0.01)
            backup = tmp_path / "backups" / "dialogrum.db"
            backup.parent.mkdir()
            live.cli("backup", str(backup))
        finally:
            writer.stopped.set()
            writer.join(30)
        after = _content(live_url, tables)
        assert writer.written > 5
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert sorted(p.name for p in backup.parent.iterdir()) == ["dialogrum.db"]
        with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as check:
            assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

        # The restore, as documented: the instance directory without the live database files,
        # then the backup as the database.
        shutil.copytree(live_dir, restored_dir, ignore=shutil.ignore_patterns("dialogrum.db*", "*.log"))
        assert (restored_dir / "secret_key").read_text() == (live_dir / "secret_key").read_text()
        shutil.copy(backup, restored_dir / "dialogrum.db")
        restored_url = f"sqlite:///{restored_dir / 'dialogrum.db'}"
        got = _content(restored_url, tables)
        for name in tables:
            assert before[name] <= got[name] <= after[name], name
        assert got["votes"] == before["votes"] and before["votes"]

        restored = ServerProcess(restored_dir, restored_url, env={"DIALOGRUM_SECRET_KEY": ""}).start()
        auth = {"Authorization": f"Bearer {token}"}
        for name, mid in ids.items():
            results = requests.get(f"{restored.url}/api/v1/sessions/{mid}/results", headers=auth, timeout=10).json()
            counts = [i["counts"] for i in results["items"] if i["kind"] == "consideration"]
            assert counts == [{"yes": 2, "no": 1, "unsure": 0}, {"yes": 0, "no": 1, "unsure": 1}], name
            texts = {c["text"] for i in results["items"] for c in i["comments"]}
            assert {f"{name} 1", f"{name} 2", f"{name} skjult"} <= texts
        # The same secret key: a sign-in from before the backup still holds after the restore.
        assert browser.get(restored.url + "/sessions", timeout=10, allow_redirects=False).status_code == 200
    finally:
        live.stop()
        if restored is not None:
            restored.stop()


def _libpq(url: str) -> str:
    return sa.engine.make_url(url)._replace(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgres
def test_postgresql_backup_with_pg_dump_restores_into_an_empty_database(tmp_path):
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        unavailable(" and ".join(missing), RuntimeError("not on PATH (apt install postgresql-client)"))
    source = create_pg_database()
    target = None
    try:
        from shared import migrate

        migrate.install(source)
        app = make_app(source, tmp_path / "app")
        make = Builders(app)
        ids = _hold_sessions(app, make, make.user("organiser"))
        from shared.db import get_db

        get_db(app).dispose()
        backup = tmp_path / "dialogrum.dump"
        (tmp_path / "instance").mkdir()
        cli = ServerProcess(tmp_path / "instance", source)
        cli.cli("backup", str(backup))
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600

        target = create_pg_database()
        done = subprocess.run(["pg_restore", "--no-owner", "--single-transaction", f"--dbname={_libpq(target)}",
                               str(backup)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        want, got = _content(source), _content(target)
        assert got == want
        assert len([r for r in got["meetings"] if any(i in r for i in ids.values())]) == 2
        assert len(got["votes"]) == 2 * sum(len(v) for v in VOTES.values())
        assert len(got["comments"]) == 2 * 3
        # The restored database is at the head revision: upgrading it finds nothing to do.
        ServerProcess(tmp_path / "instance", target).cli("db", "upgrade")
    finally:
        drop_pg_database(source)
        if target is not None:
            drop_pg_database(target)


def test_backup_refuses_what_it_cannot_copy(tmp_path):
    cli = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'none.db'}")
    result = cli.cli("backup", str(tmp_path / "copy.db"), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("dialogrum: there is no SQLite database at")
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*copy.db*"))
