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
