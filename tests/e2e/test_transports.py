"""The phone's Socket.IO transports in Chromium: websocket first, long-polling when a hall's proxy
blocks websockets (issue 14; the choice and its figures are in docs/deploy.md#benchmark).

The blocked websocket is Playwright's: every websocket the page opens is answered by the test,
never reaching the server, with a frame that is not Engine.IO (a proxy in the way). The client
treats that as it treats a refused upgrade (a 403 from a proxy): a transport error while opening,
after which `tryAllTransports` opens long-polling instead.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.realtime.test_server import Meeting, item_index

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def meeting(server):
    m = Meeting(server, server.facilitator_token("transports@example.org"))
    m.to_kind("consideration")
    m.control("open_voting")
    return m


def _phone(browser, ui, meeting, *, block_websocket: bool):
    ctx = browser.new_context(viewport=ui.phone, locale="da-DK")
    page = ctx.new_page()
    seen = {"websocket": 0, "polling": 0}

    def count(kind: str) -> None:
        seen[kind] += 1

    page.on("request", lambda r: count("polling") if "transport=polling" in r.url else None)
    if block_websocket:
        # Answered here, never reaching the server ("?" is no Engine.IO packet).
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: (count("websocket"), ws.send("?")))
    else:
        page.on("websocket", lambda _ws: count("websocket"))
    page.goto(f"{meeting.server.url}/j/{meeting.code}?lang=da")
    return ctx, page, seen


def _vote_yes(page) -> None:
    yes = page.get_by_role("button", name="Ja", exact=True)
    yes.click()
    expect(yes).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#vote-note")).to_contain_text("Din stemme er gemt")


def test_a_phone_opens_a_websocket_at_once(browser, ui, meeting):
    ctx, page, seen = _phone(browser, ui, meeting, block_websocket=False)
    try:
        expect(page.locator("#status")).to_have_attribute("data-state", "voting-open")
        assert page.evaluate("window.Dialogrum.phone.socket.io.engine.transport.name") == "websocket"
        # No long-polling round trips before the socket: one websocket and nothing else.
        assert seen == {"websocket": 1, "polling": 0}
        _vote_yes(page)
    finally:
        ctx.close()


def test_a_phone_whose_websocket_is_blocked_votes_over_long_polling(browser, ui, meeting):
    before = meeting.results()["items"]
    ctx, page, seen = _phone(browser, ui, meeting, block_websocket=True)
    try:
        expect(page.locator("#status")).to_have_attribute("data-state", "voting-open")
        assert page.evaluate("window.Dialogrum.phone.socket.io.engine.transport.name") == "polling"
        assert seen["websocket"] >= 1 and seen["polling"] >= 1, seen
        _vote_yes(page)
    finally:
        ctx.close()
    item = meeting.state()["item"]
    after = meeting.results()["items"][item_index(meeting, item["id"])]
    assert after["counts"]["yes"] == before[item_index(meeting, item["id"])]["counts"]["yes"] + 1
