"""Rate limits: the in-process window and the Redis one behave alike."""

from __future__ import annotations

import uuid

import pytest
from limits import parse

from shared.ratelimit import COMMENT_LIMIT, Limiter
from tests.conftest import REDIS_URL, unavailable


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request):
    if request.param == "memory":
        return Limiter("memory://")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        unavailable("Redis", exc)
    return Limiter(f"{REDIS_URL}/14")


def test_thirty_comments_a_minute_then_refused(limiter):
    who = uuid.uuid4().hex
    assert all(limiter.hit(COMMENT_LIMIT, "comment", who) for _ in range(30))
    assert limiter.hit(COMMENT_LIMIT, "comment", who) is False
    assert limiter.hit(COMMENT_LIMIT, "comment", uuid.uuid4().hex) is True


def test_the_window_moves(limiter):
    import time

    limit = parse("2/second")
    who = uuid.uuid4().hex
    assert limiter.hit(limit, "x", who)
    assert limiter.hit(limit, "x", who)
    assert not limiter.hit(limit, "x", who)
    time.sleep(1.1)
    assert limiter.hit(limit, "x", who)


def test_two_limiters_on_one_redis_share_counts():
    """Two processes' limiters on the same Redis see each other's hits."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        unavailable("Redis", exc)
    a, b = Limiter(f"{REDIS_URL}/14"), Limiter(f"{REDIS_URL}/14")
    who = uuid.uuid4().hex
    for i in range(30):
        assert (a if i % 2 else b).hit(COMMENT_LIMIT, "comment", who)
    assert not a.hit(COMMENT_LIMIT, "comment", who)
    assert not b.hit(COMMENT_LIMIT, "comment", who)
