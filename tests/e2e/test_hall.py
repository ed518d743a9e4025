"""A laptop in a hall (issue 10, section 3) against real servers: `dialogrum serve --lan` with an
interface list handed to it (DIALOGRUM_LAN_INTERFACES, documentation addresses of RFC 5737 that
no test sends anything to) picks the address, prints it, still answers on 127.0.0.1, and puts it
in the join link and the projector's QR code; a server whose join link is 127.0.0.1 warns on the
projector without hiding the QR code. Every request goes to 127.0.0.1."""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import ServerProcess

pytestmark = [pytest.mark.server]

#: The default route is on wlan0; docker0 comes first but has none.
INTERFACES = [
    {"name": "lo", "address": "127.0.0.1", "is_loopback": True},
    {"name": "docker0", "address": "198.51.100.1"},
    {"name": "wlan0", "address": "203.0.113.25", "has_default_route": True},
]
SWEDISH_GUIDE = "Förtroendemannadialogen"


@pytest.fixture(scope="module")
def lan_server(tmp_path_factory):
    """`dialogrum serve --lan` without a base URL, handed the interface list above."""
    instance = tmp_path_factory.mktemp("lan")
    srv = ServerProcess(instance, f"sqlite:///{instance / 'dialogrum.db'}", args=("--lan",),
                        env={"DIALOGRUM_BASE_URL": "", "DIALOGRUM_LAN_INTERFACES": json.dumps(INTERFACES)}).start()
    yield srv
    srv.stop()


def new_session(server: ServerProcess, email: str = "fac@example.org") -> dict:
    """A session of the Swedish built-in guide through REST v1 (the facilitator's password is
    conftest's "correct horse")."""
    headers = {"Authorization": f"Bearer {server.facilitator_token(email)}"}
    guides = requests.get(server.url + "/api/v1/guides", headers=headers, timeout=10).json()
    guide = next(g for g in guides if g["title"].startswith(SWEDISH_GUIDE))
    resp = requests.post(server.url + "/api/v1/sessions", headers=headers, timeout=10,
                         json={"guide_id": guide["id"], "title": "Möte i Folkets hus"})
    resp.raise_for_status()
    return resp.json()


def test_serve_lan_prints_the_picked_address_and_answers_on_loopback(lan_server):
    # start() waited for /healthz on 127.0.0.1: --lan listens on every interface, loopback too.
    log = lan_server.log.read_text()
    port = lan_server.port
    assert f"Phones join at http://203.0.113.25:{port} (wlan0)" in log
    assert f"docker0\thttp://198.51.100.1:{port}" in log
    session = new_session(lan_server)
    assert session["join_url"] == f"http://203.0.113.25:{port}/j/{session['code']}"
