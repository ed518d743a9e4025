"""Page tests run on SQLite only: the pages add no SQL of their own beyond shared/, which the
shared tests run on both databases."""

from __future__ import annotations

import re

import pytest

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def db_url(sqlite_url) -> str:
    """SQLite only for page tests."""
    return sqlite_url


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
    """Sign a user in through the login form; returns the response."""

    def _login(user, password: str = "correct horse"):
        page = client.get("/login")
        form = {"csrf_token": csrf_token(page.text), "email": user.email, "password": password}
        return client.post("/login", data=form)

    return _login
