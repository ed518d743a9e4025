"""The realtime protocol against a real `dialogrum serve` (eventlet) with python-socketio clients."""

from __future__ import annotations

import signal
import threading
import time

import pytest
import requests
import socketio

from tests.conftest import ServerProcess

pytestmark = pytest.mark.server


class Phone:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url: str, auth: dict, headers: dict | None = None) -> None:
        self.events: list[tuple[str, object]] = []
        self.refused: object = None
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._refused)
        self.url, self.auth, self.headers = url, auth, headers or {}

    def _record(self, event, *args):
        with self.lock:
            self.events.append((event, args[0] if args else None))

    def _refused(self, data):
        self.refused = data

    def connect(self) -> Phone:
        self.sio.connect(self.url, auth=self.auth, headers=self.headers, transports=["websocket"], wait_timeout=10)
        return self

    def try_connect(self) -> object:
        """Connect expecting a refusal; returns the connect_error message."""
        with pytest.raises(socketio.exceptions.ConnectionError):
            self.connect()
        return self.refused

    def of(self, event: str) -> list:
        with self.lock:
            return [data for name, data in self.events if name == event]

    def wait_for(self, event: str, predicate=lambda _d: True, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.of(event):
                if predicate(data):
                    return data
            time.sleep(0.02)
        raise AssertionError(f"no {event} matching within {timeout}s; got {self.events[-10:]}")

    def call(self, event: str, data: object) -> object:
        return self.sio.call(event, data, timeout=10)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class Meeting:
    """A session made through the REST API of a running server."""

    def __init__(self, server: ServerProcess, token: str, guide_language: str = "da") -> None:
        self.server, self.token = server, token
        self.headers = {"Authorization": f"Bearer {token}"}
        guides = requests.get(server.url + "/api/v1/guides", headers=self.headers, timeout=10).json()
        guide = next(g for g in guides if g["language"] == guide_language)
        resp = requests.post(server.url + "/api/v1/sessions", headers=self.headers, timeout=10,
                             json={"guide_id": guide["id"], "title": "Møde", "unit": "Region Test"})
        resp.raise_for_status()
        self.session = resp.json()
        self.id, self.code = self.session["id"], self.session["code"]

    def control(self, action: str, **extra) -> dict:
        resp = requests.post(f"{self.server.url}/api/v1/sessions/{self.id}/control", headers=self.headers,
                             json={"action": action, **extra}, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def state(self) -> dict:
        return requests.get(f"{self.server.url}/api/v1/sessions/{self.id}/state", headers=self.headers,
                            timeout=10).json()

    def results(self) -> dict:
        return requests.get(f"{self.server.url}/api/v1/sessions/{self.id}/results", headers=self.headers,
                            timeout=10).json()

    def to_kind(self, kind: str) -> dict:
        state = self.state()
        if state["session"]["status"] == "waiting":
            state = self.control("start")
        while state["item"]["kind"] != kind:
            state = self.control("next")
        return state

    def phone(self, token: str | None = None) -> Phone:
        auth = {"code": self.code} if token is None else {"code": self.code, "token": token}
        return Phone(self.server.url, auth).connect()

    def facilitator(self) -> Phone:
        return Phone(self.server.url, {"api_token": self.token, "session_id": self.id}).connect()

    def projector(self) -> Phone:
        key = self.session["projector_url"].rsplit("/", 1)[1]
        return Phone(self.server.url, {"projector_key": key}).connect()


@pytest.fixture(scope="module")
def token(server):
    return server.facilitator_token()


@pytest.fixture
def meeting(server, token):
    return Meeting(server, token)


@pytest.fixture
def clients():
    made: list[Phone] = []
    yield made
    for c in made:
        c.close()


def test_join_welcome_state_vote_revote_and_ack(meeting, clients):
    phone = meeting.phone()
    clients.append(phone)
    welcome = phone.wait_for("welcome")
    assert set(welcome) == {"token", "participant_id"}
    state = phone.wait_for("state")
    assert state["session"]["status"] == "waiting"
    assert state["item"] is None
    assert state["me"] == {"vote": None, "comments": 0}
    item = meeting.to_kind("consideration")["item"]
    assert phone.call("vote", {"item_id": item["id"], "choice": "yes"}) == {"ok": False, "error": "voting_closed"}
    meeting.control("open_voting")
    phone.wait_for("state", lambda s: s["voting_open"])
    assert phone.call("vote", {"item_id": item["id"], "choice": "yes"}) == {"ok": True}
    # Acknowledged means committed: the REST results see it at once.
    assert meeting.results()["items"][item_index(meeting, item["id"])]["counts"]["yes"] == 1
    assert phone.call("vote", {"item_id": item["id"], "choice": "no"}) == {"ok": True}
    counts = meeting.results()["items"][item_index(meeting, item["id"])]["counts"]
    assert counts == {"yes": 0, "no": 1, "unsure": 0}
    assert phone.call("vote", {"item_id": item["id"], "choice": "unsure"}) == {"ok": False, "error": "invalid_choice"}
    assert phone.call("vote", {"item_id": "nope", "choice": "yes"})["error"] == "not_current_item"
    assert phone.call("vote", "garbage")["error"] == "invalid"
    assert phone.call("vote", {"item_id": item["id"], "choice": ["yes"]})["error"] == "invalid_choice"


def item_index(meeting: Meeting, item_id: str) -> int:
    return [i["id"] for i in meeting.results()["items"]].index(item_id)


def test_refused_connections(server, meeting, clients):
    refused = Phone(server.url, {"code": "ZZZZZZ"}).try_connect()
    assert _message(refused) == "unknown_session"
    assert _message(Phone(server.url, {}).try_connect()) == "unauthorized"
    assert _message(Phone(server.url, {"projector_key": "nope"}).try_connect()) == "unknown_session"
    assert _message(Phone(server.url, {"api_token": "bad-token-xx", "session_id": meeting.id}).try_connect()) \
        == "unauthorized"
    other = server.facilitator_token("other@example.org")
    assert _message(Phone(server.url, {"api_token": other, "session_id": meeting.id}).try_connect()) == "forbidden"
    meeting.control("start")
    meeting.control("end")
    assert _message(Phone(server.url, {"code": meeting.code}).try_connect()) == "session_ended"


def _message(data: object) -> object:
    return data.get("message") if isinstance(data, dict) else data


def test_code_is_matched_case_insensitively_with_dashes(server, meeting, clients):
    code = meeting.code.lower()
    phone = Phone(server.url, {"code": f"{code[:3]}-{code[3:]}"}).connect()
    clients.append(phone)
    assert phone.wait_for("state")["session"]["code"] == meeting.code


def test_only_facilitators_may_control(meeting, clients):
    phone, projector, facilitator = meeting.phone(), meeting.projector(), meeting.facilitator()
    clients.extend([phone, projector, facilitator])
    assert phone.call("control", {"action": "start"}) == {"ok": False, "error": "forbidden"}
    assert projector.call("control", {"action": "start"}) == {"ok": False, "error": "forbidden"}
    assert phone.call("moderate", {"comment_id": 1, "hidden": True})["error"] == "forbidden"
    assert meeting.state()["session"]["status"] == "waiting"
    state = facilitator.call("control", {"action": "start"})
    assert state["session"]["status"] == "live"
    assert facilitator.call("control", {"action": "prev"}) == {"ok": False, "error": "wrong_state"}
    assert facilitator.call("control", {"action": "bogus"})["error"] == "invalid"
    assert facilitator.call("vote", {"item_id": "x", "choice": "yes"})["error"] == "forbidden"
    # Everybody follows: a state after the change.
    phone.wait_for("state", lambda s: s["session"]["status"] == "live")
    projector.wait_for("state", lambda s: s["session"]["status"] == "live")


def test_unknown_events_and_wrong_shapes_are_answered(meeting, clients):
    phone, facilitator = meeting.phone(), meeting.facilitator()
    clients.extend([phone, facilitator])
    assert phone.call("dance", {"x": 1}) == {"ok": False, "error": "unknown_event"}
    assert facilitator.call("control", ["start"]) == {"ok": False, "error": "invalid"}
    assert phone.call("vote", "yes") == {"ok": False, "error": "invalid"}
    assert phone.call("comment", None) == {"ok": False, "error": "invalid"}
    assert meeting.state()["session"]["status"] == "waiting"


def test_results_are_coalesced_exact_and_hidden_from_the_room(meeting, clients):
    facilitator, projector = meeting.facilitator(), meeting.projector()
    clients.extend([facilitator, projector])
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    phones = [meeting.phone() for _ in range(25)]
    clients.extend(phones)
    for p in phones:
        p.wait_for("state", lambda s: s["voting_open"])
    facilitator.wait_for("presence", lambda d: d["participants"] == 25)
    before = len(facilitator.of("results"))
    started = time.monotonic()
    acks: list[object] = []
    threads = [threading.Thread(target=lambda p=p, i=i: acks.append(
        p.call("vote", {"item_id": item["id"], "choice": "yes" if i % 3 else "no"}))) for i, p in enumerate(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert acks == [{"ok": True}] * 25
    final = facilitator.wait_for("results", lambda r: r["voters"] == 25)
    elapsed = time.monotonic() - started
    assert final["counts"] == {"yes": 16, "no": 9, "unsure": 0}
    assert final["participants"] == 25
    time.sleep(0.4)
    received = len(facilitator.of("results")) - before
    # Coalesced: at most one `results` per 100 ms tick while votes arrive (plus the last one),
    # however slow the machine; never one per vote on a fast one.
    assert 1 <= received <= int((elapsed + 0.4) / 0.1) + 2, (received, elapsed)
    if elapsed < 2.0:
        assert received < 25, "results must be coalesced, not one per vote"
    assert facilitator.of("results")[-1]["voters"] == 25, "the last results is exact"
    # Results are hidden: neither phones nor the projector got any.
    assert all(p.of("results") == [] for p in phones)
    assert projector.of("results") == []
    meeting.control("show_results")
    shown = projector.wait_for("results", lambda r: r["voters"] == 25)
    assert shown["counts"]["yes"] == 16
    phones[0].wait_for("results", lambda r: r["voters"] == 25)


def test_reconnect_with_the_token_keeps_participant_and_vote(meeting, clients):
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    phone = meeting.phone()
    welcome = phone.wait_for("welcome")
    assert phone.call("vote", {"item_id": item["id"], "choice": "no"}) == {"ok": True}
    phone.close()
    again = meeting.phone(welcome["token"])
    clients.append(again)
    assert again.wait_for("welcome") == welcome
    assert again.wait_for("state")["me"] == {"vote": "no", "comments": 0}


def test_comments_reach_facilitator_and_room_and_hidden_ones_vanish(meeting, clients):
    facilitator, projector = meeting.facilitator(), meeting.projector()
    phone = meeting.phone()
    clients.extend([facilitator, projector, phone])
    item = meeting.to_kind("prompt")["item"]
    phone.wait_for("state", lambda s: s["item"] and s["item"]["id"] == item["id"])
    text = "<img src=x onerror=alert(1)><b>hej</b>"
    ack = phone.call("comment", {"item_id": item["id"], "text": text})
    assert ack["ok"] is True
    assert isinstance(ack["id"], int)
    seen = facilitator.wait_for("comment", lambda c: c["id"] == ack["id"])
    assert seen["text"] == text  # plain text on the wire; pages escape it
    assert set(seen) >= {"id", "item_id", "text", "created_at"}
    projector.wait_for("comment", lambda c: c["id"] == ack["id"])
    assert phone.call("comment", {"item_id": item["id"], "text": "   "}) == {"ok": False, "error": "empty"}
    assert phone.call("comment", {"item_id": item["id"], "text": "x" * 1001}) == {"ok": False, "error": "too_long"}
    assert phone.call("comment", {"item_id": "nope", "text": "hi"})["error"] == "not_current_item"
    result = facilitator.call("moderate", {"comment_id": ack["id"], "hidden": True})
    assert result["ok"] is True
    projector.wait_for("comment_hidden", lambda c: c["id"] == ack["id"])
    assert facilitator.call("conclude", {"item_id": item["id"], "text": "Flere møder"})["ok"] is True
    later = meeting.projector()
    clients.append(later)
    listed = later.wait_for("comments")
    assert all(c["id"] != ack["id"] for c in listed["comments"])
    exported = meeting.results()["items"][item_index(meeting, item["id"])]
    assert exported["conclusion"] == "Flere møder"
    assert exported["comments"][0]["hidden"] is True


def test_a_batching_projector_gets_the_rooms_new_comments_together(meeting, clients):
    """The projector page asks for `batch`: the room's new comments come as `comments_added`, a
    few rounds a second, every comment once; a projector that does not ask still gets one
    `comment` per comment (v1), and the phones too (issue 14, item 5)."""
    key = meeting.session["projector_url"].rsplit("/", 1)[1]
    batching = Phone(meeting.server.url, {"projector_key": key, "batch": True}).connect()
    classic = meeting.projector()
    phones = [meeting.phone() for _ in range(4)]
    clients.extend([batching, classic, *phones])
    item = meeting.to_kind("prompt")["item"]
    for phone in phones:
        phone.wait_for("state", lambda s: s["item"] and s["item"]["id"] == item["id"])
    began = time.monotonic()
    acks = [phone.call("comment", {"item_id": item["id"], "text": f"idé {n} <b>fra</b> {i}"})
            for n in range(3) for i, phone in enumerate(phones)]
    assert all(a["ok"] for a in acks)
    ids = sorted(a["id"] for a in acks)
    batching.wait_for("comments_added", lambda _d: sorted(
        c["id"] for b in batching.of("comments_added") for c in b["comments"]) == ids)
    classic.wait_for("comment", lambda _d: sorted(c["id"] for c in classic.of("comment")) == ids)
    phones[0].wait_for("comment", lambda _d: sorted(c["id"] for c in phones[0].of("comment")) == ids)
    elapsed = time.monotonic() - began
    assert batching.of("comment") == [], "nothing one by one to the batching projector"
    # At most AUDIENCE_COMMENTS_LIMIT (5) rounds in any second, however slow the machine is.
    assert len(batching.of("comments_added")) <= 5 * (elapsed + 1)
    seen = {c["id"]: c for b in batching.of("comments_added") for c in b["comments"]}
    assert seen[acks[0]["id"]]["text"] == "idé 0 <b>fra</b> 0" and seen[acks[0]["id"]]["item_id"] == item["id"]


def test_vote_rate_limit_over_the_socket(meeting, clients):
    """The socket passes the limiter to the vote rule (60 a minute per phone): without it one
    phone could change its vote as fast as it can send (issue 15, the mutation check)."""
    phone = meeting.phone()
    clients.append(phone)
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    phone.wait_for("state", lambda s: s["voting_open"])
    answers = [phone.call("vote", {"item_id": item["id"], "choice": ("yes", "no")[i % 2]}) for i in range(61)]
    assert all(a == {"ok": True} for a in answers[:60]), answers[:60]
    assert answers[60] == {"ok": False, "error": "rate_limited"}
    # The refused vote changed nothing: the 60th ("no") stands.
    assert meeting.results()["items"][item_index(meeting, item["id"])]["counts"] == {"yes": 0, "no": 1, "unsure": 0}


def test_comment_rate_limit(meeting, clients):
    phone = meeting.phone()
    clients.append(phone)
    item = meeting.to_kind("prompt")["item"]
    answers = [phone.call("comment", {"item_id": item["id"], "text": f"c{i}"}) for i in range(31)]
    assert all(a["ok"] for a in answers[:30])
    assert answers[30] == {"ok": False, "error": "rate_limited"}


def test_presence_is_sent_to_facilitators_not_as_state(meeting, clients):
    facilitator = meeting.facilitator()
    clients.append(facilitator)
    facilitator.wait_for("state")
    states_before = len(facilitator.of("state"))
    phones = [meeting.phone() for _ in range(5)]
    clients.extend(phones)
    facilitator.wait_for("presence", lambda d: d["participants"] == 5)
    assert len(facilitator.of("state")) == states_before
    for p in phones[:2]:
        p.close()
    facilitator.wait_for("presence", lambda d: d["participants"] == 3)


def test_login_cookie_facilitator(server, meeting, clients):
    server.cli("user", "create", "--email", "cookie@example.org", "--role", "organiser",
               stdin="correct horse\n", check=False)
    http = requests.Session()
    page = http.get(server.url + "/login", timeout=10)
    import re

    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert csrf, "the login form carries a CSRF token"
    resp = http.post(server.url + "/login", data={"email": "cookie@example.org", "password": "correct horse",
                                                  "csrf_token": csrf.group(1)}, timeout=10, allow_redirects=False)
    assert resp.status_code == 302
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    fac = Phone(server.url, {"session_id": meeting.id}, headers={"Cookie": cookie}).connect()
    clients.append(fac)
    assert fac.call("control", {"action": "start"})["session"]["status"] == "live"
    assert _message(Phone(server.url, {"session_id": meeting.id}).try_connect()) == "unauthorized"


def test_acknowledged_votes_survive_kill_9(tmp_path, clients):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}").start()
    try:
        token = srv.facilitator_token()
        meeting = Meeting(srv, token)
        item = meeting.to_kind("consideration")["item"]
        meeting.control("open_voting")
        phones = [meeting.phone() for _ in range(20)]
        acks = [p.call("vote", {"item_id": item["id"], "choice": "yes" if i % 2 else "no"})
                for i, p in enumerate(phones)]
        assert acks == [{"ok": True}] * 20
        srv.stop(signal.SIGKILL)
        for p in phones:
            p.close()
        srv.start()
        counts = meeting.results()["items"][item_index(meeting, item["id"])]["counts"]
        assert counts == {"yes": 10, "no": 10, "unsure": 0}
        # And the room carries on after the restart.
        assert meeting.state()["voting_open"] is True
    finally:
        srv.stop()


def test_sigterm_shuts_down_cleanly(tmp_path):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}").start()
    srv.stop(signal.SIGTERM)
    assert srv.proc.returncode == 0
    assert "Dialogrum stopped." in srv.log.read_text()


def _vote_round(srv: ServerProcess, phones: int = 10) -> None:
    """Ten phones vote on a fresh session; the facilitator sees the exact count."""
    meeting = Meeting(srv, srv.facilitator_token())
    facilitator = meeting.facilitator()
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    room = [meeting.phone() for _ in range(phones)]
    try:
        assert [p.call("vote", {"item_id": item["id"], "choice": "yes"}) for p in room] == [{"ok": True}] * phones
        assert facilitator.wait_for("results", lambda r: r["voters"] == phones)["counts"]["yes"] == phones
        facilitator.wait_for("presence", lambda d: d["participants"] == phones)
    finally:
        for c in [facilitator, *room]:
            c.close()


def test_gevent_is_a_working_alternative(tmp_path):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                        env={"DIALOGRUM_ASYNC_MODE": "gevent"}).start()
    try:
        _vote_round(srv)
        assert "(gevent)" in srv.log.read_text()
    finally:
        srv.stop()


@pytest.mark.postgres
def test_realtime_on_postgresql_survives_kill_9(tmp_path):
    from tests.conftest import create_pg_database, drop_pg_database

    url = create_pg_database()
    srv = ServerProcess(tmp_path, url.replace("postgresql+psycopg2://", "postgres://")).start()
    try:
        _vote_round(srv)
        meeting = Meeting(srv, srv.facilitator_token())
        item = meeting.to_kind("consideration")["item"]
        meeting.control("open_voting")
        phones = [meeting.phone() for _ in range(10)]
        assert [p.call("vote", {"item_id": item["id"], "choice": "no"}) for p in phones] == [{"ok": True}] * 10
        srv.stop(signal.SIGKILL)
        for p in phones:
            p.close()
        srv.start()
        assert meeting.results()["items"][item_index(meeting, item["id"])]["counts"]["no"] == 10
    finally:
        srv.stop()
        drop_pg_database(url)


def test_first_run_prints_a_one_time_link_for_the_first_organiser(tmp_path):
    import re

    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}").start()
    try:
        log = srv.log.read_text()
        link = re.search(r"(http://\S+/setup/\S+)", log).group(1)
        http = requests.Session()
        page = http.get(link, timeout=10)
        assert page.status_code == 200
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        resp = http.post(link, timeout=10, allow_redirects=False, data={
            "csrf_token": token, "email": "Kansli@Example.org", "name": "Kansliet",
            "password": "ett långt lösenord", "confirm": "ett långt lösenord"})
        assert resp.status_code == 302
        assert http.get(srv.url + "/sessions", timeout=10, allow_redirects=False).status_code == 200
        # The link is spent, and the organiser can sign in with the chosen password.
        assert requests.get(link, timeout=10).status_code == 404
        fresh = requests.Session()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', fresh.get(srv.url + "/login").text).group(1)
        resp = fresh.post(srv.url + "/login", timeout=10, allow_redirects=False, data={
            "csrf_token": token, "email": "kansli@example.org", "password": "ett långt lösenord"})
        assert resp.status_code == 302
        # A restart prints no link once somebody can sign in.
        srv.stop()
        srv.start()
        # Printed once (the access log's lines name the path with its secret left out).
        assert len(re.findall(r"http://\S+/setup/", srv.log.read_text())) == 1
    finally:
        srv.stop()


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_port_in_use_is_a_one_line_error(tmp_path, server, mode):
    import subprocess

    from tests.conftest import BIN

    busy = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", port=server.port,
                         env={"DIALOGRUM_ASYNC_MODE": mode})
    out = subprocess.run([str(BIN / "dialogrum"), "serve", "--port", str(server.port)], env=busy.env(),
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1
    assert out.stderr.strip().startswith(f"dialogrum: cannot listen on 127.0.0.1:{server.port}:")
    assert "Traceback" not in out.stderr
