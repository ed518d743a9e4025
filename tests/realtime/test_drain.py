"""Drain on SIGTERM (issue 13, point 3; docs/deploy.md#upgrade): the process refuses new
connections at once, still answers the request in progress, and then exits cleanly. (Phones moving
to another process through nginx: tests/deploy/test_nginx.py.)"""

from __future__ import annotations

import signal
import socket
import time

import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.server


def test_a_draining_server_refuses_new_connections_and_answers_the_request_in_progress(tmp_path):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}").start()
    try:
        body = b"email=a%40b.org&password=x"
        slow = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
        # A request whose body is still on its way: the server is reading it when SIGTERM comes.
        slow.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while True:  # the listening socket goes at once, while the process is still at work
            assert srv.proc.poll() is None, srv.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() < deadline, "a draining server still accepts connections"
            time.sleep(0.05)
        slow.sendall(body[10:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        slow.close()
        # Answered in full (the form lacks its CSRF token: 400, the styled page).
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"</html>" in answer
        assert srv.proc.wait(15) == 0
        log = srv.log.read_text()
        assert "Dialogrum drains" in log and log.rstrip().endswith("Dialogrum stopped.")
    finally:
        srv.stop()
