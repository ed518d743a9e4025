"""Results entered by hand in Chromium (issue 11, section 1): the console's counted hands beside a
phone's vote, with the projector showing the sum, and the page for a dialogue held on paper on a
Swedish 360 px screen, refused and then saved, against a real server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

GUIDE = {
    "title": "Håndsoprækning",
    "language": "da",
    "sections": [{
        "title": "Tillid",
        "items": [
            {"id": "h1", "kind": "consideration", "text": "Har vi tillid til bestyrelsen?", "allow_unsure": True},
            {"id": "h2", "kind": "prompt", "text": "Hvad mangler vi?"},
        ],
    }],
}


@pytest.fixture(scope="module")
def guide(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("guide") / "haender.json"
    path.write_text(json.dumps(GUIDE), encoding="utf-8")
    server.cli("guide", "import", str(path))
    return GUIDE["title"]


def test_the_console_counts_hands_beside_the_phones(server, browser, facilitator, guide, ui, screenshots):
    errors: list[str] = []
    console_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="da-DK")
    console = console_ctx.new_page()
    console.on("pageerror", lambda e: errors.append(str(e)))
    ui.sign_in(console, server.url, facilitator, lang="da")
    console.get_by_label("Guide").select_option(label=guide)
    console.get_by_label("Titel").fill("Hænder i salen")
    code = ui.open_console(console)
    projector_ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="da-DK")
    projector = projector_ctx.new_page()
    projector.on("pageerror", lambda e: errors.append(str(e)))
    projector.goto(server.url + console.locator("#open-projector").get_attribute("href"))
    phone_ctx = browser.new_context(viewport=dict(ui.phone), is_mobile=True, has_touch=True)
    phone = phone_ctx.new_page()
    phone.goto(f"{server.url}/j/{code}")
    try:
        console.locator("#btn-start").click()
        hands = console.locator("#hands-box")
        expect(hands).to_be_visible()  # the first item is the consideration
        console.locator("#btn-voting").click()
        phone.get_by_role("button", name="Ja", exact=True).click()
        expect(console.locator("#counts-voters")).to_contain_text("1 af 1")

        # Keyboard only: the labelled fields in order, Enter saves.
        console.get_by_label("Hænder: Ja").fill("2")
        console.keyboard.press("Tab")
        expect(console.get_by_label("Hænder: Nej")).to_be_focused()
        console.keyboard.type("3")
        console.keyboard.press("Enter")
        expect(console.locator("#hands-note")).to_have_text("Gemt: hænderne er lagt til resultatet.")
        expect(console.locator("#hands-split")).to_have_text(
            "Telefoner: Ja 1 · Nej 0 · Ved ikke 0. Hænder: Ja 2 · Nej 3 · Ved ikke 0.")
        expect(console.locator("#count-bars")).to_contain_text("3 · 50")
        expect(console.locator("#counts-voters")).to_contain_text("1 af 1")  # phones only
        console.locator("#btn-results").click()  # show the results on the projector
        expect(projector.locator("body")).to_contain_text("3 · 50")
        console.screenshot(path=str(screenshots / "console-hands.png"), full_page=True)

        # A refusal names the field in Danish and changes nothing.
        console.get_by_label("Hænder: Ved ikke").fill("-4")
        console.get_by_role("button", name="Gem hænderne").click()
        expect(console.locator("#hands-error")).to_have_text(
            "Hænder: Ved ikke: Skriv et helt tal, 0 eller mere.")
        expect(console.get_by_label("Hænder: Ved ikke")).to_have_attribute("aria-invalid", "true")
        expect(console.locator("#hands-split")).to_contain_text("Hænder: Ja 2 · Nej 3 · Ved ikke 0.")
        console.locator("#btn-end").click()
        console.locator("#btn-end").click()  # the second press confirms
        expect(console.locator("#status-text")).to_have_text("Afsluttet")
        expect(hands).to_be_hidden()
    finally:
        for ctx in (console_ctx, projector_ctx, phone_ctx):
            ctx.close()
    assert errors == []


def test_a_dialogue_on_paper_is_refused_then_saved_on_a_phone_sized_screen(server, browser, facilitator, guide,
                                                                              ui, screenshots):
    ctx = ui.scan_context(browser, viewport=dict(ui.phone), locale="sv-SE")
    page = ctx.new_page()
    try:
        ui.sign_in(page, server.url, facilitator, lang="sv")
        page.get_by_role("link", name="Registrera en dialog på papper").click()
        page.get_by_label("Guide").select_option(label=guide)
        page.get_by_role("button", name="Fortsätt").click()
        page.get_by_label("Hölls den").fill((dt.date.today() + dt.timedelta(days=5)).isoformat())
        page.get_by_label("Deltagare").fill("5")
        page.get_by_label("Enhet").fill("Region Gotland")
        page.get_by_label("Händer: Ja").fill("4")
        page.get_by_label("Händer: Nej").fill("3")
        page.get_by_label("Kommentarer, en per rad").fill("Fler möten\nRing runt")
        page.get_by_role("button", name="Spara dialogen").click()

        expect(page.get_by_role("alert")).to_contain_text("Inget sparades.")
        expect(page.get_by_label("Hölls den")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#held_on-errors")).to_have_text("Skriv dagen då dialogen hölls (inte i framtiden).")
        expect(page.locator("#item-h1-errors")).to_contain_text("Händerna på den här punkten blir 7 sammanlagt")
        expect(page.get_by_label("Händer: Nej")).to_have_value("3")
        expect(page.get_by_label("Kommentarer, en per rad")).to_have_value("Fler möten\nRing runt")
        assert page.evaluate("document.documentElement.scrollWidth") <= ui.phone["width"]
        assert ui.axe_violations(page) == []
        page.screenshot(path=str(screenshots / "paper-refused-360.png"), full_page=True)

        page.get_by_label("Hölls den").fill(dt.date.today().isoformat())
        page.get_by_label("Händer: Nej").fill("1")
        page.get_by_role("button", name="Spara dialogen").click()
        page.wait_for_url("**/report")
        expect(page.locator(".report-meta")).to_contain_text("inmatat för hand")
        expect(page.locator("body")).to_contain_text("varav 5 räknade genom handuppräckning")
        expect(page.locator("body")).to_contain_text("Ring runt")
        page.goto(f"{server.url}/sessions")
        expect(page.locator("tr", has_text="Region Gotland").locator(".by-hand")).to_have_text("inmatat för hand")
    finally:
        ctx.close()
