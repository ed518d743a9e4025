"""The facilitator's notes, the countdown and approve first in Chromium (issue 11, points 2 and 4):
a Danish console, a 1920x1080 projector and a Swedish 360 px phone against a real server."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

GUIDE = {
    "title": "Nedtælling og noter",
    "language": "da",
    "sections": [{
        "title": "Fællesskab", "notes": "Husk at byde velkommen.", "duration": 20,
        "items": [
            {"kind": "info", "title": "Formål", "text": "Derfor mødes vi.",
             "notes": "Sig det kort.\nSpørg salen om <b>ordet</b>.", "duration": 3},
            {"kind": "prompt", "text": "Hvad skal vi gøre mere af?"},
        ],
    }],
}


@pytest.fixture(scope="module")
def room(server, browser, facilitator, ui, tmp_path_factory):
    path = tmp_path_factory.mktemp("guide") / "noter.json"
    path.write_text(json.dumps(GUIDE), encoding="utf-8")
    server.cli("guide", "import", str(path))
    console_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="da-DK")
    console = console_ctx.new_page()
    ui.sign_in(console, server.url, facilitator, lang="da")
    console.get_by_label("Guide").select_option(label=GUIDE["title"])
    console.get_by_label("Titel").fill("Tid og godkendelse")
    console.get_by_label(re.compile("^Kommentarer venter på min godkendelse")).check()
    code = ui.open_console(console)
    projector_ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="da-DK")
    projector = projector_ctx.new_page()
    errors: list[str] = []
    for page in (console, projector):
        page.on("pageerror", lambda e: errors.append(str(e)))
    projector.goto(server.url + console.locator("#open-projector").get_attribute("href"))
    phone_ctx = browser.new_context(viewport=dict(ui.phone), is_mobile=True, has_touch=True)
    phone = phone_ctx.new_page()
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.goto(f"{server.url}/j/{code}?lang=sv")
    expect(phone.locator("#status")).to_have_attribute("data-state", "waiting")
    yield console, projector, phone
    assert errors == []
    for ctx in (console_ctx, projector_ctx, phone_ctx):
        ctx.close()


def seconds(text: str) -> int:
    minutes, secs = text.strip().split(":")
    return int(minutes) * 60 + int(secs)


def run_out(server, code: str) -> None:
    """Pretend the running countdown started ten minutes ago (rather than waiting three)."""
    engine = sa.create_engine(server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meetings SET timer_started_at = :t WHERE code = :code"),
                     {"t": dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10), "code": code})
    engine.dispose()


def test_the_console_times_the_item_with_its_notes_and_the_projector_shows_it(server, room, screenshots):
    console, projector, phone = room
    console.get_by_role("button", name="Start mødet").click()
    notes = console.locator("#notes-box")
    expect(notes.get_by_role("heading", name="Noter til mødelederen")).to_be_visible()
    # Escaped and kept as written, the section's too; never on the projector or the phone.
    expect(notes).to_contain_text("Spørg salen om <b>ordet</b>.")
    expect(notes).to_contain_text("Husk at byde velkommen.")
    expect(notes).to_contain_text("Foreslået tid til dette punkt: 3 minutter")
    expect(notes).to_contain_text("Foreslået tid til afsnittet: 20 minutter")
    for page in (projector, phone):
        expect(page.locator("body")).not_to_contain_text("Husk at byde")
    display = console.locator("#timer-display")
    expect(display).to_have_text("3:00")
    run = console.get_by_role("button", name="Start nedtællingen")
    expect(run).to_have_attribute("aria-pressed", "false")
    assert run.bounding_box()["height"] >= 44
    run.click()
    pause = console.get_by_role("button", name="Sæt nedtællingen på pause")
    expect(pause).to_have_attribute("aria-pressed", "true")
    expect(display).not_to_have_text("3:00")  # counting down
    expect(projector.locator("#p-timer")).to_be_hidden()
    show = console.get_by_role("button", name="Vis nedtællingen på projektoren")
    show.click()
    expect(show).to_have_attribute("aria-pressed", "true")
    expect(projector.locator("#p-timer")).to_have_text(re.compile(r"^[23]:\d\d$"))
    pause.click()
    expect(run).to_have_attribute("aria-pressed", "false")
    paused = seconds(display.inner_text())
    console.get_by_role("button", name="+1 min.").click()
    expect(display).to_have_text(f"{(paused + 60) // 60}:{(paused + 60) % 60:02d}")
    # Shared state: a reload, and the projector, show the same paused time.
    console.reload()
    expect(console.locator("#timer-display")).to_have_text(f"{(paused + 60) // 60}:{(paused + 60) % 60:02d}")
    expect(projector.locator("#p-timer")).to_have_text(f"{(paused + 60) // 60}:{(paused + 60) % 60:02d}")
    expect(console.locator("#btn-timer-show")).to_have_attribute("aria-pressed", "true")
    console.get_by_role("button", name="Nulstil").click()
    expect(console.locator("#timer-display")).to_have_text("3:00")
    console.get_by_role("button", name="Start nedtællingen").click()
    expect(console.locator("#btn-timer-run")).to_have_attribute("aria-pressed", "true")
    console.screenshot(path=str(screenshots / "timer-console-da.png"))
    projector.screenshot(path=str(screenshots / "timer-projector-da.png"))
    # At 0: words, calm, on both screens (a reload picks up the row as it is now).
    code = console.locator(".join-code").inner_text().strip()
    run_out(server, code)
    projector.reload()
    expect(projector.locator("#p-timer")).to_have_text("Tiden er gået")
    console.goto(console.url.split("?")[0] + "?lang=sv")
    expect(console.locator("#timer-status")).to_have_text("Tiden är ute")
    expect(console.get_by_role("button", name="Starta nedräkningen")).to_be_disabled()
    console.screenshot(path=str(screenshots / "timer-console-sv.png"))
    projector.goto(projector.url.split("?")[0] + "?lang=sv")
    expect(projector.locator("#p-timer")).to_have_text("Tiden är ute")
    projector.screenshot(path=str(screenshots / "timer-projector-sv.png"))
    console.goto(console.url.split("?")[0] + "?lang=da")
    expect(console.locator("#connection")).to_have_text("Forbundet.")
    # On a phone-sized console too the notes and the countdown fit without sideways scrolling.
    console.set_viewport_size({"width": 360, "height": 740})
    expect(console.locator("#timer-box")).to_be_visible()
    assert console.evaluate("document.documentElement.scrollWidth") <= 360
    console.set_viewport_size({"width": 1440, "height": 900})


def test_comments_wait_in_a_queue_the_keyboard_works_through(room, screenshots, browser, ui):
    console, projector, phone = room
    # Run alone (`-k`), nothing has started the meeting yet: start it here, on its first item.
    start = console.get_by_role("button", name="Start mødet")
    if start.is_visible():
        start.click()
        expect(console.locator("button.goto[aria-current=step]")).to_have_attribute("data-index", "0")
    approval = console.get_by_role("button", name="Godkend kommentarer først")
    expect(approval).to_have_attribute("aria-pressed", "true")  # chosen on the new-session form
    console.get_by_role("button", name=re.compile("Næste")).click()
    expect(phone.locator("#status")).to_have_attribute("data-state", "prompt")
    for text in ("Första tanken", "Andra tanken"):
        phone.get_by_label("Din kommentar").fill(text)
        phone.get_by_role("button", name="Skicka").click()
        expect(phone.locator("#my-pending li", has_text=text)).to_contain_text("väntar på godkännande")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    queue = console.locator("#queue-list")
    expect(console.locator("#queue-count")).to_have_text("2")
    expect(queue.locator("li").first).to_contain_text("Första tanken")  # oldest first
    expect(projector.locator("#wall li")).to_have_count(0)
    # The console with its countdown, switch and queue passes axe (serious and critical).
    scan = ui.scan_context(browser, viewport={"width": 1440, "height": 900},
                           storage_state=console.context.storage_state())
    page = scan.new_page()
    page.goto(console.url)
    expect(page.locator("#queue-count")).to_have_text("2")
    assert ui.axe_violations(page) == []
    scan.close()
    # Keyboard only: Enter approves, focus moves on to the next comment that waits.
    queue.get_by_role("button", name="Godkend").first.focus()
    console.keyboard.press("Enter")
    expect(projector.locator("#wall")).to_contain_text("Första tanken")
    expect(console.locator("#queue-count")).to_have_text("1")
    next_approve = queue.get_by_role("button", name="Godkend").first
    expect(next_approve).to_be_focused()
    console.keyboard.press("Tab")
    expect(queue.get_by_role("button", name="Skjul")).to_be_focused()
    console.screenshot(path=str(screenshots / "approve-queue-da.png"))
    console.keyboard.press("Enter")
    expect(console.locator("#queue-count")).to_have_text("0")
    expect(console.locator("#queue-heading")).to_be_focused()
    expect(phone.locator("#my-pending li", has_text="Första tanken")).to_contain_text("godkänd: visas för salen")
    expect(phone.locator("#my-pending li", has_text="Andra tanken")).to_contain_text(
        "visas inte: samtalsledaren dolde den")
    expect(projector.locator("#wall")).not_to_contain_text("Andra tanken")
    phone.screenshot(path=str(screenshots / "approve-phone-sv.png"))
    approval.click()
    expect(approval).to_have_attribute("aria-pressed", "false")
    phone.get_by_label("Din kommentar").fill("Direkt")
    phone.get_by_role("button", name="Skicka").click()
    expect(projector.locator("#wall")).to_contain_text("Direkt")
