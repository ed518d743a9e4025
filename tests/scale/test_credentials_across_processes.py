"""Credentials end on every process (issue 15, points 1 and 3): two `dialogrum serve` processes on
one PostgreSQL database and one Redis; a token revoked and a user deactivated with the CLI answer
401 at once on both, and the sockets they opened are closed on both within a few seconds."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import vote_burst
from test_multiprocess import PG_ADMIN_URL, REDIS_DB, REDIS_URL, Peer, _check_redis, _drop_pg_database, _pg_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.server]

#: The hubs re-check every second; "a few seconds" leaves room for a loaded 2-core machine.
CLOSED_WITHIN = 6.0


@pytest.fixture(scope="module")
def two() -> Iterator[tuple[vote_burst.Server, vote_burst.Server, dict]]:
    _check_redis()
    name = _pg_database()
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="dialogrum-credentials-"))
    env = vote_burst.app_env(tmp, url, extra={"DIALOGRUM_MESSAGE_QUEUE": f"{REDIS_URL}/{REDIS_DB}",
                                              "DIALOGRUM_SECRET_KEY": secrets.token_urlsafe(32)})
    servers: list[vote_burst.Server] = []
    try:
        vote_burst._cli(env, "db", "upgrade")
        servers.append(vote_burst.start_app(env, vote_burst.free_port(), tmp / "a.log"))
        servers.append(vote_burst.start_app(env, vote_burst.free_port(), tmp / "b.log"))
        yield servers[0], servers[1], env
    finally:
        for s in servers:
            s.stop()
        _drop_pg_database(name)
        shutil.rmtree(tmp, ignore_errors=True)


def _status(base: str, token: str) -> int:
    return requests.get(f"{base}/api/v1/guides", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


async def _closed(peer: Peer, what: str) -> float:
    start = time.monotonic()
    while peer.sio.connected:
        if time.monotonic() - start > CLOSED_WITHIN:
            raise AssertionError(f"{what} is still open after {CLOSED_WITHIN}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def test_revocation_and_deactivation_end_sockets_on_every_process(two) -> None:
    a, b, env = two
    email = f"cred-{secrets.token_hex(4)}@example.org"
    first = vote_burst.facilitator_token(env, email)
    second = vote_burst._cli(env, "token", "create", "--email", email).strip()
    meeting = vote_burst.prepare_meeting(a.url, first)

    async def scenario() -> None:
        auth = {"session_id": meeting["id"]}
        on_a = await Peer(a.url, {**auth, "api_token": first}).connect()
        on_b = await Peer(b.url, {**auth, "api_token": first}).connect()
        spare_a = await Peer(a.url, {**auth, "api_token": second}).connect()
        spare_b = await Peer(b.url, {**auth, "api_token": second}).connect()
        try:
            vote_burst._cli(env, "token", "revoke", first)
            assert (_status(a.url, first), _status(b.url, first)) == (401, 401)  # at once, on both
            await _closed(on_a, "the revoked token's socket on A")
            await _closed(on_b, "the revoked token's socket on B")
            assert spare_a.sio.connected and spare_b.sio.connected
            assert (_status(a.url, second), _status(b.url, second)) == (200, 200)
            vote_burst._cli(env, "user", "deactivate", "--email", email)
            assert (_status(a.url, second), _status(b.url, second)) == (401, 401)
            await _closed(spare_a, "the deactivated user's socket on A")
            await _closed(spare_b, "the deactivated user's socket on B")
        finally:
            for peer in (on_a, on_b, spare_a, spare_b):
                if peer.sio.connected:
                    await peer.close()

    asyncio.run(scenario())
