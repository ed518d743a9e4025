"""A paused Redis (`kill -STOP`): connections stay open and nothing answers (issue 15, leftovers).

Two `dialogrum serve` processes on one PostgreSQL database share a Redis that this test starts
itself on a free loopback port (the machine's Redis at 6379 is never touched). While it is paused:

- `/healthz` on both answers 503 naming the message queue;
- a phone's vote and a new phone's connect get an answer (`unavailable`: the rate limits live in
  that Redis), never silence;
- the facilitator's commands are acknowledged after their commit (a conclusion, counted hands),
  although telling the other process through the queue is not possible;
- a step made on process B still reaches a phone on process A (each process reads the session's
  state version from the database; A's broadcast loop must not hang on the queue).

After `kill -CONT` both are healthy again, phones join and vote, and what could not cross the
queue meanwhile (hands counted on A) reaches the facilitator on B.

Before the fix, publishing to the queue waited on the paused Redis without a timeout: the
conclusion's acknowledgement and A's broadcast loop hung until Redis was continued.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import sqlalchemy as sa
import vote_burst

from tests.conftest import PG_ADMIN_URL, start_own_redis
from tests.scale.test_multiprocess import _drop_pg_database, _pg_database, until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.server]

#: How long any single answer may take here: "within a few seconds", with room for a busy machine.
ANSWER = 10.0


class Client:
    """A Socket.IO client that records events and the reason of a refused connect."""

    def __init__(self, url: str, auth: dict) -> None:
        self.url, self.auth = url, auth
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self.refused: Any = None
        for event in ("welcome", "state", "results", "presence"):
            self.sio.on(event, self._recorder(event))
        self.sio.on("connect_error", self._refuse)

    def _recorder(self, event: str):
        def record(data: Any = None) -> None:
            self.events[event].append(data)

        return record

    def _refuse(self, data: Any = None) -> None:
        self.refused = data

    async def connect(self) -> Client:
        await self.sio.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=ANSWER)
        return self

    async def call(self, event: str, data: dict) -> Any:
        return await self.sio.call(event, data, timeout=ANSWER)

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest.fixture(scope="module")
def own_redis() -> Iterator[tuple[subprocess.Popen, str]]:
    """A redis-server of this test's own, on a free loopback port, without persistence."""
    proc, url = start_own_redis()
    yield proc, url
    os.kill(proc.pid, signal.SIGCONT)  # never leave it stopped
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def pair(own_redis) -> Iterator[tuple[vote_burst.Server, vote_burst.Server, str]]:
    """Processes A and B on one PostgreSQL database and the test's own Redis."""
    _proc, redis_url = own_redis
    name = _pg_database()
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="dialogrum-paused-"))
    secret = secrets.token_urlsafe(32)
    servers: list[vote_burst.Server] = []
    try:
        def env(instance: str) -> dict:
            (tmp / instance).mkdir(exist_ok=True)
            return vote_burst.app_env(tmp / instance, url, extra={
                "DIALOGRUM_MESSAGE_QUEUE": redis_url, "DIALOGRUM_SECRET_KEY": secret})

        token = vote_burst.facilitator_token(env("a"), f"paused-{secrets.token_hex(4)}@example.org")
        servers.append(vote_burst.start_app(env("a"), vote_burst.free_port(), tmp / "a.log"))
        servers.append(vote_burst.start_app(env("b"), vote_burst.free_port(), tmp / "b.log"))
        yield servers[0], servers[1], token
    finally:
        for s in servers:
            s.stop()
        _drop_pg_database(name)
        shutil.rmtree(tmp, ignore_errors=True)


def _health(url: str) -> tuple[int, dict]:
    resp = requests.get(url + "/healthz", timeout=ANSWER)
    return resp.status_code, resp.json()


def test_a_paused_redis_is_told_and_nothing_hangs(own_redis, pair) -> None:
    proc, _url = own_redis
    a, b, token = pair
    meeting = vote_burst.prepare_meeting(a.url, token)
    item_id, code = meeting["item_id"], meeting["code"]
    assert _health(a.url) == (200, {"status": "ok"})

    async def scenario() -> None:
        fac_a = await Client(a.url, {"api_token": token, "session_id": meeting["id"]}).connect()
        fac_b = await Client(b.url, {"api_token": token, "session_id": meeting["id"]}).connect()
        phone_a = await Client(a.url, {"code": code}).connect()
        phone_b = await Client(b.url, {"code": code}).connect()
        try:
            assert await phone_b.call("vote", {"item_id": item_id, "choice": "yes"}) == {"ok": True}
            await until(lambda: any(r["voters"] == 1 for r in fac_a.events["results"]), "the vote on A")

            os.kill(proc.pid, signal.SIGSTOP)
            loop = asyncio.get_running_loop()
            for server in (a, b):
                assert await loop.run_in_executor(None, _health, server.url) == (
                    503, {"status": "degraded", "failing": ["message_queue"]})

            # Votes: the rate limits cannot be asked, so the phone is told, not left waiting.
            assert await phone_a.call("vote", {"item_id": item_id, "choice": "no"}) == {
                "ok": False, "error": "unavailable"}

            # A step on B reaches the phone on A (A's loop reads the state from the database).
            state = await fac_b.call("control", {"action": "close_voting"})
            assert state["voting_open"] is False
            await until(lambda: any(s["voting_open"] is False for s in phone_a.events["state"]),
                        "the step made on B at the phone on A", timeout=ANSWER)

            # The facilitator's commands are acknowledged after their commit.
            ack = await fac_a.call("conclude", {"item_id": item_id, "text": "Ja, mest"})
            assert ack["ok"] is True, ack
            hands = await fac_a.call("set_hands", {"item_id": item_id, "counts": {"yes": 0, "no": 4}})
            assert hands["ok"] is True, hands
            # ... and A's loop, which had the hands' counts to send, still carries B's next step.
            assert (await fac_b.call("control", {"action": "open_voting"}))["voting_open"] is True
            await until(lambda: phone_a.events["state"][-1]["voting_open"] is True,
                        "the next step made on B at the phone on A", timeout=ANSWER)

            # A new phone gets a clear answer.
            late = Client(b.url, {"code": code})
            with pytest.raises(socketio.exceptions.ConnectionError):
                await late.connect()
            assert late.refused == {"message": "unavailable"}

            os.kill(proc.pid, signal.SIGCONT)
            for server in (a, b):
                await until(lambda s=server: _health(s.url)[0] == 200, f"{server.url} healthy again",
                            timeout=ANSWER)
            # What could not cross meanwhile: the hands counted on A reach the facilitator on B.
            await until(lambda: any(r["item_id"] == item_id and r.get("hands", {}).get("no") == 4
                                    for r in fac_b.events["results"]),
                        "the hands counted on A during the pause at the facilitator on B", timeout=ANSWER)
            again = await Client(b.url, {"code": code}).connect()
            assert await again.call("vote", {"item_id": item_id, "choice": "no"}) == {"ok": True}
            # Two phones voted (yes, no) and four hands were counted "no": `counts` and `voters` hold both.
            await until(lambda: any(r["counts"] == {"yes": 1, "no": 5, "unsure": 0} and r["voters"] == 6
                                    for r in fac_a.events["results"]),
                        "the vote on B after the pause at the facilitator on A", timeout=ANSWER)
            await again.close()
        finally:
            os.kill(proc.pid, signal.SIGCONT)
            for c in (fac_a, fac_b, phone_a, phone_b):
                await c.close()

    asyncio.run(scenario())
