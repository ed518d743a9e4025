"""A whole meeting in Chromium: console, projector and three phones against a real server.

The steps run in order on one server and one set of pages (module-scoped), as in a real room:
join, step through with the keyboard, vote, reveal, comment, moderate, conclude, end. A step run
on its own (`-k`) first plays the earlier steps it builds on (`step`).
"""

from __future__ import annotations

import functools
import io
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

XSS = "<img src=x onerror=alert(1)><b>hi</b>"
DANISH_GUIDE = "Almene Mål – Tema 3: Demokrati og levende fællesskaber"


@pytest.fixture(scope="module")
def room(server, browser, facilitator, ui, screenshots):
    """The console (da), the projector (1280x720) and three phones (360x740: sv, da, da)."""
    dialogs: list[str] = []
    csp_errors: list[str] = []

    def watch(page):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    console_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="da-DK")
    console = watch(console_ctx.new_page())
    ui.sign_in(console, server.url, facilitator, lang="da")
    console.get_by_label("Guide").select_option(label=DANISH_GUIDE)
    console.get_by_label("Titel").fill("Beboermøde i Ærøskøbing")
    console.get_by_label("Enhed (region, kreds, forening)").fill("Afdeling 12")
    code = ui.open_console(console)
    projector_url = console.locator("#open-projector").get_attribute("href")

    projector_ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="da-DK")
    projector = watch(projector_ctx.new_page())
    projector.goto(server.url + projector_url)

    phones, phone_ctxs = [], []
    for locale in ("sv-SE", "da-DK", "da-DK"):
        ctx = browser.new_context(viewport=dict(ui.phone), locale=locale, is_mobile=True, has_touch=True)
        page = watch(ctx.new_page())
        # The Swedish phone chose Swedish (phones that have not chosen follow the meeting's Danish).
        page.goto(f"{server.url}/j/{code}" + ("?lang=sv" if locale == "sv-SE" else ""))
        phone_ctxs.append(ctx)
        phones.append(page)
    for page in phones:
        expect(page.locator("#status")).to_have_attribute("data-state", "waiting")
    state = SimpleNamespace(server=server, console=console, projector=projector, phones=phones, code=code,
                            projector_url=projector_url, dialogs=dialogs, csp_errors=csp_errors,
                            console_ctx=console_ctx, shots=screenshots, ui=ui, browser=browser, done=set())
    yield state
    for ctx in (console_ctx, projector_ctx, *phone_ctxs):
        ctx.close()


def step(*earlier):
    """A step of the meeting: run alone (`-k`) or out of order, it first plays the earlier steps it
    builds on that have not run yet (each of those plays its own), so no test passes only in file
    order. A step that passed is marked done in the room."""

    def wrap(test):
        @functools.wraps(test)
        def run(room):
            for before in earlier:
                if before.__name__ not in room.done:
                    before(room)
            test(room)
            room.done.add(test.__name__)

        return run

    return wrap


def test_start_page_says_a_wrong_code_in_the_users_language(server, browser, screenshots):
    for locale, lang, wrong, button in (("sv-SE", "sv", "Det finns inget möte", "Delta"),
                                         ("da-DK", "da", "Der findes intet møde", "Deltag")):
        ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale=locale)
        page = ctx.new_page()
        page.goto(server.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.get_by_label(re.compile("Koden på")).fill("zz-zz zz")
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text(wrong)
        expect(page.get_by_label(re.compile("Koden på"))).to_have_value("zz-zz zz")
        page.screenshot(path=str(screenshots / f"start-wrong-code-{lang}.png"))
        page.goto(server.url + "/login")
        page.screenshot(path=str(screenshots / f"login-{lang}.png"))
        ctx.close()


def shot(room, page, name: str) -> None:
    page.screenshot(path=str(room.shots / f"{name}.png"), full_page=False)


@step()
def test_projector_waits_with_a_scannable_qr_code(room):
    import zxingcpp
    from PIL import Image

    projector = room.projector
    expect(projector.locator("#waiting")).to_be_visible()
    expect(projector.locator(".proj-code")).to_contain_text(room.code[:3])
    expect(projector.locator("#participants")).to_have_text("3")
    projector.wait_for_function("() => document.querySelector('.proj-qr').complete")
    png = projector.screenshot()
    (room.shots / "projector-waiting-da.png").write_bytes(png)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in found] == [f"{room.server.url}/j/{room.code}"]
    # The QR code fills a good part of the screen: 10 m from a projected 1280x720 picture.
    box = projector.locator(".proj-qr").bounding_box()
    assert box["height"] >= 0.6 * 720
    shot(room, room.phones[0], "phone-waiting-sv")
    shot(room, room.phones[1], "phone-waiting-da")
    shot(room, room.console, "console-waiting-da")


@step()
def test_keyboard_steps_through_the_guide(room):
    console = room.console
    console.get_by_role("button", name="Start mødet").click()
    current = console.locator("button.goto[aria-current=step]")
    expect(current).to_have_attribute("data-index", "0")
    console.locator("body").click(position={"x": 5, "y": 5})
    console.keyboard.press("ArrowRight")
    expect(current).to_have_attribute("data-index", "1")
    console.keyboard.press("ArrowRight")
    expect(current).to_have_attribute("data-index", "2")
    console.keyboard.press("ArrowLeft")
    expect(current).to_have_attribute("data-index", "1")
    # The "Next" button keeps the focus after a click; arrows and space still act as shortcuts.
    console.get_by_role("button", name="Næste →").click()
    expect(current).to_have_attribute("data-index", "2")
    expect(room.projector.locator("#p-text")).to_have_text(re.compile("tillid og opbakning"))
    console.keyboard.press(" ")
    expect(console.locator("#btn-voting")).to_have_attribute("aria-pressed", "true")
    expect(current).to_have_attribute("data-index", "2")
    for phone in room.phones:
        expect(phone.locator("#status")).to_have_attribute("data-state", "voting-open")
    expect(room.projector.locator("#p-voting")).to_have_attribute("data-open", "true")
    # The help overlay.
    console.keyboard.press("?")
    expect(console.get_by_role("dialog")).to_be_visible()
    console.keyboard.press("Escape")
    expect(console.get_by_role("dialog")).to_be_hidden()


@step(test_keyboard_steps_through_the_guide)
def test_phones_vote_and_a_reload_keeps_the_vote(room):
    sv, da1, da2 = room.phones
    sv.get_by_role("button", name="Ja").click()
    da1.get_by_role("button", name="Nej").click()
    da2.get_by_role("button", name="Nej").click()
    da2.get_by_role("button", name="Ja").click()  # changed while voting is open
    expect(sv.get_by_role("button", name="Ja")).to_have_attribute("aria-pressed", "true")
    expect(da1.get_by_role("button", name="Nej")).to_have_attribute("aria-pressed", "true")
    expect(da2.get_by_role("button", name="Ja")).to_have_attribute("aria-pressed", "true")
    expect(da2.get_by_role("button", name="Nej")).to_have_attribute("aria-pressed", "false")
    expect(da1.locator("#vote-note")).to_have_text(re.compile("gemt"))
    da1.reload()
    expect(da1.locator("#status")).to_have_attribute("data-state", "voting-open")
    expect(da1.get_by_role("button", name="Nej")).to_have_attribute("aria-pressed", "true")
    expect(da1.get_by_role("button", name="Ja")).to_have_attribute("aria-pressed", "false")
    # The console counts live while the room sees nothing yet.
    expect(room.console.locator("#counts-voters")).to_have_text(re.compile("^3 af 3"))
    expect(room.console.locator("#count-bars .bar-yes .bar-figure")).to_have_text(re.compile("^2 · 67"))
    expect(room.projector.locator("#p-bars")).to_be_hidden()
    expect(sv.locator("#results")).to_be_hidden()
    shot(room, sv, "phone-vote-sv")
    shot(room, da1, "phone-vote-da")


@step(test_phones_vote_and_a_reload_keeps_the_vote)
def test_results_appear_on_the_projector_only_after_show_results(room):
    console, projector = room.console, room.projector
    assert projector.locator("#p-bars li").count() == 0
    console.keyboard.press("r")
    expect(console.locator("#btn-results")).to_have_attribute("aria-pressed", "true")
    expect(projector.locator("#p-bars")).to_be_visible()
    expect(projector.locator("#p-bars .bar-yes .bar-figure")).to_have_text(re.compile("^2 · 67"))
    expect(projector.locator("#p-bars .bar-no .bar-figure")).to_have_text(re.compile("^1 · 33"))
    expect(room.phones[1].locator("#results")).to_be_visible()
    console.keyboard.press(" ")
    expect(console.locator("#btn-voting")).to_have_attribute("aria-pressed", "false")
    for phone in room.phones:
        expect(phone.locator("#status")).to_have_attribute("data-state", "voting-closed")
        expect(phone.get_by_role("button", name="Ja")).to_be_disabled()
    shot(room, projector, "projector-results-da")
    shot(room, room.phones[0], "phone-results-sv")
    shot(room, room.phones[1], "phone-results-da")
    shot(room, console, "console-results-da")
    console.keyboard.press("R")
    expect(projector.locator("#p-bars")).to_be_hidden()


@step(test_results_appear_on_the_projector_only_after_show_results)
def test_comments_show_as_text_and_hidden_ones_disappear(room):
    console, projector = room.console, room.projector
    console.keyboard.press("ArrowRight")
    expect(console.locator("button.goto[aria-current=step]")).to_have_attribute("data-index", "3")
    sv, da1, da2 = room.phones
    expect(da1.locator("#status")).to_have_attribute("data-state", "prompt")
    da1.get_by_label("Din kommentar").fill(XSS)
    expect(da1.locator("#comment-count")).to_have_text(f"{len(XSS)} / 1000 tegn")
    da1.get_by_role("button", name="Send").click()
    expect(da1.locator("#comment-note")).to_have_text(re.compile("Sendt"))
    sv.get_by_label("Din kommentar").fill("Fler mötesplatser i trapphusen")
    sv.get_by_role("button", name="Skicka").click()
    da2.get_by_label("Din kommentar").fill("Flere fælles spisninger")
    da2.get_by_role("button", name="Send").click()

    wall = projector.locator("#wall li")
    expect(wall).to_have_count(3)
    expect(wall.first).to_have_text("Flere fælles spisninger")  # newest first
    expect(projector.locator("#wall")).to_contain_text(XSS)
    expect(console.locator("#mod-list")).to_contain_text(XSS)
    for page in (projector, console, *room.phones):
        assert page.locator("#wall b, #mod-list b, img[src=x]").count() == 0
    assert room.dialogs == []

    # Pin one, hide the hostile one: it leaves the projector at once, the console keeps it.
    pinned = console.locator("#mod-list li", has_text="Fler mötesplatser")
    pinned.get_by_role("button", name="Fastgør").click()
    expect(wall.first).to_have_text("Fler mötesplatser i trapphusen")
    hostile = console.locator("#mod-list li", has_text="onerror")
    hostile.get_by_role("button", name="Skjul").click()
    expect(wall).to_have_count(2)
    expect(projector.locator("#wall")).not_to_contain_text("onerror")
    expect(console.locator("#mod-list li.hidden-comment")).to_have_count(1)
    shot(room, projector, "projector-wall-da")
    shot(room, console, "console-comments-da")
    shot(room, da1, "phone-comment-da")
    shot(room, sv, "phone-comment-sv")

    # The group's conclusion is saved through the socket and lands in the export.
    console.get_by_label("Gruppens konklusion på dette punkt").fill("Vi inviterer til fællesspisning hver måned.")
    console.get_by_role("button", name="Gem konklusionen").click()
    expect(console.locator("#conclusion-note")).to_have_text("Gemt.")
    assert room.dialogs == []


@step(test_comments_show_as_text_and_hidden_ones_disappear)
def test_no_serious_accessibility_violations(room):
    ui, browser = room.ui, room.browser
    state = room.console_ctx.storage_state()
    console_url = room.console.url
    checks = [
        ("phone", {"viewport": dict(ui.phone), "locale": "da-DK"}, f"{room.server.url}/j/{room.code}", "#item-text"),
        ("projector", {"viewport": {"width": 1280, "height": 720}}, room.server.url + room.projector_url, "#p-text"),
        ("console", {"viewport": {"width": 1440, "height": 900}, "storage_state": state}, console_url, "#cur-text"),
    ]
    problems = {}
    for name, options, url, ready in checks:
        ctx = ui.scan_context(browser, **options)
        page = ctx.new_page()
        page.goto(url)
        expect(page.locator(ready)).not_to_be_empty()
        found = ui.axe_violations(page)
        if found:
            problems[name] = found
        ctx.close()
    assert problems == {}


@step()
def test_phone_fits_360_px_with_big_tap_targets(room):
    for phone in room.phones:
        width = phone.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 360
        # Every visible control (the skip link is 1 px until it has focus, then 44 px).
        heights = phone.evaluate(
            "() => [...document.querySelectorAll('button, a, input, textarea')]"
            ".filter(b => b.offsetParent !== null && b.getBoundingClientRect().width > 1)"
            ".map(b => [b.textContent.trim(), b.getBoundingClientRect().height])")
        small = [h for h in heights if h[1] < 44]
        assert small == []


@step(test_comments_show_as_text_and_hidden_ones_disappear)
def test_phone_first_load_is_small(room):
    ctx = room.browser.new_context(viewport=dict(room.ui.phone))
    page = ctx.new_page()
    sizes = []
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    page.goto(f"{room.server.url}/j/{room.code}")
    expect(page.locator("#status")).to_have_attribute("data-state", "prompt")
    assert sum(sizes) < 150_000
    ctx.close()


@step(test_comments_show_as_text_and_hidden_ones_disappear)
def test_screens_in_swedish(room):
    console, projector = room.console, room.projector
    console.goto(console.url.split("?")[0] + "?lang=sv")
    expect(console.locator("#connection")).to_have_text("Ansluten.")
    expect(console.get_by_role("button", name="Nästa →")).to_be_visible()
    projector.goto(room.server.url + room.projector_url.split("?")[0] + "?lang=sv")
    expect(projector.locator("#wall li")).to_have_count(2)
    shot(room, console, "console-comments-sv")
    shot(room, projector, "projector-wall-sv")
    console.keyboard.press("ArrowLeft")
    expect(projector.locator("#p-voting")).to_be_visible()
    console.keyboard.press("r")
    expect(projector.locator("#p-bars")).to_be_visible()
    shot(room, projector, "projector-results-sv")
    projector.set_viewport_size({"width": 1920, "height": 1080})
    assert projector.evaluate("() => document.scrollingElement.scrollHeight") <= 1080
    assert projector.locator("#p-voters").bounding_box()["y"] < 1000  # all of it on screen
    shot(room, projector, "projector-results-sv-1920")
    shot(room, console, "console-results-sv")


@step(test_comments_show_as_text_and_hidden_ones_disappear)
def test_ending_tells_every_phone(room):
    console = room.console
    end = console.locator("#btn-end")
    end.click()
    expect(end).to_have_text(re.compile("igen"))
    end.click()
    for phone in room.phones:
        expect(phone.locator("#status")).to_have_attribute("data-state", "ended")
    expect(room.projector.locator("#ended")).to_be_visible()
    shot(room, room.phones[0], "phone-ended-sv")
    shot(room, room.phones[1], "phone-ended-da")
    export = console.request.get(console.url.replace("/console/", "/sessions/").split("?")[0] + "/export.json")
    assert "Vi inviterer til fællesspisning hver måned." in export.text()
    assert room.dialogs == []
    assert room.csp_errors == []
