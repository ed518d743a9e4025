"""A laptop in a hall (issue 10, section 3) against real servers: `dialogrum serve --lan` with an
interface list handed to it (DIALOGRUM_LAN_INTERFACES, documentation addresses of RFC 5737 that
no test sends anything to) picks the address, prints it, still answers on 127.0.0.1, and puts it
in the join link and the projector's QR code; a server whose join link is 127.0.0.1 warns on the
projector without hiding the QR code. Every request goes to 127.0.0.1."""

from __future__ import annotations

import io
import json

import pytest
import requests
from playwright.sync_api import expect

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


def qr_codes(page, selector: str) -> list[str]:
    """What the QR codes in a screenshot of one element say."""
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator(selector).screenshot())))]


def test_serve_lan_prints_the_picked_address_and_answers_on_loopback(lan_server):
    # start() waited for /healthz on 127.0.0.1: --lan listens on every interface, loopback too.
    log = lan_server.log.read_text()
    port = lan_server.port
    assert f"Phones join at http://203.0.113.25:{port} (wlan0)" in log
    assert f"docker0\thttp://198.51.100.1:{port}" in log
    session = new_session(lan_server)
    assert session["join_url"] == f"http://203.0.113.25:{port}/j/{session['code']}"


@pytest.mark.browser
def test_the_projector_qr_says_the_detected_address_and_only_a_loopback_link_warns(lan_server, server, browser,
                                                                                   ui, screenshots):
    # serve --lan: the QR code on the projector is the detected address; no warning anywhere.
    session = new_session(lan_server, "lan@example.org")
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="sv-SE")
    projector = ctx.new_page()
    projector.goto(lan_server.url + "/p/" + session["projector_url"].rsplit("/", 1)[1])
    expect(projector.locator(".proj-url")).to_have_text(f"203.0.113.25:{lan_server.port}")
    assert qr_codes(projector, ".proj-qr") == [f"http://203.0.113.25:{lan_server.port}/j/{session['code']}"]
    assert projector.locator("#lan-warning").count() == 0
    console = ctx.new_page()
    ui.sign_in(console, lan_server.url, {"email": "lan@example.org", "password": "correct horse"}, lang="sv")
    console.goto(f"{lan_server.url}/console/{session['id']}?lang=sv")
    assert console.locator("#lan-warning").count() == 0
    # The check: 203.0.113.25 is not this machine's address, so the server does not try it.
    console.get_by_role("link", name="Kontrollera deltagarlänken").click()
    expect(console.locator("#check-results [data-outcome]")).to_have_attribute("data-outcome", "not_tried")
    console.screenshot(path=str(screenshots / "hall-join-check-sv.png"), full_page=True)
    # Run again from the sessions overview: a new console, with a new code, says so.
    console.goto(f"{lan_server.url}/sessions?lang=sv")
    console.get_by_role("button", name="Kör Möte i Folkets hus igen").click()
    expect(console.locator(".flash-success")).to_contain_text("Ett nytt möte av ”Möte i Folkets hus”")
    assert f"/console/{session['id']}" not in console.url
    expect(console.locator(".join-code")).not_to_have_text(session["code"])
    console.set_viewport_size({"width": 360, "height": 740})
    console.goto(f"{lan_server.url}/sessions?lang=sv")
    console.screenshot(path=str(screenshots / "hall-sessions-run-again-sv-360.png"), full_page=True)
    ctx.close()

    # A join link on 127.0.0.1: the projector warns, and the QR code stays whole and readable.
    session = new_session(server)
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="sv-SE")
    projector = ctx.new_page()
    projector.goto(server.url + "/p/" + session["projector_url"].rsplit("/", 1)[1] + "?lang=sv")
    warning = projector.locator("#lan-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Telefonerna kan inte nå den här deltagarlänken")
    expect(warning).to_contain_text("dialogrum serve --lan")
    qr, box = projector.locator(".proj-qr").bounding_box(), warning.bounding_box()
    assert qr["y"] >= box["y"] + box["height"] and qr["y"] + qr["height"] <= 720  # below it, not cut off
    assert qr_codes(projector, ".proj-qr") == [session["join_url"]]
    projector.screenshot(path=str(screenshots / "hall-projector-loopback-sv.png"))
    ctx.close()
