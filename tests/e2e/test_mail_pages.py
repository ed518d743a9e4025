"""The users page with e-mail configured, in Chromium against a real server and a real SMTP server
on loopback (issue 12, gap 9): each user's newest mail is shown as sent, not delivered yet (with the
server's answer) or failed, and "send again" delivers a mail the server had put off. Screenshots
in sv and da at 360 and 1280 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ServerProcess
from tests.shared.test_mail import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def office(tmp_path_factory, browser):
    """A server that mails through an aiosmtpd on loopback, and its signed-in organiser."""
    smtp = SmtpServer().start()
    instance = tmp_path_factory.mktemp("mail")
    server = ServerProcess(instance, f"sqlite:///{instance / 'dialogrum.db'}",
                           env={"DIALOGRUM_SMTP_URL": smtp.url, "DIALOGRUM_MAIL_FROM": "dialog@hgf.test"}).start()
    server.cli("user", "create", "--email", "kansli@example.org", "--role", "organiser", "--name", "Kansliet",
               stdin=PASSWORD + "\n")
    yield server, smtp
    server.stop()
    smtp.stop()


def _invite(page, email: str, name: str, language: str) -> None:
    page.get_by_label("E-post", exact=True).fill(email)
    page.get_by_label("Namn").fill(name)
    page.get_by_label("Språk i deras e-post").select_option(language)
    page.get_by_role("button", name="Bjud in med e-post och visa länken").click()
    expect(page.locator(".mail-note")).to_contain_text(f"på väg till {email}")


def test_the_users_page_shows_how_each_mail_went_and_sends_again(office, browser, ui, screenshots):
    server, smtp = office
    smtp.inbox.busy.add("jonas@example.se")
    smtp.inbox.refuse.add("gammal@example.se")
    ctx = ui.scan_context(browser, viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = ctx.new_page()
    ui.sign_in(page, server.url, {"email": "kansli@example.org", "password": PASSWORD}, lang="sv")
    page.goto(f"{server.url}/users?lang=sv")
    _invite(page, "mette@example.dk", "Mette Hansen", "da")
    _invite(page, "jonas@example.se", "Jonas Berg", "sv")
    _invite(page, "gammal@example.se", "Gammal Adress", "sv")
    # The server's sender sends after each commit; the page shows what happened once it has.
    rows = page.locator(".users-table tbody tr")
    mette, jonas, gammal = (rows.filter(has_text=who) for who in ("mette@", "jonas@", "gammal@"))
    for _ in range(100):
        page.goto(f"{server.url}/users?lang=sv")
        if mette.locator(".mail-sent").count() and jonas.locator(".mail-retrying").count() \
                and gammal.locator(".mail-failed").count():
            break
        page.wait_for_timeout(200)
    expect(mette.locator(".mail-status")).to_contain_text("E-post skickad")
    expect(jonas.locator(".mail-status")).to_contain_text("451 4.3.0 Mailbox busy")
    expect(gammal.locator(".mail-status")).to_contain_text("550 5.1.1 No such mailbox here")
    assert [m["Subject"] for m in smtp.messages] == ["Invitation til Dialogrum"]
    assert ui.axe_violations(page) == []
    for lang in ("sv", "da"):
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.url}/users?lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
            page.screenshot(path=str(screenshots / f"users-mail-{lang}-{width}.png"), full_page=True)
    # The server takes Jonas's mail now; "Send again" sends it without waiting for the backoff.
    smtp.inbox.busy.clear()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/users?lang=da")
    button = jonas.get_by_role("button", name="Send e-mailen til Jonas Berg igen")
    assert button.bounding_box()["height"] >= 44
    button.click()
    expect(page.locator(".flash")).to_contain_text("bliver sendt igen")
    # The SMTP server has the message a moment before the sender writes down that it went.
    for _ in range(100):
        page.goto(f"{server.url}/users?lang=da")
        if jonas.locator(".mail-sent").count():
            break
        page.wait_for_timeout(200)
    expect(jonas.locator(".mail-status")).to_contain_text("E-mail sendt")
    assert [m["Subject"] for m in smtp.messages] == ["Invitation til Dialogrum", "Inbjudan till Dialogrum"]
    ctx.close()
