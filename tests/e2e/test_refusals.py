"""A phone whose connect the server refuses says why, in the page's language, at 360 px (issue 15):
too many new phones from one address (`rate_limited`, for a server started here with a limit of one
new participant an hour) and a server that cannot reach its message queue (`unavailable`: the
test's own Redis is stopped once the page has loaded). Not "reconnecting": the refusal is real."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shared import meeting as rules
from shared.models import Guide
from shared.uow import Work
from tests.conftest import ServerProcess, start_own_redis
from tests.realtime.test_server import Phone

pytestmark = [pytest.mark.browser, pytest.mark.server]

REASONS = {  # the sv catalogue's words for shared/messages.py's codes
    "rate_limited": "För många förfrågningar. Vänta en stund och försök igen.",
    "unavailable": "Servern kan inte ta emot detta just nu. Försök igen om en stund.",
}
RECONNECTING = "Anslutningen bröts, ansluter igen… Din röst finns kvar."
PHONE = {"width": 360, "height": 740}


class _OwnRedis:
    """A redis-server of this test's own on a free loopback port (the machine's is never touched)."""

    def __init__(self) -> None:
        self.proc, self.url = start_own_redis()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _swedish_session(srv: ServerProcess) -> str:
    """A session of the built-in Swedish guide, made through the rules (without its message queue
    the server's API refuses to); its join code."""
    engine = sa.create_engine(srv.database_url)
    with engine.begin() as conn:
        guide_id = conn.execute(sa.select(Guide.id).where(Guide.language == "sv").order_by(Guide.title)).scalar()
        meeting_id = rules.create_meeting(Work(conn), guide_id=guide_id, title="Dialogmöte", facilitator_id=None)
        code = rules.get_meeting(conn, meeting_id).code
    engine.dispose()
    return code


def _shows_why(page, screenshots, reason: str) -> None:
    status = page.locator("#status")
    expect(status).to_have_text(REASONS[reason], timeout=15_000)
    expect(status).to_have_attribute("data-state", "offline")
    assert RECONNECTING not in status.inner_text()
    box = status.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    page.screenshot(path=str(screenshots / f"phone-refused-{reason}-360-sv.png"), full_page=True)


def test_a_phone_past_the_new_participant_limit_says_so(tmp_path, browser, screenshots):
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'dialogrum.db'}",
                        env={"DIALOGRUM_NEW_PARTICIPANT_LIMIT": "1/hour"}).start()
    ctx = browser.new_context(viewport=PHONE, locale="sv-SE")
    first = None
    try:
        code = _swedish_session(srv)
        # The address's one new participant of the hour: the browser's phone is the second.
        first = Phone(srv.url, {"code": code}).connect()
        assert first.wait_for("welcome")["token"]
        page = ctx.new_page()
        assert page.goto(f"{srv.url}/j/{code}?lang=sv").status == 200
        _shows_why(page, screenshots, "rate_limited")
    finally:
        if first is not None:
            first.close()
        ctx.close()
        srv.stop()


@pytest.mark.redis  # redis-server, as tests/scale/test_paused_redis.py
def test_a_phone_refused_while_redis_is_down_says_the_server_cannot_take_it(tmp_path, browser, screenshots):
    redis = _OwnRedis()
    srv = ServerProcess(tmp_path, f"sqlite:///{tmp_path / 'dialogrum.db'}",
                        env={"DIALOGRUM_MESSAGE_QUEUE": redis.url})
    ctx = browser.new_context(viewport=PHONE, locale="sv-SE")
    try:
        srv.start()
        code = _swedish_session(srv)
        # The page needs Redis too (the join code's rate limit): it loads while Redis is up, and
        # the script that connects is held back in the browser until Redis is gone.
        held: list = []
        page = ctx.new_page()
        page.route("**/static/participant/phone.js*", lambda route: held.append(route))  # noqa: PLW0108 (Playwright tags the handler)
        assert page.goto(f"{srv.url}/j/{code}?lang=sv", wait_until="commit").status == 200
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(50)  # lets Playwright hand the held request over
        assert held, "phone.js was never requested"
        expect(page.locator("#status")).to_have_attribute("data-state", "connecting")
        redis.stop()
        held[0].continue_()
        _shows_why(page, screenshots, "unavailable")
    finally:
        ctx.close()
        srv.stop()
        redis.stop()
