"""The wheel runs on its own (issue 13, point 1): installed into a fresh venv, with no checkout on
the path and no Node.js on PATH, it migrates, serves, and the phone page loads with its scripts
and in the visitor's language (the compiled catalogues are inside)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.server


def _run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_installs_migrates_and_serves_without_a_checkout_or_node(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bindir = venv / "bin"
    # Only the venv on PATH: no node, no npm, nothing of the checkout.
    env = {"PATH": str(bindir), "HOME": os.environ.get("HOME", str(tmp_path)), "LANG": "C.UTF-8",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1",
           "DIALOGRUM_INSTANCE": str(tmp_path / "instance")}
    # The machine's own settings for reaching the package index (mirrors, certificates, proxies).
    env.update({k: v for k, v in os.environ.items()
                if k.startswith(("PIP_", "SSL_CERT_", "REQUESTS_CA_")) or k.lower().endswith("_proxy")})
    assert shutil.which("node", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None
    work = tmp_path / "elsewhere"
    work.mkdir()
    _run([str(bindir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], env, work)

    where = _run([str(bindir / "python"), "-c", "import shared, shared.migrate as m; print(shared.__file__); "
                  "print(m.MIGRATIONS)"], env, work).split()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    assert not any(Path(p).is_relative_to(ROOT) for p in where)

    _run([str(bindir / "dialogrum"), "db", "upgrade"], env, work)
    _run([str(bindir / "dialogrum"), "user", "create", "--email", "fac@example.org", "--role", "facilitator"],
         env, work, stdin="correct horse\n")
    token = _run([str(bindir / "dialogrum"), "token", "create", "--email", "fac@example.org"], env, work).strip()

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([str(bindir / "dialogrum"), "serve", "--port", str(port)], env=env, cwd=work,
                                stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log)
        auth = {"Authorization": f"Bearer {token}"}
        guides = requests.get(f"{base}/api/v1/guides", headers=auth, timeout=10).json()
        assert guides, "the built-in guides were not installed"
        session = requests.post(f"{base}/api/v1/sessions", headers=auth, timeout=10,
                                json={"guide_id": guides[0]["id"], "title": "Hjulet"}).json()
        page = requests.get(session["join_url"].replace(session["join_url"].split("/j/")[0], base),
                            headers={"Accept-Language": "da"}, timeout=10)
        assert page.status_code == 200
        assert 'lang="da"' in page.text
        assets = re.findall(r'<script src="([^"]+)"', page.text) + re.findall(r'<link rel="stylesheet" href="([^"]+)"',
                                                                               page.text)
        assert any("socket.io.min.js" in a for a in assets), assets
        for asset in assets:
            got = requests.get(base + asset, timeout=10)
            assert got.status_code == 200 and len(got.content) > 500, asset
        # The compiled Danish catalogue is in the wheel: the page is translated, not English.
        english = requests.get(base + "/", headers={"Accept-Language": "en"}, timeout=10).text
        danish = requests.get(base + "/", headers={"Accept-Language": "da"}, timeout=10).text
        assert _title(english) != _title(danish)
        handshake = requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=10)
        assert handshake.status_code == 200 and handshake.text.startswith("0{")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0, log.read_text()


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, html[:500]
    return match.group(1).strip()


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited:\n{log.read_text()}"
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer in {timeout}s:\n{log.read_text()}")
