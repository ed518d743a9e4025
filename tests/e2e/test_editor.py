"""The guide editor in Chromium (issue 10, section 1): a person who has never seen YAML writes a
three-section Danish guide through the form, runs it with two phones voting, edits it, runs it
again and sees both sessions in one roll-up; then the refusals that must keep the text (two people
saving at once, a lapsed sign-in), validation as you type, moving by keyboard, accessibility and
sizes. One server and one signed-in context for the module.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

LAPTOP = {"width": 1280, "height": 800}
SECTIONS = [
    ("Fællesskab i afdelingen", "Vi vil styrke fællesskabet", [
        ("consideration", "Skal vi holde en sommerfest for hele afdelingen?"),
        ("prompt", "Hvad kunne få flere til at deltage?")]),
    ("Beboerdemokrati", "Vi vil have flere med i beslutningerne", [
        ("consideration", "Skal afdelingsmødet også kunne følges online?"),
        ("prompt", "Hvordan når vi de unge beboere?")]),
    ("Grønne områder", "Vi vil bruge vores udearealer mere", [
        ("consideration", "Skal vi lave fælles køkkenhaver?"),
        ("prompt", "Hvor mangler der bænke?")]),
]


class Counting:
    """Clicks and filled fields along the path, so the figure in the report is measured, not guessed."""

    def __init__(self) -> None:
        self.clicks = 0
        self.fields = 0

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.fields += 1
        locator.fill(value)

    def choose(self, locator, label: str) -> None:
        self.fields += 1
        locator.select_option(label=label)


@pytest.fixture(scope="module")
def desk(server, browser, facilitator, ui, screenshots):
    """The facilitator's laptop (Danish, 1280x800), signed in, watching for CSP errors."""
    ctx = browser.new_context(viewport=LAPTOP, locale="da-DK", accept_downloads=True)
    page = ctx.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    ui.sign_in(page, server.url, facilitator, lang="da")
    yield SimpleNamespace(server=server, browser=browser, ctx=ctx, page=page, ui=ui, shots=screenshots,
                          facilitator=facilitator, csp=csp, guide_url=None, count=None)
    ctx.close()


def _run_session(desk, count: Counting | None, title: str, votes: tuple[str, str]) -> None:
    """From the sessions form with the guide chosen: create, start, open voting on item 1, two
    phones vote, end the session."""
    page = desk.page
    count = count or Counting()
    new_session = page.get_by_role("region", name="Nyt møde")
    count.fill(new_session.get_by_label("Titel", exact=True), title)
    count.click(new_session.get_by_role("button", name="Opret og åbn konsollen"))
    page.wait_for_url("**/console/*")
    expect(page.locator("#connection")).to_have_text("Forbundet.")
    code = page.locator(".join-code").inner_text().strip()
    count.click(page.get_by_role("button", name="Start mødet"))
    count.click(page.locator("#btn-voting"))
    expect(page.locator("#btn-voting")).to_have_attribute("aria-pressed", "true")
    phones = []
    for choice in votes:
        ctx = desk.browser.new_context(viewport=dict(desk.ui.phone), locale="da-DK", is_mobile=True, has_touch=True)
        phone = ctx.new_page()
        phone.goto(f"{desk.server.url}/j/{code}")
        expect(phone.locator("#status")).to_have_attribute("data-state", "voting-open")
        phone.get_by_role("button", name=choice).click()
        expect(phone.get_by_role("button", name=choice)).to_have_attribute("aria-pressed", "true")
        phones.append(ctx)
    expect(page.locator("#counts-voters")).to_have_text(re.compile("^2 af 2"))
    page.locator("#btn-end").click()
    page.locator("#btn-end").click()  # the second click confirms
    expect(page.locator("#after")).to_be_visible()
    for ctx in phones:
        ctx.close()


@pytest.fixture
def written(desk) -> None:
    """The guide the first test writes through the form, written here when a test runs without it
    (`-k`, another order): every later test edits or runs it."""
    if desk.guide_url is None:
        _write_guide(desk)


def test_a_danish_guide_is_written_through_the_form_only(desk):
    _write_guide(desk)


def _write_guide(desk) -> None:
    """Write the three-section guide through the form alone, counting clicks and fields."""
    page, count = desk.page, Counting()
    page.goto(f"{desk.server.url}/guides")
    count.click(page.get_by_role("link", name="Ny guide"))
    page.wait_for_url("**/guides/new")
    count.fill(page.get_by_label("Titel", exact=True), "Afdelingens dialog 2027")
    expect(page.get_by_label("Guidens sprog")).to_have_value("da")  # the page's language, no field to fill
    for s, (title, goal, items) in enumerate(SECTIONS, start=1):
        if s > 1:
            count.click(page.get_by_role("button", name=f"Tilføj et afsnit efter afsnit {s - 1}"))
        count.fill(page.locator(f"#f_sections_{s - 1}_title"), title)
        count.fill(page.locator(f"#f_sections_{s - 1}_statement"), goal)
        for i, (kind, text) in enumerate(items, start=1):
            if i > 1:
                count.click(page.get_by_role("button", name=f"Tilføj et punkt efter punkt {s}.{i - 1}"))
                # The new item has the focus on its kind, ready for the keyboard.
                expect(page.locator(f"#f_sections_{s - 1}_items_{i - 1}_kind")).to_be_focused()
            if kind == "prompt":
                count.choose(page.locator(f"#f_sections_{s - 1}_items_{i - 1}_kind"), "Drøftelsesspørgsmål")
            count.fill(page.locator(f"#f_sections_{s - 1}_items_{i - 1}_text"), text)
    count.click(page.get_by_label("Tilbyd også »Ved ikke«").first)
    # The preview shows the item as the phone will: Ja / Nej / Ved ikke.
    page.locator("#f_sections_0_items_0_text").focus()
    expect(page.locator("#ph-vote .choice")).to_have_text(["Ja", "Nej", "Ved ikke"])
    expect(page.locator("#pv-text")).to_have_text(SECTIONS[0][2][0][1])
    expect(page.locator("#pv-statement")).to_have_text("Vi vil styrke fællesskabet")
    page.screenshot(path=str(desk.shots / "editor-new-da.png"))
    count.click(page.get_by_role("button", name="Gem guiden"))
    expect(page.locator("#save-status")).to_have_text("Guiden er oprettet og gemt.")
    page.wait_for_url(re.compile(r"/guides/g\w+/edit$"))
    desk.guide_url = page.url
    desk.count = count


@pytest.mark.usefixtures("written")
def test_it_runs_with_two_phones_is_edited_runs_again_and_both_are_in_the_roll_up(desk):
    page, count = desk.page, desk.count
    guide_id = desk.guide_url.split("/")[-2]
    count.click(page.get_by_role("link", name="Start et møde med denne guide"))
    expect(page.locator("#guide_id")).to_have_value(guide_id)
    _run_session(desk, count, "Afdelingsmøde marts", ("Ja", "Nej"))
    # The figure for the report: from "Ny guide" to phones voting.
    print(f"\nPATH new guide -> phones voting: {count.clicks} clicks, {count.fields} fields")

    # Edit it: the first consideration's text changes; its id, and so its roll-up line, stays.
    page.goto(f"{desk.server.url}/guides/{guide_id}")
    page.get_by_role("link", name="Redigér").click()
    page.locator("#f_sections_0_items_0_text").fill("Skal vi holde to sommerfester for hele afdelingen?")
    page.get_by_role("button", name="Gem guiden").click()
    expect(page.locator("#save-status")).to_have_text("Gemt (version 2).")
    page.get_by_role("link", name="Start et møde med denne guide").click()
    _run_session(desk, None, "Afdelingsmøde april", ("Ja", "Ja"))

    page.goto(f"{desk.server.url}/guides/{guide_id}/rollup")
    expect(page.locator("#table-heading")).to_have_text("2 møder")
    expect(page.get_by_role("link", name="Afdelingsmøde marts")).to_be_visible()
    expect(page.get_by_role("link", name="Afdelingsmøde april")).to_be_visible()
    # The edited item kept its id, so its votes from both versions stand on one line: 3 Ja, 1 Nej.
    expect(page.locator("table.rollup-table tbody tr").first).to_contain_text("Ja 3 · Nej 1")
    page.screenshot(path=str(desk.shots / "editor-rollup-da.png"), full_page=True)
    assert desk.csp == []


@pytest.mark.usefixtures("written")
def test_two_saving_at_once_the_second_is_refused_and_keeps_the_text(desk):
    first = desk.page
    first.goto(desk.guide_url)
    # Somebody else's browser (signed in alike, a storage of its own).
    other = desk.browser.new_context(viewport=LAPTOP, locale="da-DK", accept_downloads=True,
                                     storage_state=desk.ctx.storage_state())
    second = other.new_page()
    second.goto(desk.guide_url)
    first.locator("#f_sections_1_items_1_text").fill("Hvordan når vi de unge og de ældre?")
    first.get_by_role("button", name="Gem guiden").click()
    expect(first.locator("#save-status")).to_have_text(re.compile(r"^Gemt \(version \d+\)\.$"))

    mine = "Hvordan når vi børnefamilierne?"
    second.locator("#f_sections_1_items_1_text").fill(mine)
    second.get_by_role("button", name="Gem guiden").click()
    expect(second.get_by_role("alert")).to_contain_text("En anden gemte guiden")
    expect(second.locator("#f_sections_1_items_1_text")).to_have_value(mine)
    with second.expect_download() as download:
        second.get_by_role("button", name="Hent min version (JSON)").click()
    saved = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert saved["sections"][1]["items"][1]["text"] == mine
    second.screenshot(path=str(desk.shots / "editor-conflict-da.png"))
    other.close()
    # The first person's text is what is stored; their draft went with their save.
    first.reload()
    expect(first.locator("#restored")).to_be_hidden()
    expect(first.locator("#f_sections_1_items_1_text")).to_have_value("Hvordan når vi de unge og de ældre?")


@pytest.mark.usefixtures("written")
def test_validation_as_you_type_says_where_and_why_and_saving_refuses(desk):
    page = desk.page
    page.goto(desk.guide_url)
    field = page.locator("#f_sections_2_items_0_text")
    field.fill("")
    error = page.locator("#f_sections_2_items_0_text + .field-error")
    expect(error).to_be_visible()  # next to the field, while typing, in Danish
    expect(error).not_to_contain_text(re.compile(r"\b(required|field|must)\b"))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_role("button", name="Gem guiden").click()
    expect(page.locator("#save-status")).to_have_text("Guiden blev ikke gemt: ret stederne i listen øverst.")
    link = page.locator("#error-summary a").first
    expect(link).to_contain_text("Afsnit 3 › Punkt 3.1 › Tekst")
    link.click()
    expect(field).to_be_focused()
    page.screenshot(path=str(desk.shots / "editor-errors-da.png"))
    field.fill("Skal vi lave fælles køkkenhaver?")
    expect(error).to_have_count(0)
    expect(page.locator("#error-summary")).to_be_hidden()


@pytest.mark.usefixtures("written")
def test_moving_by_keyboard_keeps_the_focus_on_what_moved(desk):
    page = desk.page
    page.goto(desk.guide_url)
    prompt = "Hvad kunne få flere til at deltage?"
    expect(page.locator("#f_sections_0_items_1_text")).to_have_value(prompt)
    page.get_by_role("button", name="Flyt punkt 1.2 op").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_0_items_0_text")).to_have_value(prompt)
    expect(page.get_by_role("status").filter(has_text="det er nu punkt 1.1")).to_have_count(1)
    # At the very top the up button is disabled, so the focus is on the moved item itself.
    expect(page.locator("#f_sections_0_items_0")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the kind, then the title: the focus stayed inside the moved item
    expect(page.locator("#f_sections_0_items_0_title")).to_be_focused()
    # Down across the section boundary, then to section 3 with the select and the button.
    page.get_by_role("button", name="Flyt punkt 1.1 ned").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Flyt punkt 1.2 ned")).to_be_focused()
    page.get_by_label("Flyt punkt 1.2 til afsnit").select_option(label="Afsnit 3: Grønne områder")
    page.get_by_role("button", name="Flyt punkt 1.2 til det valgte afsnit").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_2_items_2_text")).to_have_value(prompt)
    expect(page.get_by_label("Flyt punkt 3.3 til afsnit")).to_be_focused()
    # Remove and undo, by keyboard: the undo button takes the focus.
    page.get_by_role("button", name="Fjern punkt 3.3").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_2_items_2_text")).to_have_count(0)
    expect(page.get_by_role("button", name="Fortryd")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_2_items_2_text")).to_have_value(prompt)
    expect(page.locator("#f_sections_2_items_2")).to_be_focused()
    # A whole section goes and comes back the same way.
    page.get_by_role("button", name="Fjern afsnit 1").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_0_title")).to_have_value("Beboerdemokrati")
    page.keyboard.press("Enter")  # on "Fortryd"
    expect(page.locator("#f_sections_0_title")).to_have_value("Fællesskab i afdelingen")
    expect(page.locator("#f_sections_0")).to_be_focused()
    # Sections move too.
    page.get_by_role("button", name="Flyt afsnit 3 op").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#f_sections_1_title")).to_have_value("Grønne områder")
    expect(page.get_by_role("button", name="Flyt afsnit 2 op")).to_be_focused()
    page.get_by_role("button", name="Gem guiden").click()
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Gemt \(version \d+\)\.$"))


@pytest.mark.usefixtures("written")
def test_a_lapsed_sign_in_keeps_the_text_and_restores_it_after_signing_in(desk):
    page = desk.page
    page.goto(desk.guide_url)
    typed = "Hvor mangler der bænke og borde?"
    page.locator("#f_sections_2_items_1_text").fill(typed)
    desk.ctx.clear_cookies()  # the sign-in lapses
    page.get_by_role("button", name="Gem guiden").click()
    expect(page.get_by_role("alert")).to_contain_text("Dit login er udløbet")
    expect(page.locator("#f_sections_2_items_1_text")).to_have_value(typed)
    desk.ui.sign_in(page, desk.server.url, desk.facilitator, lang="da")
    page.goto(desk.guide_url)
    expect(page.locator("#restored")).to_contain_text("er hentet frem igen")
    expect(page.locator("#f_sections_2_items_1_text")).to_have_value(typed)
    page.get_by_role("button", name="Gem guiden").click()
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Gemt \(version \d+\)\.$"))
    page.reload()
    expect(page.locator("#restored")).to_be_hidden()
    expect(page.locator("#f_sections_2_items_1_text")).to_have_value(typed)


@pytest.mark.usefixtures("written")
def test_accessible_sized_and_a_built_in_guide_is_only_duplicated(desk):
    state = desk.ctx.storage_state()
    for lang in ("da", "sv"):
        for name, viewport in (("laptop", LAPTOP), ("phone", dict(desk.ui.phone))):
            ctx = desk.ui.scan_context(desk.browser, viewport=viewport, storage_state=state)
            page = ctx.new_page()
            page.goto(f"{desk.guide_url}?lang={lang}")
            expect(page.locator("#f_sections_0_title")).not_to_have_value("")
            page.screenshot(path=str(desk.shots / f"editor-{name}-{lang}.png"))
            page.locator(".ed-section").first.screenshot(path=str(desk.shots / f"editor-{name}-{lang}-section.png"))
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport["width"]
            if name == "laptop":
                # Two columns at laptop width: the preview stands beside the form.
                form, preview = page.locator("#editor").bounding_box(), page.locator(".ed-preview").bounding_box()
                assert preview["x"] >= form["x"] + form["width"]
                assert desk.ui.axe_violations(page) == []
                unnamed = page.evaluate(
                    "() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]"
                    ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')"
                    " && !e.textContent.trim()).map(e => e.outerHTML.slice(0, 80))")
                assert unnamed == []
            ctx.close()

    page = desk.page
    page.goto(f"{desk.server.url}/guides")
    page.get_by_role("link", name=re.compile("^Almene Mål")).first.click()
    expect(page.get_by_role("link", name="Redigér")).to_have_count(0)
    page.get_by_role("button", name="Duplikér").click()
    page.wait_for_url(re.compile(r"/guides/g\w+/edit$"))
    expect(page.locator("#f_title")).to_have_value(re.compile("^Kopi af Almene Mål"))
