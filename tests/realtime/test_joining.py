"""Joining against a real `dialogrum serve` (issue 15, points 13 and 14): wrong join codes are
throttled per client address and the right code never counts; new participants are paced per
address while reconnects that bring their token never count; the facilitator is told when one
address makes far more participants than the room holds.

The phones are raw Socket.IO clients (tests/realtime/rawsio.py) so that thousands fit in one test
process and each can pick its loopback source address. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import ServerProcess
from tests.realtime.rawsio import Clients, gather_limited, raise_nofile
from tests.realtime.test_server import Meeting, Phone

pytestmark = pytest.mark.server


def _start(tmp_path_factory, **env: str) -> ServerProcess:
    instance = tmp_path_factory.mktemp("joining")
    return ServerProcess(instance, f"sqlite:///{instance / 'dialogrum.db'}", env=env).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    raise_nofile()
    srv = _start(tmp_path_factory)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def token(server) -> str:
    return server.facilitator_token()


def _run(coro):
    return asyncio.run(coro)


async def _with_clients(server: ServerProcess, scenario):
    clients = Clients(server.url)
    try:
        return await scenario(clients)
    finally:
        await clients.close()


def test_a_thousand_phones_reconnect_five_times_from_one_address_as_themselves(server, token):
    """A hall of 1,000 phones joins (through five access points, as a hall does), then all of them
    reconnect from one address five times in a row (flaky Wi-Fi behind one NAT): every phone gets
    back as itself every time. Reconnects that bring their token are not new participants."""
    meeting = Meeting(server, token)
    n = 1000

    async def scenario(clients: Clients):
        first = await gather_limited([clients.join({"code": meeting.code}, address=f"127.0.0.{10 + i // 200}",
                                                   keep_open=True) for i in range(n)])
        await asyncio.gather(*(j.close() for j in first))
        assert [j.refused for j in first if j.refused] == []
        phones = [(j.welcome["token"], j.welcome["participant_id"]) for j in first]
        assert len({pid for _, pid in phones}) == n
        for wave in range(5):
            again = await gather_limited([clients.join({"code": meeting.code, "token": tk}, keep_open=True)
                                          for tk, _ in phones])
            await asyncio.gather(*(j.close() for j in again))
            refused = [j.refused for j in again if j.refused]
            assert refused == [], f"wave {wave + 1}: {len(refused)} refused, e.g. {refused[:3]}"
            assert [(j.welcome["token"], j.welcome["participant_id"]) for j in again] == phones, f"wave {wave + 1}"

    _run(_with_clients(server, scenario))


def test_wrong_codes_are_throttled_per_address_and_the_right_code_never_counts(server, token):
    meeting = Meeting(server, token)
    wrong = "Z" * 6 if meeting.code != "Z" * 6 else "Y" * 6

    async def scenario(clients: Clients):
        # 300 phones behind one address with the right code: nothing counts against them.
        hall = await gather_limited([clients.join({"code": meeting.code}, address="127.0.0.20") for _ in range(300)])
        assert [j.refused for j in hall if j.refused] == []
        assert (await clients.join({"code": wrong}, address="127.0.0.20")).refused == "unknown_session"

        # A guesser: 60 wrong codes a minute are answered, then the address is refused lookups.
        guesses = [await clients.join({"code": wrong}, address="127.0.0.21") for _ in range(60)]
        assert {j.refused for j in guesses} == {"unknown_session"}
        assert (await clients.join({"code": wrong}, address="127.0.0.21")).refused == "rate_limited"
        # ... the right code too (else a hit would still be told apart), unless the phone brings its token.
        assert (await clients.join({"code": meeting.code}, address="127.0.0.21")).refused == "rate_limited"
        mine = hall[0].welcome
        back = await clients.join({"code": meeting.code, "token": mine["token"]}, address="127.0.0.21")
        assert back.welcome == mine
        # Other addresses are not affected.
        assert (await clients.join({"code": meeting.code}, address="127.0.0.22")).welcome

    _run(_with_clients(server, scenario))


@pytest.fixture(scope="module")
def paced(tmp_path_factory) -> Iterator[ServerProcess]:
    srv = _start(tmp_path_factory, DIALOGRUM_NEW_PARTICIPANT_LIMIT="20/minute")
    yield srv
    srv.stop()


def test_new_participants_are_paced_per_address_and_reconnects_never_count(paced):
    meeting = Meeting(paced, paced.facilitator_token())

    async def scenario(clients: Clients):
        made = [await clients.join({"code": meeting.code}, address="127.0.0.30") for _ in range(20)]
        assert all(j.welcome for j in made)
        assert (await clients.join({"code": meeting.code}, address="127.0.0.30")).refused == "rate_limited"
        assert (await clients.join({"code": meeting.code, "token": "not-a-token-of-this-session"},
                                   address="127.0.0.30")).refused == "rate_limited"
        for j in made:  # every one of them comes back as itself, as often as it likes
            for _ in range(2):
                back = await clients.join({"code": meeting.code, "token": j.welcome["token"]}, address="127.0.0.30")
                assert back.welcome == j.welcome
        assert (await clients.join({"code": meeting.code}, address="127.0.0.31")).welcome

    _run(_with_clients(paced, scenario))


def test_the_facilitator_is_warned_when_one_address_makes_far_more_participants_than_the_room_holds(
        server, token):
    hall, stuffed = Meeting(server, token), Meeting(server, token)
    watching = [hall.facilitator(), stuffed.facilitator()]
    try:
        async def scenario(clients: Clients):
            # A hall behind one NAT: 60 phones made from one address, all of them in the room.
            room = await gather_limited([clients.join({"code": hall.code}, address="127.0.0.40", keep_open=True)
                                         for _ in range(60)])
            assert all(j.welcome for j in room)
            # A script: 60 participants from one address, each gone again after joining.
            for _ in range(60):
                assert (await clients.join({"code": stuffed.code}, address="127.0.0.41")).welcome
            await asyncio.gather(*(j.close() for j in room))

        _run(_with_clients(server, scenario))
        warning = watching[1].wait_for("join_warning", lambda w: w["from_one_address"] >= 50)
        assert warning["participants"] < 25
        # A facilitator who opens the console later sees it too.
        later = stuffed.facilitator()
        watching.append(later)
        assert later.wait_for("join_warning")["from_one_address"] >= 50
        # The hall was never flagged (its facilitator got every presence update meanwhile).
        watching[0].wait_for("presence", lambda p: p["participants"] == 0)
        assert watching[0].of("join_warning") == []
    finally:
        for phone in watching:
            phone.close()


def test_the_start_page_throttles_wrong_codes_per_address_too(server, token):
    """The page's code field and /j/<code> count wrong codes with the sockets (one limit)."""
    meeting = Meeting(server, token)
    session = requests.Session()
    page = session.get(server.url + "/", timeout=10).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    statuses = [session.post(server.url + "/", data={"csrf_token": csrf, "code": "ZZZ-ZZZ"}, timeout=10).status_code
                for _ in range(60)]
    assert set(statuses) == {422}
    assert session.post(server.url + "/", data={"csrf_token": csrf, "code": "ZZZ-ZZZ"}, timeout=10).status_code == 429
    assert session.get(f"{server.url}/j/{meeting.code}", timeout=10).status_code == 429
    assert Phone(server.url, {"code": meeting.code}).try_connect() == {"message": "rate_limited"}
