"""The account commands of `dialogrum` (issue 15, points 3, 4 and 9a), run as the installed script."""

from __future__ import annotations

import pytest

from tests.conftest import InProcessCli


@pytest.fixture
def cli(tmp_path, sqlite_url):
    """A CLI bound to a fresh instance with a migrated SQLite database, run in this process
    (`db upgrade` then only adds the built-in guides to the migrated copy)."""
    srv = InProcessCli(tmp_path, sqlite_url)
    srv.cli("db", "upgrade")
    return srv


def test_first_run_link_is_the_same_link_each_time(cli):
    first = cli.cli("first-run-link").stdout.strip()
    assert "/setup/" in first
    assert cli.cli("first-run-link").stdout.strip() == first  # another process prints this one too
    cli.cli("user", "create", "--email", "kim@example.org", "--role", "organiser", stdin="a good password\n")
    assert cli.cli("first-run-link", check=False).returncode != 0


def test_user_deactivate_and_activate(cli):
    cli.cli("user", "create", "--email", "kim@example.org", "--role", "facilitator", stdin="a good password\n")
    token = cli.cli("token", "create", "--email", "kim@example.org").stdout.strip()
    off = cli.cli("user", "deactivate", "--email", " Kim@Example.org ")
    assert off.returncode == 0 and "kim@example.org" in off.stdout and off.stdout.count("\n") == 1
    assert "kim@example.org\tfacilitator\tinactive" in cli.cli("user", "list").stdout
    # A deactivated user can neither sign in nor use a token (checked in-process on the same database).
    assert _authenticates(cli, "kim@example.org", "a good password", token) == (False, False)
    assert cli.cli("user", "deactivate", "--email", "kim@example.org").returncode == 0  # idempotent
    on = cli.cli("user", "activate", "--email", "kim@example.org")
    assert on.returncode == 0 and "kim@example.org" in on.stdout
    assert _authenticates(cli, "kim@example.org", "a good password", token) == (True, True)
    missing = cli.cli("user", "deactivate", "--email", "nobody@example.org", check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == "dialogrum: no user with the e-mail nobody@example.org"


def _authenticates(cli, email: str, password: str, token: str) -> tuple[bool, bool]:
    from shared import accounts
    from shared.db import get_db
    from tests.conftest import make_app

    app = make_app(cli.database_url, cli.instance)
    with app.app_context():
        db = get_db().session
        result = (accounts.authenticate(db, email, password) is not None,
                  accounts.user_for_token(db, token) is not None)
        db.remove()
    get_db(app).dispose()
    return result


def test_token_list_and_revoke(cli):
    cli.cli("user", "create", "--email", "kim@example.org", "--role", "facilitator", stdin="a good password\n")
    first = cli.cli("token", "create", "--email", "kim@example.org", "--label", "script").stdout.strip()
    second = cli.cli("token", "create", "--email", "kim@example.org").stdout.strip()
    assert _api_status(cli, first) == 200  # used once: its last use is written down
    rows = [line.split("\t") for line in cli.cli("token", "list", "--email", "Kim@Example.org").stdout.splitlines()]
    assert [r[0] for r in rows[1:]] == sorted((r[0] for r in rows[1:]), key=int, reverse=True)
    assert rows[0] == ["id", "created", "last used", "status", "label"]
    listing = {r[4]: r for r in rows[1:]}
    assert set(listing) == {"script", "cli"}
    assert listing["cli"][2] == "never" and listing["script"][2] != "never"
    assert all(r[3] == "active" for r in rows[1:])
    text = cli.cli("token", "list", "--email", "kim@example.org").stdout
    assert first not in text and second not in text and first[4:20] not in text  # never the secret
    # Revoke by the token itself, and by its id: 401 at once.
    assert cli.cli("token", "revoke", first).returncode == 0
    assert _api_status(cli, first) == 401
    assert _api_status(cli, second) == 200
    assert cli.cli("token", "revoke", listing["cli"][0]).returncode == 0
    assert _api_status(cli, second) == 401
    listed = cli.cli("token", "list", "--email", "kim@example.org").stdout.splitlines()[1:]
    statuses = [line.split("\t")[3] for line in listed]
    assert statuses == ["revoked", "revoked"]
    again = cli.cli("token", "revoke", first)
    assert again.returncode == 0 and "already" in again.stdout
    unknown = cli.cli("token", "revoke", "dlg_not-a-token", check=False)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "dialogrum: no such token"
    assert cli.cli("token", "list", "--email", "nobody@example.org", check=False).returncode == 1


def _api_status(cli, token: str) -> int:
    from shared.db import get_db
    from tests.conftest import make_app

    app = make_app(cli.database_url, cli.instance)
    try:
        return app.test_client().get("/api/v1/guides", headers={"Authorization": f"Bearer {token}"}).status_code
    finally:
        get_db(app).dispose()
