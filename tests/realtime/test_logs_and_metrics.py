"""Logs and metrics (issue 13, point 4; contract v1.1): with `DIALOGRUM_LOG_FORMAT=json` a real
server writes one JSON line per request and per socket connect, disconnect and refusal, each with a
timestamp, the process and a request id; an error is logged once, with the id its 500 body carried;
no token, cookie, password or comment text reaches a line. `/metrics` is not served without
`DIALOGRUM_METRICS_TOKEN`, answers 401 without the bearer, and counts a phone's vote."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from shared import config, logs
from tests.conftest import ServerProcess, make_app
from tests.realtime.test_server import Meeting, Phone

pytestmark = pytest.mark.server

METRICS_TOKEN = secrets.token_hex(16)
PASSWORD = "correct horse"
COMMENT = "Hemmelig kommentar 8271 om lønnen"


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Iterator[ServerProcess]:
    """One server on SQLite logging JSON, with metrics on."""
    instance = tmp_path_factory.mktemp("observed")
    srv = ServerProcess(instance, f"sqlite:///{instance / 'dialogrum.db'}",
                        env={"DIALOGRUM_LOG_FORMAT": "json", "DIALOGRUM_METRICS_TOKEN": METRICS_TOKEN}).start()
    yield srv
    srv.stop()


def lines(srv: ServerProcess) -> list[dict]:
    """The server's JSON log lines (the first-run link is printed on stdout, not logged)."""
    return [json.loads(raw) for raw in srv.log.read_text().splitlines() if raw.startswith("{")]


def wait_for_line(srv: ServerProcess, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in lines(srv) if predicate(line)]
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no such log line; the last ones: {lines(srv)[-5:]}")


def _one_request_line(srv: ServerProcess, resp: requests.Response) -> dict:
    rid = resp.headers["X-Request-ID"]
    return wait_for_line(srv, lambda line: line.get("event") == "http_request" and line["request_id"] == rid)


def test_one_line_per_request_and_socket_and_no_secret_in_any(observed):
    setup_secret = re.search(r"/setup/(\S+)", observed.log.read_text()).group(1)
    token = observed.facilitator_token()
    observed.cli("user", "create", "--email", "boss@example.org", "--role", "organiser", stdin=PASSWORD + "\n")

    # A request: one line with its id, method, path, status and duration; a client's own id is not taken.
    resp = requests.get(observed.url + "/login?next=/x", headers={"X-Request-ID": "forged-id-123"}, timeout=10)
    line = _one_request_line(observed, resp)
    assert resp.headers["X-Request-ID"] != "forged-id-123"
    assert line["method"] == "GET" and line["path"] == "/login" and line["status"] == 200
    assert line["duration_ms"] >= 0 and line["level"] == "INFO" and line["pid"] == observed.proc.pid
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])

    # Secrets in paths are not logged: the first-run link and the projector's key.
    meeting = Meeting(observed, token)
    key = meeting.session["projector_url"].rsplit("/", 1)[1]
    assert _one_request_line(observed, requests.get(f"{observed.url}/p/{key}", timeout=10))["path"] == "/p/…"
    assert _one_request_line(observed, requests.get(f"{observed.url}/setup/{setup_secret}",
                                                    timeout=10))["path"] == "/setup/…"
    # Nor a signed-in organiser's cookie or password.
    http = requests.Session()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', http.get(observed.url + "/login", timeout=10).text)
    form = {"email": "boss@example.org", "password": PASSWORD, "csrf_token": csrf.group(1)}
    signed_in = http.post(observed.url + "/login", data=form, timeout=10, allow_redirects=False)
    assert signed_in.status_code == 302
    http.get(observed.url + "/login", timeout=10)  # the cookie sent back

    # A phone's connect and disconnect: one line each, with the same request id, and its role and session.
    phone = Phone(observed.url, {"code": meeting.code}).connect()
    participant_token = phone.wait_for("welcome")["token"]
    sid = phone.sio.get_sid()
    connected = wait_for_line(observed, lambda line: line.get("event") == "socket_connect" and line["sid"] == sid)
    assert connected["role"] == "participant" and connected["meeting"] == meeting.id
    assert re.fullmatch(r"[0-9a-f]{16}", connected["request_id"])
    meeting.to_kind("prompt")
    phone.wait_for("state", lambda s: s["item"] and s["item"]["kind"] == "prompt")
    assert phone.call("comment", {"item_id": meeting.state()["item"]["id"], "text": COMMENT})["ok"] is True
    phone.close()
    gone = wait_for_line(observed, lambda line: line.get("event") == "socket_disconnect" and line["sid"] == sid)
    # The client says goodbye and closes its websocket: whichever the server notices first.
    assert gone["request_id"] == connected["request_id"] and gone["reason"] in ("client disconnect", "transport close")
    assert gone["role"] == "participant" and gone["meeting"] == meeting.id

    # A refusal: one line with the reason, and who it tried to be, never the code it sent.
    stranger = Phone(observed.url, {"code": "ZZZZ99"})
    assert stranger.try_connect() == {"message": "unknown_session"}
    refused = wait_for_line(observed, lambda line: line.get("event") == "socket_refused")
    assert refused["reason"] == "unknown_session" and refused["role"] == "participant"

    secrets_seen = {"api token": token, "metrics token": METRICS_TOKEN, "participant token": participant_token,
                    "projector key": key, "first-run secret": setup_secret, "password": PASSWORD,
                    "comment": COMMENT, "code sent": "ZZZZ99", **{f"cookie {k}": v for k, v in http.cookies.items()}}
    logged = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines(observed))
    assert {name for name, value in secrets_seen.items() if value in logged} == set()


def test_an_error_is_logged_once_with_the_id_its_500_body_carried(observed, tmp_path):
    token = observed.facilitator_token("errors@example.org")
    # A real unhandled error: the table the guide list reads is gone for a moment.
    db = sqlite3.connect(observed.database_url.removeprefix("sqlite:///"))
    db.execute("ALTER TABLE guides RENAME TO guides_away")
    try:
        resp = requests.get(observed.url + "/api/v1/guides", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    finally:
        db.execute("ALTER TABLE guides_away RENAME TO guides")
        db.close()
    assert resp.status_code == 500
    rid = resp.json()["request_id"]
    assert rid == resp.headers["X-Request-ID"]
    error = wait_for_line(observed, lambda line: line["level"] == "ERROR" and line["request_id"] == rid)
    assert "no such table: guides" in error["exception"]
    assert _one_request_line(observed, resp)["status"] == 500
    # Once: no other line, JSON or not, carries the traceback.
    assert [raw for raw in observed.log.read_text().splitlines() if "no such table: guides" in raw] == [
        json.dumps(error, ensure_ascii=False)]
    # The Socket.IO libraries' errors once too (they used to add a handler of their own).
    requests.get(observed.url + "/socket.io/?EIO=4&transport=polling&sid=nosuchsession", timeout=10)
    wait_for_line(observed, lambda line: "Invalid session nosuchsession" in line["message"])
    assert observed.log.read_text().count("Invalid session nosuchsession") == 1


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{name} {labels} is not in the metrics")


def test_metrics_need_the_token_and_count_a_phones_vote(observed):
    url = observed.url + "/metrics"
    assert requests.get(url, timeout=10).status_code == 401
    wrong = requests.get(url, headers={"Authorization": "Bearer " + "x" * 32}, timeout=10)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")

    def scrape() -> str:
        resp = requests.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
        return resp.text

    meeting = Meeting(observed, observed.facilitator_token("metrics@example.org"))
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    phone = Phone(observed.url, {"code": meeting.code}).connect()
    try:
        before = scrape()
        assert _sample(before, "dialogrum_socket_connections", role="participant") >= 1
        assert _sample(before, "dialogrum_sessions_live") >= 1
        assert _sample(before, "dialogrum_database_up") == 1
        # What the app built while starting is frozen out of the collector's walks (shared/server.py).
        assert _sample(before, "dialogrum_gc_frozen_objects") > 50_000
        assert phone.call("vote", {"item_id": item["id"], "choice": "yes"}) == {"ok": True}
        assert phone.call("vote", {"item_id": "nope", "choice": "yes"})["ok"] is False
        after = scrape()
    finally:
        phone.close()
    assert _sample(after, "dialogrum_votes_total") == _sample(before, "dialogrum_votes_total") + 1
    assert (_sample(after, "dialogrum_ack_seconds_count", event="vote")
            == _sample(before, "dialogrum_ack_seconds_count", event="vote") + 2)
    assert _sample(after, "dialogrum_commands_refused_total", event="vote", error="not_current_item") == 1
    assert _sample(after, "dialogrum_socket_connects_total", role="participant") >= 1
    assert _sample(after, "process_cpu_seconds_total") > 0


# -- in-process: settings and formats ------------------------------------------------------------------


def test_metrics_are_not_served_without_the_setting(sqlite_url, tmp_path):
    assert make_app(sqlite_url, tmp_path).test_client().get("/metrics").status_code == 404
    on = make_app(sqlite_url, tmp_path, METRICS_TOKEN=METRICS_TOKEN).test_client()
    assert on.get("/metrics").status_code == 401
    assert on.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200


def test_settings_are_checked_with_a_clear_message(monkeypatch, tmp_path):
    assert logs.settings({}) == ("INFO", "text")
    assert logs.settings({"DIALOGRUM_LOG_LEVEL": "debug", "DIALOGRUM_LOG_FORMAT": "JSON"}) == ("DEBUG", "json")
    with pytest.raises(SystemExit, match="DIALOGRUM_LOG_FORMAT must be text or json"):
        logs.settings({"DIALOGRUM_LOG_FORMAT": "xml"})
    with pytest.raises(SystemExit, match="DIALOGRUM_LOG_LEVEL must be one of"):
        logs.settings({"DIALOGRUM_LOG_LEVEL": "loud"})
    monkeypatch.setenv("DIALOGRUM_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DIALOGRUM_METRICS_TOKEN", "short")
    with pytest.raises(SystemExit, match="at least 16 characters"):
        config.from_environment()


def test_the_text_line_has_time_level_process_and_request_id_and_cannot_be_forged():
    record = logging.LogRecord("dialogrum.access", logging.INFO, __file__, 1, "%s %s %s %sms",
                               ("GET", "/j/ABC123\nforged line", 200, 3.1), None)
    record.request_id = "ab12cd34ef56ab78"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO pid=\d+ req=ab12cd34ef56ab78 "
                        r"GET /j/ABC123\\x0aforged line 200 3\.1ms", logs.TextFormatter().format(record))


def test_a_database_error_leaves_out_the_values(sqlite_url):
    import sqlalchemy as sa

    from shared.db import Database

    database = Database(sqlite_url)
    with pytest.raises(sa.exc.DBAPIError) as failed, database.begin() as conn:
        conn.execute(sa.text("INSERT INTO comments (id) VALUES (:text)"), {"text": COMMENT})
    database.dispose()
    assert COMMENT not in str(failed.value)
