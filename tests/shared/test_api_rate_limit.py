"""The REST API's rate limit (docs/api.md: `429 rate_limited` past the requests a minute per user):
one token past it is refused with the contract's error body; another user's token is not affected.
On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from limits import parse

from shared import api

#: A small stand-in for API_LIMIT (600 a minute): the handler reads `shared.api.API_LIMIT` on every call.
SMALL = parse("3/minute")


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(api, "API_LIMIT", SMALL)
    return SMALL.amount


def test_one_token_past_the_limit_gets_429_and_another_token_does_not(client, make, small_limit):
    mine = {"Authorization": f"Bearer {make.token(make.user())}", "Accept-Language": "en"}
    theirs = {"Authorization": f"Bearer {make.token(make.user())}"}
    for _ in range(small_limit):
        assert client.get("/api/v1/guides", headers=mine).status_code == 200

    refused = client.get("/api/v1/guides", headers=mine)
    assert refused.status_code == 429
    assert refused.mimetype == "application/json"
    assert refused.get_json() == {"error": "rate_limited", "message": "Too many requests. Wait a moment and try again."}
    # The window is the token's user's, not the endpoint's: another endpoint is refused too.
    assert client.get("/api/v1/sessions", headers=mine).status_code == 429

    # Another user's token has its own window.
    for _ in range(small_limit):
        assert client.get("/api/v1/guides", headers=theirs).status_code == 200


def test_a_second_token_of_the_same_user_shares_the_users_window(client, make, small_limit):
    """docs/api.md: the limit is per user, so a user cannot escape it by making more tokens."""
    user = make.user()
    first = {"Authorization": f"Bearer {make.token(user)}"}
    second = {"Authorization": f"Bearer {make.token(user)}"}
    for _ in range(small_limit):
        assert client.get("/api/v1/guides", headers=first).status_code == 200
    assert client.get("/api/v1/guides", headers=second).status_code == 429
