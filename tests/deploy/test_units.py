"""The systemd units and the Procfile as shipped (issue 13, point 7): `systemd-analyze verify`
accepts them where systemd exists; the unit's and the Procfile's own command lines migrate as a
step of their own and serve on the one port setting, on a host the settings choose."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import BIN, ROOT, free_port

pytestmark = pytest.mark.server

DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/dialogrum/.venv/bin/"
#: Loopback, but not the unit's default: proves the setting is read.
OTHER_HOST = "127.0.0.2"


def _service(path: Path) -> dict[str, list[str]]:
    """The [Service] section: each key with its values, in order."""
    out: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    units = []
    for unit in sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer")):
        # The only change: the installed program's path is this venv's, so that it exists.
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, f"{BIN}/"))
        units.append(unit.name)
    (tmp_path / "dialogrum@5001.service").symlink_to(tmp_path / "dialogrum@.service")
    names = [n for n in units if n != "dialogrum@.service"] + ["dialogrum@5001.service"]
    done = subprocess.run([analyze, "verify", *[str(tmp_path / n) for n in names]], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def test_the_unit_migrates_first_and_serves_on_its_port_and_the_configured_host(tmp_path):
    unit = _service(DEPLOY / "dialogrum@.service")
    assert unit["ExecStartPre"] == [f"{INSTALLED}dialogrum db upgrade"]
    (start,) = unit["ExecStart"]
    assert "--host" not in start and "PORT" not in "".join(unit.get("Environment", []))
    assert unit["Environment"] == ["DIALOGRUM_HOST=127.0.0.1"]
    assert unit["EnvironmentFile"] == ["/etc/dialogrum/dialogrum.env"]

    port = free_port()
    env = _clean_env()
    for assignment in unit["Environment"]:
        env.update([assignment.split("=", 1)])
    # /etc/dialogrum/dialogrum.env: read after Environment=, and it wins.
    env.update({"DIALOGRUM_INSTANCE": str(tmp_path), "DIALOGRUM_HOST": OTHER_HOST,
                "DIALOGRUM_SECRET_KEY": "unit-test-secret"})

    def command(line: str) -> list[str]:
        return shlex.split(line.replace("%i", str(port)).replace(INSTALLED, f"{BIN}/"))

    subprocess.run(command(unit["ExecStartPre"][0]), env=env, cwd=tmp_path, check=True, timeout=120)
    with _serving(command(start), env, tmp_path, OTHER_HOST, port), \
            pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # listening on the configured host only


def test_the_procfile_releases_then_serves_on_port_and_the_configured_host(tmp_path):
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert lines["release"] == "dialogrum db upgrade"
    assert lines["web"].count("$PORT") == 1 and "${DIALOGRUM_HOST:-0.0.0.0}" in lines["web"]
    port = free_port()
    env = _clean_env()
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "PORT": str(port), "DIALOGRUM_HOST": OTHER_HOST,
                "DIALOGRUM_INSTANCE": str(tmp_path), "DIALOGRUM_SECRET_KEY": "procfile-test-secret"})
    subprocess.run(["sh", "-c", lines["release"]], env=env, cwd=tmp_path, check=True, timeout=120)
    with _serving(["sh", "-c", f"exec {lines['web']}"], env, tmp_path, OTHER_HOST, port):
        pass


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DIALOGRUM_") and k != "PORT"}


@contextmanager
def _serving(args: list[str], env: dict[str, str], cwd: Path, host: str, port: int) -> Iterator[None]:
    log = cwd / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if requests.get(f"http://{host}:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, log.read_text()
