"""The shipped nginx recipe, run as it is (ports and paths swapped) in front of two processes on
PostgreSQL and Redis, with a self-signed certificate (issue 13, points 3 and 6): the redirect to
HTTPS, HSTS, Secure cookies through the trusted proxy, a phone over wss, and a rolling restart
without a 502. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import (
    REDIS_URL,
    ROOT,
    ServerProcess,
    create_pg_database,
    csrf_token,
    drop_pg_database,
    free_port,
    unavailable,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.server]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
METRICS_TOKEN = "metrics-" + "0" * 24
RECIPE = ROOT / "deploy" / "nginx.conf"


@dataclass
class Stack:
    a: ServerProcess
    b: ServerProcess
    http: int
    https: int
    cert: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, verify=str(self.cert), timeout=10, **kwargs)


def _swap(text: str, old: str, new: str) -> str:
    """Replace one line of the recipe; fails when the recipe no longer has it (update the test)."""
    assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r}"
    return text.replace(old, new)


def recipe_for(tmp: Path, http: int, https: int, ports: tuple[int, int], cert: Path, key: Path) -> str:
    """deploy/nginx.conf with this test's ports, certificate and paths, nothing else changed."""
    text = RECIPE.read_text(encoding="utf-8")
    text = _swap(text, "server 127.0.0.1:5001 max_fails=0;", f"server 127.0.0.1:{ports[0]} max_fails=0;")
    text = _swap(text, "server 127.0.0.1:5002 max_fails=0;", f"server 127.0.0.1:{ports[1]} max_fails=0;")
    for gone in ("    server 127.0.0.1:5003 max_fails=0;\n", "    server 127.0.0.1:5004 max_fails=0;\n",
                 "    listen [::]:80;\n", "    listen [::]:443 ssl http2;\n"):
        text = _swap(text, gone, "")
    text = _swap(text, "    listen 80;", f"    listen 127.0.0.1:{http};")
    text = _swap(text, "    listen 443 ssl http2;", f"    listen 127.0.0.1:{https} ssl http2;")
    # The redirect names the HTTPS port only because the test's is not 443.
    text = _swap(text, "return 301 https://$host$request_uri;", f"return 301 https://$host:{https}$request_uri;")
    text = _swap(text, "/etc/letsencrypt/live/dialog.example.org/fullchain.pem", str(cert))
    text = _swap(text, "/etc/letsencrypt/live/dialog.example.org/privkey.pem", str(key))
    return _swap(text, "root /var/www/html;", f"root {tmp / 'acme'};")


def _main_conf(tmp: Path, recipe: Path) -> Path:
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};" for kind in kinds)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""daemon off;
worker_processes 1;
pid {tmp / 'nginx.pid'};
error_log {tmp / 'error.log'} warn;
events {{ worker_connections 1024; }}  # a hall of 100 phones: two connections each
http {{
    access_log off;
{temp}
    include {recipe};
}}
""", encoding="utf-8")
    return conf


def _wait_for(url: str, cert: Path, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{log.read_text() if log.exists() else ''}")
        try:
            requests.get(url, verify=str(cert), timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("nginx did not answer")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not os.path.exists(NGINX):
        unavailable("nginx (make test installs it: scripts/ensure-nginx.sh)", FileNotFoundError(NGINX))
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    http, https = free_port(), free_port()
    url = create_pg_database()
    env = {"DIALOGRUM_TRUST_PROXY": "1", "DIALOGRUM_MESSAGE_QUEUE": f"{REDIS_URL}/11",
           "DIALOGRUM_BASE_URL": f"https://127.0.0.1:{https}", "DIALOGRUM_METRICS_TOKEN": METRICS_TOKEN}
    a = ServerProcess(tmp / "a", url, env=env)
    b = ServerProcess(tmp / "b", url, env=env)
    proc = None
    try:
        a.start()
        b.start()
        recipe = tmp / "dialogrum.conf"
        recipe.write_text(recipe_for(tmp, http, https, (a.port, b.port), cert, key), encoding="utf-8")
        conf = _main_conf(tmp, recipe)
        checked = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                                 capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, checked.stderr
        proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(f"https://127.0.0.1:{https}/healthz", cert, proc, tmp / "error.log")
        yield Stack(a, b, http, https, cert)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        a.stop()
        b.stop()
        drop_pg_database(url)


def test_plain_http_redirects_to_https(stack: Stack) -> None:
    resp = requests.get(f"http://127.0.0.1:{stack.http}/j/ABC123?lang=da", allow_redirects=False, timeout=10)
    assert resp.status_code == 301
    assert resp.headers["Location"] == f"https://127.0.0.1:{stack.https}/j/ABC123?lang=da"


def test_https_with_hsts_and_a_secure_login_cookie(stack: Stack) -> None:
    stack.a.cli("user", "create", "--email", "tls@example.org", "--role", "organiser", stdin="correct horse\n")
    browser = requests.Session()
    verify = str(stack.cert)  # per request: a session's `verify` loses to REQUESTS_CA_BUNDLE
    page = browser.get(stack.url + "/login", timeout=10, verify=verify)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    # A browser sends the Referer; over HTTPS the CSRF check requires it to be this site.
    resp = browser.post(stack.url + "/login", timeout=10, allow_redirects=False, verify=verify,
                        headers={"Referer": stack.url + "/login"},
                        data={"csrf_token": csrf_token(page.text), "email": "tls@example.org",
                              "password": "correct horse"})
    assert resp.status_code == 302, resp.text[:500]
    cookie = next(c for c in resp.raw.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert re.search(r";\s*Secure", cookie, re.IGNORECASE), cookie
    # The app builds its links from what the proxy forwarded: https and nginx's port.
    assert resp.headers["Location"].startswith(("/", stack.url))
    assert browser.get(stack.url + "/sessions", timeout=10, verify=verify).status_code == 200


def test_a_phone_votes_over_wss(stack: Stack) -> None:
    import socketio

    from tests.realtime.test_server import Meeting, item_index

    meeting = Meeting(stack.a, stack.a.facilitator_token("tls-fac@example.org"))
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    phone = socketio.Client(reconnection=False, ssl_verify=False)  # loopback, the test's own certificate
    states: list[dict] = []
    phone.on("state", states.append)
    try:
        # The websocket client sends Origin: https://127.0.0.1:<nginx's port>, as a browser would;
        # the same-origin check passes only if nginx forwards Host and the scheme correctly.
        phone.connect(stack.url, transports=["websocket"], auth={"code": meeting.code}, wait_timeout=10)
        assert phone.transport() == "websocket"
        assert phone.call("vote", {"item_id": item["id"], "choice": "yes"}, timeout=10) == {"ok": True}
    finally:
        phone.disconnect()
    assert states and states[-1]["voting_open"] is True
    assert meeting.results()["items"][item_index(meeting, item["id"])]["counts"]["yes"] == 1


def test_a_rolling_restart_answers_no_502(stack: Stack) -> None:
    """Stop one process, then restart it and stop the other at once: with nginx's default
    max_fails=1/fail_timeout=10s the first one would still count as down and nginx would answer
    502 "no live upstream"; the recipe's max_fails=0 sends the requests to whichever answers."""
    def statuses() -> list[int]:
        return [stack.get("/healthz").status_code for _ in range(10)]

    try:
        stack.a.stop()
        assert statuses() == [200] * 10
        stack.a.start()
        stack.b.stop()
        assert statuses() == [200] * 10
    finally:
        stack.a.start() if stack.a.proc is None or stack.a.proc.poll() is not None else None
        stack.b.start()


def test_one_request_id_for_nginx_and_dialogrum_and_metrics_only_inside(stack: Stack) -> None:
    # nginx's $request_id is 32 hex digits, Dialogrum's own 16: the trusted proxy's id was taken.
    assert re.fullmatch(r"[0-9a-f]{32}", stack.get("/healthz").headers["X-Request-ID"])
    # Prometheus scrapes each process on its port; through the proxy there is no /metrics.
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert requests.get(stack.a.url + "/metrics", headers=bearer, timeout=10).status_code == 200
    assert stack.get("/metrics", headers=bearer).status_code == 404


def _phones_on(srv: ServerProcess) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(srv.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "dialogrum_socket_connections" and s.labels["role"] == "participant")


class Hall:
    """Phones on one asyncio loop in a thread (python-socketio's AsyncClient): they keep their
    sockets and reconnect by themselves, sending their participant token back as the phone's page
    does, while the test stops processes."""

    def __init__(self, url: str, code: str, size: int) -> None:
        import asyncio
        import threading

        self.url, self.code, self.size = url, code, size
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.welcomes: list[list[str]] = [[] for _ in range(size)]
        self.phones = self.run(self._make())

    def run(self, coro, timeout: float = 120):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _make(self) -> list:
        import socketio

        phones = []
        for i in range(self.size):
            phone = socketio.AsyncClient(reconnection_delay=0.2, reconnection_delay_max=1, ssl_verify=False)
            phone.auth = {"code": self.code}

            async def welcome(data, i=i, phone=phone):
                self.welcomes[i].append(data["participant_id"])
                phone.auth["token"] = data["token"]

            phone.on("welcome", welcome)
            phones.append(phone)
        return phones

    def connect(self) -> None:
        import asyncio

        async def connect_all():
            await asyncio.gather(*(p.connect(self.url, transports=["websocket"], auth=p.auth, wait_timeout=30)
                                   for p in self.phones))
        self.run(connect_all())

    def welcomed(self, times: int, timeout: float = 60) -> None:
        """Every phone was welcomed `times` times, each time as the same participant."""
        deadline = time.monotonic() + timeout
        while any(len(w) < times for w in self.welcomes) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [len(w) for w in self.welcomes] == [times] * self.size
        assert all(len(set(w)) == 1 for w in self.welcomes)

    def vote(self, item_id: str, choice: str) -> list:
        import asyncio

        async def vote_all():
            return await asyncio.gather(*(p.call("vote", {"item_id": item_id, "choice": choice}, timeout=30)
                                          for p in self.phones))
        return self.run(vote_all())

    def close(self) -> None:
        import asyncio

        async def close_all():
            await asyncio.gather(*(p.disconnect() for p in self.phones), return_exceptions=True)
        self.run(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


HALL = 100


def test_a_rolling_restart_under_a_live_meeting_of_100_phones(stack: Stack) -> None:
    """SIGTERM drains (docs/deploy.md#upgrade): the process stops accepting, drops its sockets'
    transports and exits; its phones reconnect through nginx to the other process as the same
    participants and vote there. Both processes in turn, as a rolling restart does."""
    from tests.realtime.test_server import Meeting, item_index

    meeting = Meeting(stack.a, stack.a.facilitator_token("drain@example.org"))
    item = meeting.to_kind("consideration")["item"]
    meeting.control("open_voting")
    hall = Hall(stack.url, meeting.code, HALL)
    try:
        hall.connect()
        hall.welcomed(1)
        # One client address: ip_hash puts the whole hall on one process.
        first, other = (stack.a, stack.b) if _phones_on(stack.a) == HALL else (stack.b, stack.a)
        assert (_phones_on(first), _phones_on(other)) == (HALL, 0)
        assert hall.vote(item["id"], "no") == [{"ok": True}] * HALL
        for rounds, (stopping, serving) in enumerate(((first, other), (other, first)), start=2):
            stopping.stop()  # SIGTERM
            assert stopping.proc.returncode == 0
            assert "Dialogrum drains" in stopping.log.read_text()
            hall.welcomed(rounds)
            assert _phones_on(serving) == HALL
            assert hall.vote(item["id"], "yes" if rounds == 2 else "no") == [{"ok": True}] * HALL
            stopping.start()
        counts = meeting.results()["items"][item_index(meeting, item["id"])]["counts"]
        assert counts == {"yes": 0, "no": HALL, "unsure": 0}
    finally:
        hall.close()
        for srv in (stack.a, stack.b):
            if srv.proc is None or srv.proc.poll() is not None:
                srv.start()
