"""Shared fixtures: an app on a migrated database (SQLite, and PostgreSQL where marked), builders
for users, tokens, guides and sessions, and a real `dialogrum serve` subprocess.

With CI set (true, 1, yes) an unreachable PostgreSQL or Redis fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("DIALOGRUM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DIALOGRUM_TEST_REDIS", "redis://127.0.0.1:6379")
#: CI=true, CI=1, CI=yes (what CI systems set): a missing service then fails instead of skipping.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes", "on")

SMALL_GUIDE = {
    "title": "Testguide",
    "language": "da",
    "sections": [
        {
            "title": "Demokrati",
            "statement": "Vi vil styrke demokratiet",
            "tags": ["Beboerdemokrati", "Frivillighed"],
            "items": [
                {"kind": "info", "title": "Formål", "text": "Derfor mødes vi."},
                {"kind": "consideration", "text": "Er der tillid til os?"},
                {"kind": "consideration", "text": "Er rollerne tydelige?", "allow_unsure": True},
                {"kind": "prompt", "text": "Hvordan styrker vi deltagelsen?"},
            ],
        }
    ],
}

#: One guide held by three regions in the organiser's tests (roll-up, report, public page).
REGIONS_GUIDE = {
    "title": "Förtroendemannadialogen",
    "language": "sv",
    "sections": [
        {"title": "Medlemmar", "tags": ["Värvning", "Engagemang"], "items": [
            {"id": "c1", "kind": "consideration", "text": "Når vi 51 procent?"},
            {"id": "c2", "kind": "consideration", "text": "Har vi stöd?", "allow_unsure": True},
            {"id": "p1", "kind": "prompt", "text": "Hur värvar vi fler?"},
        ]},
        {"title": "Påverkan", "tags": ["Engagemang"], "items": [
            {"id": "c3", "kind": "consideration", "text": "Syns vi i valet?"},
        ]},
    ],
}


def unavailable(what: str, exc: BaseException) -> None:
    """Skip locally, fail in CI: CI must exercise PostgreSQL and Redis."""
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


# -- databases ---------------------------------------------------------------------------------


def _migrate(url: str) -> None:
    from shared.migrate import upgrade

    upgrade(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for every test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database; returns its URL."""
    name = "dialogrum_test_" + uuid.uuid4().hex[:10]
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    """An empty, unmigrated database URL, on SQLite and on PostgreSQL (migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = create_pg_database()
        yield url
        drop_pg_database(url)


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tests empty it after use."""
    url = create_pg_database()
    _migrate(url)
    yield url
    drop_pg_database(url)


def _empty_all_tables(url: str) -> None:
    from shared.models import Base

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A migrated, empty database URL: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "dialogrum.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated")
        yield url
        _empty_all_tables(url)


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A migrated, empty SQLite database only (for tests that need no PostgreSQL run)."""
    path = tmp_path / "dialogrum.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# -- pages -------------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def csrf():
    """`csrf(html)`: the CSRF token of a page's form."""
    return csrf_token


@pytest.fixture
def login(client):
    """Sign a user in through the real login form (with its CSRF token); returns the response."""

    def _login(user, password: str = "correct horse"):
        page = client.get("/login")
        form = {"csrf_token": csrf_token(page.text), "email": user.email, "password": password}
        return client.post("/login", data=form)

    return _login


# -- the app -----------------------------------------------------------------------------------


def make_app(url: str, tmp_path: Path, **overrides):
    """An app on `url` with test settings."""
    from shared.app import create_app

    config = {
        "SKIP_ENV": True,
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "INSTANCE_DIR": str(tmp_path),
        "RATELIMIT_STORAGE": "memory://",
        "BASE_URL": "http://dialogrum.test",
        "SOCKETIO_ASYNC_MODE": "threading",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(db_url, tmp_path):
    """The app on SQLite and on PostgreSQL."""
    from shared import library
    from shared.db import get_db

    application = make_app(db_url, tmp_path)
    with application.app_context():
        library.install_builtins(get_db().session)
        get_db().session.commit()
        get_db().session.remove()
    yield application
    get_db(application).dispose()


@pytest.fixture
def client(app):
    """The Flask test client."""
    return app.test_client()


@pytest.fixture
def db(app):
    """The ORM session of the app, inside an app context."""
    from shared.db import get_db

    with app.app_context():
        session = get_db().session
        yield session
        session.remove()


class Builders:
    """Small builders for users, tokens, guides and sessions (Indico/Flask-tutorial habit)."""

    def __init__(self, app):
        self.app = app

    def _session(self):
        from shared.db import get_db

        return get_db(self.app).session

    def _done(self) -> None:
        # Give the pooled connection back: SQLite's pool has exactly one.
        self._session().remove()

    def user(self, role: str = "facilitator", email: str | None = None, password: str = "correct horse"):
        from shared import accounts

        with self.app.app_context():
            db = self._session()
            user = accounts.create_user(db, email=email or f"{uuid.uuid4().hex[:8]}@example.org", role=role,
                                        name=role.title(), password=password)
            db.commit()
            db.refresh(user)
            db.expunge(user)
            self._done()
            return user

    def token(self, user) -> str:
        from shared import accounts
        from shared.models import User

        with self.app.app_context():
            db = self._session()
            token = accounts.create_token(db, db.get(User, user.id))
            db.commit()
            self._done()
            return token

    def guide(self, document: dict | None = None) -> str:
        from shared import library

        with self.app.app_context():
            db = self._session()
            guide = library.import_guide(db, document or SMALL_GUIDE)
            db.commit()
            self._done()
            return guide.id

    def meeting(self, user=None, guide_id: str | None = None, title: str = "Møde", unit: str = "") -> str:
        from shared import meeting as rules
        from shared.uow import Work

        guide_id = guide_id or self.guide()
        with self.app.app_context(), self._session().get_bind().begin() as conn:
            return rules.create_meeting(Work(conn), guide_id=guide_id, title=title, unit=unit,
                                        facilitator_id=user.id if user else None)


@pytest.fixture
def make(app) -> Builders:
    """Builders bound to the app."""
    return Builders(app)


def hold_meeting(engine: sa.Engine, meeting_id: str, votes: dict[str, list[str]], comments=(), *,
                 comment_on: str | None = None, hide=(), pin=(), conclusions: dict[str, str] | None = None,
                 end: bool = True, people: int = 0) -> dict[str, int]:
    """Run a session through the meeting rules, as a room would: start, go through every item,
    open voting on considerations and cast `votes` ({item id: [choice per participant]}), write
    `comments` on the prompts (or only on `comment_on`), hide and pin some by text, save
    conclusions, end. Returns the comment ids by text."""
    from shared import meeting as rules
    from shared.db import Database
    from shared.uow import unit_of_work

    database = Database.for_engine(engine)
    with unit_of_work(database) as work:
        rules.control(work, meeting_id, "start")
        snap = rules.snapshot(work.conn, meeting_id)
        meeting = rules.get_meeting(work.conn, meeting_id)
        size = max([people, len(comments), *(len(v) for v in votes.values()), 1])
        room = [rules.join(work, meeting)[0] for _ in range(size)]
    ids: dict[str, int] = {}
    for item in snap.items:
        with unit_of_work(database) as work:
            if item["index"]:
                rules.control(work, meeting_id, "goto", item["index"])
            if item["kind"] == "consideration":
                rules.control(work, meeting_id, "open_voting")
        for who, choice in enumerate(votes.get(item["id"], [])):
            rules.cast_vote(database, meeting_id, room[who], item["id"], choice)
        with unit_of_work(database) as work:
            if item["kind"] == "prompt" and comment_on in (None, item["id"]):
                for who, text in enumerate(comments):
                    ids[text] = rules.add_comment(work, meeting_id, room[who], item["id"], text)["id"]
    with unit_of_work(database) as work:
        for text in hide:
            rules.moderate(work, meeting_id, ids[text], hidden=True)
        for text in pin:
            rules.moderate(work, meeting_id, ids[text], pinned=True)
        for item_id, text in (conclusions or {}).items():
            rules.set_conclusion(work, meeting_id, item_id, text)
        if end:
            rules.control(work, meeting_id, "end")
    return ids


#: votes per unit in the `regions` fixture's sessions: {item id: [choice per participant]}
REGION_VOTES = {
    "Region Stockholm": {"c1": ["yes", "yes", "no"], "c2": ["unsure", "yes"], "c3": ["no"]},
    "Region Syd": {"c1": ["no", "no"], "c2": ["yes"], "c3": ["yes", "yes"]},
    "Region Norr": {"c1": ["yes"], "c2": [], "c3": ["no", "yes"]},
}


@pytest.fixture
def regions(app, make) -> dict:
    """REGIONS_GUIDE held and ended in three regions with one comment each ("Kommentar från
    <unit>"): Stockholm and Syd by a facilitator, Norr by an organiser. Returns the guide id, the
    session ids by unit, both users and the comment ids by text."""
    from shared.db import get_db

    boss = make.user("organiser")
    fac = make.user("facilitator")
    gid = make.guide(REGIONS_GUIDE)
    mids, comments = {}, {}
    for i, (unit, votes) in enumerate(REGION_VOTES.items()):
        mids[unit] = make.meeting(fac if i < 2 else boss, guide_id=gid, unit=unit, title=f"Dialog {unit}")
        with app.app_context():
            comments.update(hold_meeting(get_db(app).engine, mids[unit], votes, [f"Kommentar från {unit}"]))
    return {"guide": gid, "meetings": mids, "organiser": boss, "facilitator": fac, "comments": comments}


# -- a real server -----------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_own_redis() -> tuple[subprocess.Popen, str]:
    """A redis-server of the calling test's own on a free loopback port, without persistence (the
    machine's Redis is never stopped or paused): (process, url), once it answers PING."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", FileNotFoundError("redis-server"))
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                client.ping()
                return proc, url
            except redis.RedisError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    pytest.fail("the test's own redis-server did not start")
                time.sleep(0.05)
    finally:
        client.close()


class _PortTakenError(RuntimeError):
    """The server could not bind its port: another process took it after free_port() chose it."""


class ServerProcess:
    """A `dialogrum serve` subprocess (eventlet unless told otherwise) on its own port."""

    def __init__(self, instance: Path, database_url: str, *, port: int | None = None,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.instance = instance
        self.args = args  # more `serve` options, e.g. ("--lan",)
        self.database_url = database_url
        # A port picked here can be taken by another process before the server binds it: then
        # start() picks another one (never for a port the test chose).
        self.port_chosen_here = port is None
        self.port = port or free_port()
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log = instance / f"serve-{self.port}.log"

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment of the server and of CLI calls against the same instance."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGRUM_")}
        env.update({
            "DIALOGRUM_INSTANCE": str(self.instance),
            "DIALOGRUM_DATABASE_URL": self.database_url,
            "DIALOGRUM_SECRET_KEY": "server-test-secret",
            "DIALOGRUM_BASE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30, *, healthy: bool = True) -> ServerProcess:
        """Start and wait until /healthz answers 200 (any answer with `healthy=False`: a server
        started without its message queue says 503)."""
        for _attempt in range(3):
            try:
                return self._start(timeout, healthy)
            except _PortTakenError:
                if not self.port_chosen_here:
                    raise
                self.port = free_port()
                self.log = self.instance / f"serve-{self.port}.log"
        raise RuntimeError(f"no free port after three tries:\n{self.log.read_text()}")

    def _start(self, timeout: float, healthy: bool) -> ServerProcess:
        import requests

        self.instance.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([str(BIN / "dialogrum"), "serve", "--port", str(self.port), *self.args],
                                         env=self.env(), stdout=fh, stderr=subprocess.STDOUT,
                                         cwd=str(self.instance))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log.read_text()
                if f":{self.port}: Address already in use" in log:
                    raise _PortTakenError(log)
                raise RuntimeError(f"server exited early:\n{log}")
            try:
                if requests.get(self.url + "/healthz", timeout=3).status_code in ((200,) if healthy else (200, 503)):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self, sig: int | None = None) -> None:
        """Stop with SIGTERM (or the given signal) and wait."""
        import signal

        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig or signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run `dialogrum ARGS` against the same instance."""
        result = subprocess.run([str(BIN / "dialogrum"), *args], env=self.env(), input=stdin, capture_output=True,
                                text=True, timeout=60, cwd=str(self.instance), check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"dialogrum {' '.join(args)} failed: {result.stderr}")
        return result

    def facilitator_token(self, email: str = "fac@example.org") -> str:
        """Create a facilitator (if needed) and return a fresh API token."""
        self.cli("user", "create", "--email", email, "--role", "facilitator", stdin="correct horse\n", check=False)
        return self.cli("token", "create", "--email", email).stdout.strip()


def _set_environ(values: dict[str, str | None]) -> None:
    """Set these environment variables, removing those whose value is None."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class InProcessCli(ServerProcess):
    """An instance whose `dialogrum` commands run in this process (`shared.cli.main`), with the
    instance's environment, working directory, stdin and captured output.

    A subprocess pays about 1.5 s of imports per command, and the CLI tests ran some sixty of them.
    What the console script adds (the entry point, exit codes) is still run as a real subprocess by
    `ServerProcess.cli` in test_cli.py; `serve` always is."""

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run `dialogrum ARGS` as `main(ARGS)`, returning what a subprocess would."""
        import contextlib
        import io
        import traceback

        import shared.cli as cli_module
        from shared.db import get_db

        assert args and args[0] != "serve", "serve runs as a subprocess: use ServerProcess"
        made: list = []
        make_app = cli_module._app

        def app_kept():
            made.append(make_app())
            return made[-1]

        # Only the variables that differ are set and put back, never the whole environment cleared:
        # the calling test may have threads (socket clients) that read it meanwhile.
        wanted = self.env()
        changed = {k for k in set(os.environ) | set(wanted) if os.environ.get(k) != wanted.get(k)}
        saved_env = {k: os.environ.get(k) for k in changed}
        saved_cwd, saved_stdin = os.getcwd(), sys.stdin
        out, err = io.BytesIO(), io.StringIO()
        stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        try:
            _set_environ({k: wanted.get(k) for k in changed})
            os.chdir(self.instance)
            sys.stdin = io.StringIO(stdin or "")
            cli_module._app = app_kept
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
                try:
                    code = cli_module.main(list(args))
                except SystemExit as exc:  # argparse's usage errors
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except Exception:  # what the interpreter would print and exit 1 with
                    traceback.print_exc()
                    code = 1
        finally:
            cli_module._app = make_app
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            _set_environ(saved_env)
            for app in made:
                get_db(app).dispose()
        stdout.flush()
        result = subprocess.CompletedProcess(["dialogrum", *args], code or 0,
                                             out.getvalue().decode("utf-8"), err.getvalue())
        if check and result.returncode != 0:
            raise RuntimeError(f"dialogrum {' '.join(args)} failed: {result.stderr}")
        return result


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One real eventlet server on SQLite per test module. Its `dialogrum` commands run in the
    test's process (`InProcessCli`): still another process than the server's, which has to
    notice what they change in the database, without 1.5-2 s of imports per command."""
    instance = tmp_path_factory.mktemp("server")
    srv = InProcessCli(instance, f"sqlite:///{instance / 'dialogrum.db'}").start()
    yield srv
    srv.stop()


#: Test directories whose files take longest, in the order they should start.
_SLOW_FIRST = ("tests/scale/", "tests/deploy/", "tests/e2e/", "tests/realtime/")


def pytest_collection_modifyitems(session, config, items) -> None:
    """Run the slowest directories' files first. `make test` hands whole files to two workers
    (`--dist loadfile`) in collection order; with the slow ones last, one worker ran alone for
    the last minutes of an 18-minute run while the other idled. The order within a directory is
    kept (a sort is stable)."""

    def rank(item) -> int:
        for i, prefix in enumerate(_SLOW_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(_SLOW_FIRST)

    items.sort(key=rank)
