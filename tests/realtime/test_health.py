"""A process that cannot reach what it depends on says so (issue 15, point 15): `/healthz` checks
the database and the message queue and answers 503 naming the one that fails; with Redis
unreachable the REST API answers the contract's 5xx body and a phone's connect is refused with
`unavailable` instead of getting no answer. Redis "unreachable" is a closed loopback port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
import socketio
import sqlalchemy as sa

from shared import meeting as rules
from shared.uow import Work
from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_app
from tests.realtime.test_server import Phone

pytestmark = pytest.mark.server


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cut_off(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server whose message queue (and so its rate limits) is a Redis that cannot be reached."""
    instance = tmp_path_factory.mktemp("no-redis")
    srv = ServerProcess(instance, f"sqlite:///{instance / 'dialogrum.db'}",
                        env={"DIALOGRUM_MESSAGE_QUEUE": f"redis://127.0.0.1:{closed_port()}/0"})
    srv.start(healthy=False)
    yield srv
    srv.stop()


def test_healthz_names_the_message_queue_when_redis_cannot_be_reached(cut_off):
    resp = requests.get(cut_off.url + "/healthz", timeout=10)
    assert resp.status_code == 503
    assert resp.json() == {"status": "degraded", "failing": ["message_queue"]}


def test_the_api_answers_the_5xx_body_when_redis_cannot_be_reached(cut_off):
    token = cut_off.facilitator_token()
    resp = requests.get(cut_off.url + "/api/v1/guides", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 503
    body = resp.json()
    assert body["error"] == "server_error" and body["request_id"] == resp.headers["X-Request-ID"]
    assert body["message"]
    assert body["request_id"] in (cut_off.log.read_text())


def test_a_phone_is_refused_with_a_clear_error_when_redis_cannot_be_reached(cut_off):
    # The API cannot make a session without Redis (its rate limit): the rules can.
    cut_off.facilitator_token()
    guide_id = cut_off.cli("guide", "list").stdout.split()[0]
    engine = sa.create_engine(cut_off.database_url)
    with engine.begin() as conn:
        mid = rules.create_meeting(Work(conn), guide_id=guide_id, title="Møde", facilitator_id=None)
        code = rules.get_meeting(conn, mid).code
    engine.dispose()
    phone = Phone(cut_off.url, {"code": code})
    # python-socketio raises ConnectionError on a refusal, and also when no answer came within
    # wait_timeout: only a refusal carries the server's message.
    with pytest.raises(socketio.exceptions.ConnectionError):
        phone.sio.connect(cut_off.url, auth=phone.auth, transports=["websocket"], wait_timeout=10)
    assert phone.refused == {"message": "unavailable"}


@pytest.mark.postgres
def test_healthz_names_the_database_when_it_cannot_be_reached(tmp_path):
    url = create_pg_database()
    try:
        app = make_app(url, tmp_path)
        assert app.test_client().get("/healthz").get_json() == {"status": "ok"}
        # The same database URL on a port where no PostgreSQL listens.
        dead = make_app(url.replace(":5432/", f":{closed_port()}/"), tmp_path)
        resp = dead.test_client().get("/healthz")
        assert resp.status_code == 503
        assert resp.get_json() == {"status": "degraded", "failing": ["database"]}
    finally:
        drop_pg_database(url)
