"""The account commands of `dialogrum` (issue 15, points 3, 4 and 9a), run as the installed script."""

from __future__ import annotations

import pytest

from tests.conftest import ServerProcess


@pytest.fixture
def cli(tmp_path):
    """A CLI bound to a fresh instance with a migrated SQLite database."""
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
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
