"""Page tests run on SQLite only: the pages add no SQL of their own beyond shared/, which the
shared tests run on both databases. `csrf` and `login` come from tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(sqlite_url) -> str:
    """SQLite only for page tests."""
    return sqlite_url
