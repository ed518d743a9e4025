"""The meeting room, second pass (issue 9): what a newcomer, a phone and a Danish room ran into.

Each test makes its own session through the REST API of one real server (per module) and looks
at it with the phone (360x740), the projector (1024x768, 1280x720, 1920x1080) and the console in
Chromium, in Swedish and Danish. Screenshots land in /tmp/shots9 to be looked at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.realtime.test_server import Phone

pytestmark = [pytest.mark.browser, pytest.mark.server]

SHOTS = Path("/tmp/shots9")
PROJECTORS = ({"width": 1024, "height": 768}, {"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
GUIDES = {"da": "Almene Mål – Tema 3: Demokrati og levende fællesskaber",
          "sv": "Förtroendemannadialogen – mot målen 51/22"}
TITLES = {"da": "Beboermøde i Ærøskøbing", "sv": "Medlemsmöte i Örnsköldsvik"}
LOCALES = {"da": "da-DK", "sv": "sv-SE"}
#: the second consideration of each guide (the first is at index 2 in both)
NEXT_CONSIDERATION = {"da": 6, "sv": 3}

# The WCAG 2 contrast ratio of an element's text on its own background (both opaque here).
CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const st = getComputedStyle(el);
  const a = lum(rgb(st.color)), b = lum(rgb(st.backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture(scope="module")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture(scope="module")
def token(server, facilitator) -> str:
    """An API token of the facilitator who signs in to the console."""
    return server.facilitator_token(facilitator["email"])


@pytest.fixture(scope="module")
def console_state(server, browser, facilitator, ui) -> dict:
    """The console's signed-in cookies, for new console contexts."""
    ctx = browser.new_context()
    page = ctx.new_page()
    ui.sign_in(page, server.url, facilitator, lang="da")
    state = ctx.storage_state()
    ctx.close()
    return state


class Room:
    """A session made through the REST API, and the pages that look at it."""

    def __init__(self, server, browser, ui, token: str, lang: str, console_state: dict,
                 guide_title: str | None = None) -> None:
        self.server, self.browser, self.ui, self.lang = server, browser, ui, lang
        self.console_state = console_state
        self.headers = {"Authorization": f"Bearer {token}"}
        guides = requests.get(server.url + "/api/v1/guides", headers=self.headers, timeout=10).json()
        guide = next(g for g in guides if g["title"] == (guide_title or GUIDES[lang]))
        self.guide_id = guide["id"]
        resp = requests.post(server.url + "/api/v1/sessions", headers=self.headers, timeout=10,
                             json={"guide_id": guide["id"], "title": TITLES[lang], "unit": "Afdeling 12"})
        resp.raise_for_status()
        self.session = resp.json()
        self.id, self.code = self.session["id"], self.session["code"]
        self.key = self.session["projector_url"].rsplit("/", 1)[1]
        self.contexts: list = []

    def control(self, action: str, **extra) -> dict:
        resp = requests.post(f"{self.server.url}/api/v1/sessions/{self.id}/control", headers=self.headers,
                             json={"action": action, **extra}, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def goto(self, index: int) -> dict:
        state = requests.get(f"{self.server.url}/api/v1/sessions/{self.id}/state", headers=self.headers,
                             timeout=10).json()
        if state["session"]["status"] == "waiting":
            state = self.control("start")
        if state["position"]["index"] != index:
            state = self.control("goto", index=index)
        return state

    def _context(self, scan: bool = False, **options):
        ctx = self.ui.scan_context(self.browser, **options) if scan else self.browser.new_context(**options)
        self.contexts.append(ctx)
        return ctx

    def phone(self, lang: str | None = None, *, scan: bool = False):
        lang = lang or self.lang
        ctx = self._context(scan, viewport=dict(self.ui.phone), locale=LOCALES[lang], is_mobile=True, has_touch=True)
        page = ctx.new_page()
        page.goto(f"{self.server.url}/j/{self.code}?lang={lang}")
        expect(page.locator("#status")).not_to_have_attribute("data-state", "connecting")
        return page

    def projector(self, viewport: dict, lang: str | None = None, *, scan: bool = False):
        lang = lang or self.lang
        ctx = self._context(scan, viewport=viewport, locale=LOCALES[lang])
        page = ctx.new_page()
        page.goto(f"{self.server.url}/p/{self.key}?lang={lang}")
        return page

    def console(self, lang: str | None = None, *, scan: bool = False):
        lang = lang or self.lang
        ctx = self._context(scan, viewport={"width": 1440, "height": 900}, locale=LOCALES[lang],
                            storage_state=self.console_state)
        page = ctx.new_page()
        page.goto(f"{self.server.url}/console/{self.id}?lang={lang}")
        expect(page.locator("#connection")).to_have_text(re.compile("^(Forbundet|Ansluten)"))
        return page

    def socket(self, auth: dict) -> Phone:
        return Phone(self.server.url, auth).connect()

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def rooms(server, browser, ui, token, console_state):
    """`rooms(lang)`: a new session of the built-in guide in that language; closed after the test."""
    made: list[Room] = []

    def make(lang: str = "da", guide_title: str | None = None) -> Room:
        room = Room(server, browser, ui, token, lang, console_state, guide_title)
        made.append(room)
        return room

    yield make
    for room in made:
        room.close()


def shot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"))


# -- 1. The chosen vote stays readable ----------------------------------------------------------


def pressed_contrast(page, label: str) -> float:
    """Hover and focus the chosen button (a phone keeps both after a tap); its contrast ratio."""
    button = page.get_by_role("button", name=label, exact=True)
    expect(button).to_have_attribute("aria-pressed", "true")
    button.hover()
    if button.is_enabled():
        button.focus()
    return button.evaluate(CONTRAST)


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_chosen_vote_stays_readable_in_every_state(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)  # the first consideration of both guides
    room.control("open_voting")
    phone = room.phone(scan=True)
    yes = "Ja"
    phone.get_by_role("button", name=yes, exact=True).click()  # a real click: hover and focus stay
    expect(phone.locator("#vote-note")).to_have_text(re.compile("(gemt|sparad)"))
    problems = {}
    for state, action in (("open", None), ("closed", "close_voting"), ("results", "show_results")):
        if action:
            room.control(action)
            expect(phone.locator("#status")).to_have_attribute("data-state", "voting-closed")
        if state == "results":
            expect(phone.locator("#results")).to_be_visible()
        ratio = pressed_contrast(phone, yes)
        assert ratio >= 4.5, f"{state}: the chosen vote has a contrast of {ratio:.2f}"
        found = [v for v in room.ui.axe_violations(phone, impacts=("minor", "moderate", "serious", "critical"))
                 if v["id"] == "color-contrast"] + room.ui.axe_violations(phone)
        if found:
            problems[state] = found
        shot(phone, shots, f"1-phone-pressed-{state}-{lang}")
    assert problems == {}


# -- 2. The phone shows the title, the results where the eye is, calm info slides ---------------

FONT = "el => { const s = getComputedStyle(el); return [parseFloat(s.fontWeight), parseFloat(s.fontSize)]; }"


def heading_leads(page, heading: str, body: str) -> None:
    """On an info slide the heading is at least as bold and as large as the body."""
    (h_weight, h_size), (b_weight, b_size) = page.locator(heading).evaluate(FONT), page.locator(body).evaluate(FONT)
    assert b_weight <= h_weight and b_weight <= 500, (heading, h_weight, b_weight)
    assert b_size <= h_size, (heading, h_size, b_size)


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_phone_shows_the_title_the_results_first_and_calm_info_slides(rooms, shots, lang):
    room = rooms(lang)
    phone = room.phone()
    title = phone.get_by_role("heading", level=1)
    expect(title).to_have_text(TITLES[lang])
    expect(title).to_be_visible()
    box = title.bounding_box()
    assert box["height"] >= 16 and box["x"] + box["width"] <= 360
    shot(phone, shots, f"2-phone-waiting-{lang}")

    # An info slide: the heading leads on the phone, the console and the projector.
    room.goto(0)
    expect(phone.locator("#status")).to_have_attribute("data-state", "info")
    expect(phone.locator("#item-title")).to_be_visible()
    heading_leads(phone, "#item-title", "#item-text")
    shot(phone, shots, f"2-phone-info-{lang}")
    console = room.console()
    expect(console.locator("#cur-title")).to_be_visible()
    heading_leads(console, "#cur-title", "#cur-text")
    shot(console, shots, f"2-console-info-{lang}")
    projector = room.projector(PROJECTORS[1])
    expect(projector.locator("#p-title")).to_be_visible()
    heading_leads(projector, "#p-title", "#p-text")
    shot(projector, shots, f"2-projector-info-{lang}")

    # Revealed results sit right under the vote, above the comment box, on the first screen.
    room.goto(2)
    room.control("open_voting")
    phone.get_by_role("button", name="Ja", exact=True).click()
    expect(phone.locator("#vote-note")).to_have_text(re.compile("(gemt|sparad)"))
    room.control("show_results")
    results = phone.locator("#results")
    expect(results).to_be_visible()
    expect(phone.locator("#results-bars li")).to_have_count(2)
    assert results.bounding_box()["y"] + 40 < phone.locator("#comment").bounding_box()["y"]
    assert phone.locator("#results-heading").bounding_box()["y"] < 740
    assert phone.evaluate("() => document.scrollingElement.scrollWidth") <= 360
    shot(phone, shots, f"2-phone-results-{lang}")


# -- 3. "Voting opens soon" before, "Voting is closed" after ------------------------------------

SOON = {"sv": ("Röstningen öppnar snart.", "Röstningen har inte öppnats än"),
        "da": ("Afstemningen åbner snart.", "Afstemningen er ikke åbnet endnu")}
CLOSED = {"sv": ("Röstningen är stängd för den här punkten.", "Röstningen är stängd.", "Röstningen är stängd"),
          "da": ("Afstemningen er lukket for dette punkt.", "Afstemningen er lukket.", "Afstemningen er lukket")}


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_voting_opens_soon_before_and_is_closed_after(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)
    phone, projector, console = room.phone(), room.projector(PROJECTORS[1]), room.console()
    status, p_voting = phone.locator("#status"), projector.locator("#p-voting")
    c_voting = console.locator("#cur-voting")
    expect(status).to_have_attribute("data-state", "voting-soon")
    expect(status).to_have_text(SOON[lang][0])
    expect(p_voting).to_have_attribute("data-state", "soon")
    expect(p_voting).to_have_text(SOON[lang][0])
    expect(c_voting).to_have_text(SOON[lang][1])
    expect(phone.get_by_role("button", name="Ja", exact=True)).to_be_disabled()
    for page, name in ((phone, "phone"), (projector, "projector"), (console, "console")):
        shot(page, shots, f"3-{name}-soon-{lang}")

    room.control("open_voting")
    expect(status).to_have_attribute("data-state", "voting-open")
    expect(p_voting).to_have_attribute("data-state", "open")
    room.control("close_voting")
    expect(status).to_have_attribute("data-state", "voting-closed")
    expect(status).to_have_text(CLOSED[lang][0])
    expect(p_voting).to_have_attribute("data-state", "closed")
    expect(p_voting).to_have_text(CLOSED[lang][1])
    expect(c_voting).to_have_text(CLOSED[lang][2])
    for page, name in ((phone, "phone"), (projector, "projector"), (console, "console")):
        shot(page, shots, f"3-{name}-closed-{lang}")

    # The next consideration opens soon; back on this one it is closed again, also after a reload.
    room.goto(NEXT_CONSIDERATION[lang])
    expect(status).to_have_attribute("data-state", "voting-soon")
    expect(p_voting).to_have_attribute("data-state", "soon")
    room.goto(2)
    expect(status).to_have_attribute("data-state", "voting-closed")
    phone.reload()
    expect(phone.locator("#status")).to_have_text(CLOSED[lang][0])
    expect(c_voting).to_have_text(CLOSED[lang][2])


# -- 4. The projector's join code never wraps ---------------------------------------------------

#: How the code's text lies: its lines, and whether it stays inside its box and the screen.
CODE_BOX = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  const text = range.getBoundingClientRect(), box = el.getBoundingClientRect();
  return {lines: lines.size, right: text.right, boxRight: box.right + 1, screen: window.innerWidth,
          size: parseFloat(getComputedStyle(el).fontSize)};
}"""


def set_code(server, meeting_id: str, code: str) -> None:
    """Give a session a chosen join code (the widest letters), straight in the server's database."""
    import sqlalchemy as sa

    engine = sa.create_engine(server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meetings SET code = :c WHERE id = :id"), {"c": code, "id": meeting_id})
    engine.dispose()


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_join_code_stays_on_one_line(server, rooms, shots, lang):
    room = rooms(lang)
    codes = {"sv": ("WWWWWW", "MMMMMM", "WMWQWM"), "da": ("MWMWMW", "WWWMMM", "QWMWQM")}[lang]
    for code in (room.code, *codes):
        set_code(server, room.id, code)
        for viewport in PROJECTORS:
            page = room.projector(viewport)
            expect(page.locator("#waiting")).to_be_visible()
            found = page.locator(".proj-code").evaluate(CODE_BOX)
            size = f"{viewport['width']}x{viewport['height']}"
            assert found["lines"] == 1, (code, size, found)
            assert found["right"] <= min(found["boxRight"], found["screen"]), (code, size, found)
            assert found["size"] >= viewport["height"] / 16, (code, size, found)  # still big
            if code == codes[0] or code == room.code:
                shot(page, shots, f"4-projector-{code}-{size}-{lang}")
            page.context.close()
            room.contexts.remove(page.context)
        console = room.console()
        found = console.locator(".join-code").evaluate(CODE_BOX)
        assert found["lines"] == 1 and found["right"] <= found["boxRight"], (code, "console", found)
        if code == codes[0]:
            shot(console, shots, f"4-console-{code}-{lang}")
        console.context.close()
        room.contexts.remove(console.context)


# -- 5. The QR code stays on the projector --------------------------------------------------------


def decoded(page, selector: str) -> list[str]:
    """The QR codes found in a screenshot of one element."""
    import io

    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator(selector).screenshot())))]


def apart(page, selector: str, other: str = "#join-corner") -> bool:
    """The visible parts of `selector` do not overlap `other`."""
    return page.evaluate("""([a, b]) => {
      const o = document.querySelector(b).getBoundingClientRect();
      return [...document.querySelectorAll(a)].filter(e => e.offsetParent !== null).every(e => {
        const r = e.getBoundingClientRect();
        return r.right <= o.left || r.left >= o.right || r.bottom <= o.top || r.top >= o.bottom;
      });
    }""", [selector, other])


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_qr_code_stays_on_every_slide_large_on_a_key_or_hidden(rooms, shots, lang):
    room = rooms(lang)
    join_url = f"{room.server.url}/j/{room.code}"
    room.control("start")
    projectors = {f"{v['width']}x{v['height']}": room.projector(v) for v in PROJECTORS}
    phone = room.phone()
    # item 4 is an open question in both guides
    slides = (("info", 0, None), ("vote", 2, "show_results"), ("prompt", 4, "comment"))
    for slide, index, extra in slides:
        room.goto(index)
        if extra == "show_results":
            room.control("open_voting")
            phone.get_by_role("button", name="Ja", exact=True).click()
            room.control("show_results")
        elif extra == "comment":
            phone.get_by_role("textbox").fill("Fler mötesplatser i trapphusen och en gemensam middag varje månad")
            phone.locator("#comment button[type=submit]").click()
        for size, page in projectors.items():
            corner = page.locator("#join-corner")
            expect(corner).to_be_visible()
            expect(page.locator("#waiting")).to_be_hidden()
            if extra == "show_results":
                expect(page.locator("#p-bars")).to_be_visible()
            if extra == "comment":
                expect(page.locator("#wall li")).to_have_count(1)
            height = int(size.split("x")[1])
            code = page.locator(".proj-join-code").evaluate(CODE_BOX)
            assert code["lines"] == 1 and code["right"] <= min(code["boxRight"], code["screen"]), (size, code)
            assert code["size"] >= 0.04 * height, (size, code)  # readable from the back of the hall
            assert page.locator(".proj-join-url").evaluate(FONT)[1] >= 0.025 * height
            assert page.locator(".proj-join-qr").bounding_box()["height"] >= 0.3 * height
            assert apart(page, "#p-text, #p-title, #p-voting, #p-bars, #p-voters, #wall li"), (slide, size)
            assert page.evaluate("() => document.scrollingElement.scrollHeight") <= height
            if slide == "vote":
                assert decoded(page, "#join-corner") == [join_url], size
            shot(page, shots, f"5-projector-{slide}-{size}-{lang}")

    # A key on the console shows it large; again puts it back; a button hides it, for good.
    console = room.console()
    page = projectors["1280x720"]
    console.locator("body").click(position={"x": 5, "y": 5})
    console.keyboard.press("q")
    large = console.locator("#btn-join-large")
    expect(large).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#waiting")).to_be_visible()
    expect(page.locator("#current")).to_be_hidden()
    assert page.locator(".proj-qr").bounding_box()["height"] >= 0.6 * 720
    assert decoded(page, ".proj-qr") == [join_url]
    shot(page, shots, f"5-projector-large-1280x720-{lang}")
    shot(console, shots, f"5-console-large-{lang}")
    console.keyboard.press("Q")
    expect(large).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#join-corner")).to_be_visible()
    hide = console.locator("#btn-join-hide")
    hide.click()
    expect(hide).to_have_attribute("aria-pressed", "true")
    for other in projectors.values():
        expect(other.locator("#join-corner")).to_be_hidden()
        expect(other.locator("#current")).to_be_visible()
    page.reload()
    expect(page.locator("#current")).to_be_visible()
    expect(page.locator("#join-corner")).to_be_hidden()
    shot(page, shots, f"5-projector-hidden-1280x720-{lang}")
    shot(console, shots, f"5-console-hidden-{lang}")
    hide.click()
    expect(hide).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#join-corner")).to_be_visible()


# -- 6. "N of M have voted" on the projector, never the split while hidden ----------------------


def split_seen(events: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """Every event that carries how the room voted (counts per choice)."""
    return [(name, data) for name, data in events
            if name == "results" or (isinstance(data, dict) and "counts" in data)]


def test_the_projector_gets_how_many_voted_but_never_the_split_while_hidden(rooms):
    room = rooms("da")
    room.goto(2)
    projector = room.socket({"projector_key": room.key})
    phones = [room.socket({"code": room.code}) for _ in range(3)]
    try:
        item_id = room.control("open_voting")["item"]["id"]
        for n, (phone, choice) in enumerate(zip(phones, ("yes", "no", "yes"), strict=True), start=1):
            assert phone.call("vote", {"item_id": item_id, "choice": choice}) == {"ok": True}
            projector.wait_for("voters", lambda d, n=n: d["voters"] == n)
        got = projector.of("voters")[-1]
        assert got == {"item_id": item_id, "voters": 3, "participants": 3}
        room.control("close_voting")
        assert projector.wait_for("state", lambda s: s["voting_open"] is False)
        # A projector that connects now gets the count too, and no more than the count.
        late = room.socket({"projector_key": room.key})
        assert late.wait_for("voters")["voters"] == 3
        assert split_seen(projector.events) == [] and split_seen(late.events) == []

        room.control("show_results")
        shown = projector.wait_for("results")
        assert shown["counts"] == {"yes": 2, "no": 1, "unsure": 0}
        room.control("hide_results")
        projector.wait_for("state", lambda s: s["results_visible"] is False)
        late.close()
        last = room.socket({"code": room.code})
        phones.append(last)  # closed with the others
        before = len(projector.events)
        room.control("open_voting")
        assert phones[1].call("vote", {"item_id": item_id, "choice": "yes"}) == {"ok": True}
        # The event that must come last: a count that includes a vote cast after that one. Every
        # round of the server's loop sends the reopened state first, then recounts whatever was
        # voted since the last round, so anything the first vote or the reopening could send the
        # projector has arrived by the time the count of four does.
        assert last.call("vote", {"item_id": item_id, "choice": "no"}) == {"ok": True}
        projector.wait_for("voters", lambda d: d["voters"] == 4)
        assert split_seen(projector.events[before:]) == []
    finally:
        for client in (projector, *phones):
            client.close()


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_projector_counts_voters_live_while_results_are_hidden(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)
    projectors = {f"{v['width']}x{v['height']}": room.projector(v) for v in PROJECTORS}
    phones = [room.phone(), room.phone(), room.phone()]
    voters = {"sv": "%s av 3 telefoner har röstat.", "da": "%s af 3 telefoner har stemt."}[lang]
    for page in projectors.values():
        expect(page.locator("#participants")).to_have_text("3")
        expect(page.locator("#p-voters")).to_be_hidden()  # voting opens soon: nothing to count yet
    room.control("open_voting")
    for page in projectors.values():
        expect(page.locator("#p-voters")).to_have_text(voters % 0)
    for n, (phone, label) in enumerate(zip(phones, ("Ja", "Nej", "Ja"), strict=True), start=1):
        phone.get_by_role("button", name=label, exact=True).click()
        for page in projectors.values():
            expect(page.locator("#p-voters")).to_have_text(voters % n)
            expect(page.locator("#p-bars")).to_be_hidden()
            assert page.locator("#p-bars li").count() == 0
    for size, page in projectors.items():
        height = int(size.split("x")[1])
        assert page.locator("#p-voters").evaluate(FONT)[1] >= 0.03 * height
        assert apart(page, "#p-voters")
        shot(page, shots, f"6-projector-counting-{size}-{lang}")
    room.control("show_results")
    page = projectors["1280x720"]
    expect(page.locator("#p-bars li")).to_have_count(2)
    expect(page.locator("#p-voters")).to_have_text(voters % 3)
    shot(page, shots, f"6-projector-results-1280x720-{lang}")
    room.control("hide_results")
    expect(page.locator("#p-bars")).to_be_hidden()
    expect(page.locator("#p-voters")).to_have_text(voters % 3)


# -- 7. One model for comments on the projector ----------------------------------------------

COMMENT_HINTS = {
    "sv": ("Kommentarer på ett ställningstagande stannar här: projektorn visar bara dem du lägger upp, högst tre. "
           "Dolda når aldrig salen.",
           "Projektorn visar alla kommentarer på den här frågan, fästa först. Dölj en kommentar för att ta bort den "
           "från projektorn direkt."),
    "da": ("Kommentarer til en overvejelse bliver her: projektoren viser kun dem, du sætter på den, højst tre. "
           "Skjulte når aldrig salen.",
           "Projektoren viser alle kommentarer til dette spørgsmål, fastgjorte først. Skjul en kommentar for at "
           "fjerne den fra projektoren med det samme."),
}
SHOW = {"sv": ("Visa på projektorn", "Ta bort från projektorn", "Dölj", "Fäst"),
        "da": ("Vis på projektoren", "Fjern fra projektoren", "Skjul", "Fastgør")}
PROMPT = {"sv": 4, "da": 3}  # the first open question of each guide


def awake(page):
    """The projector with its controls shown (they fade to nothing while the mouse rests, and axe
    would measure a half-faded button): the page, for a scan."""
    page.mouse.move(5, 5)
    page.mouse.move(9, 9)
    page.wait_for_function("() => getComputedStyle(document.querySelector('.topbar')).opacity === '1'")
    return page


def post_comment(phone, text: str) -> None:
    phone.locator("#comment-text").fill(text)
    phone.locator("#comment button[type=submit]").click()
    expect(phone.locator("#comment-note")).to_have_text(re.compile("(Tak|Tack)"))


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_comments_reach_the_projector_by_one_rule_that_every_text_states(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)
    room.control("open_voting")
    phone, console = room.phone(scan=True), room.console(scan=True)
    projectors = {f"{v['width']}x{v['height']}": room.projector(v, scan=True) for v in PROJECTORS}
    expect(phone.locator("#comment-hint")).to_have_text(
        {"sv": "Samtalsledaren läser den och kan visa den på skärmen.",
         "da": "Mødelederen læser den og kan vise den på skærmen."}[lang])
    texts = ["Vi mangler tid til det frivillige arbejde.", "Tilliden er der, men den skal plejes.",
             "Bestyrelsen er for lukket.", "Beboerne kender ikke afdelingsmødet."]
    phone.get_by_role("button", name="Ja", exact=True).click()
    for text in texts:
        post_comment(phone, text)
    # A consideration: the console says the rule, and nothing reaches the projector until it is put there.
    expect(console.locator("#comments-hint")).to_have_text(COMMENT_HINTS[lang][0])
    expect(console.locator("#mod-list li")).to_have_count(4)
    for page in projectors.values():
        expect(page.locator("#p-voting")).to_be_visible()
        expect(page.locator("#wall")).to_be_hidden()
    show, unshow, hide, pin = SHOW[lang]
    for text in texts:  # four put on the projector: the three newest show
        row = console.locator("#mod-list li", has_text=text)
        row.get_by_role("button", name=show).click()
        expect(row.get_by_role("button", name=unshow)).to_have_attribute("aria-pressed", "true")
    room.control("close_voting")
    room.control("show_results")
    for size, page in projectors.items():
        height = int(size.split("x")[1])
        wall = page.locator("#wall li")
        expect(wall).to_have_count(3)
        expect(page.locator("#wall")).not_to_contain_text(texts[0])
        expect(page.locator("#p-bars li")).to_have_count(2)
        assert apart(page, "#p-text, #p-voting, #p-bars, #p-voters, #wall li")
        assert apart(page, "#p-bars", "#wall")
        assert page.evaluate("() => document.scrollingElement.scrollHeight") <= height
        assert max(b["y"] + b["height"] for b in (wall.nth(i).bounding_box() for i in range(3))) <= height
        shot(page, shots, f"7-projector-pinned-{size}-{lang}")
    queued = {"sv": "inte på projektorn nu", "da": "ikke på projektoren nu"}[lang]
    expect(console.locator("#mod-list li", has_text=texts[0])).to_contain_text(queued)  # honest about the fourth
    expect(console.locator("#mod-list li", has_text=queued)).to_have_count(1)
    shot(console, shots, f"7-console-consideration-{lang}")
    problems = {name: found for name, page in (("console", console), ("projector", awake(projectors["1280x720"])),
                                                ("phone", phone)) if (found := room.ui.axe_violations(page))}
    # Taken off, or hidden: gone from the projector at once.
    page = projectors["1280x720"]
    console.locator("#mod-list li", has_text=texts[3]).get_by_role("button", name=unshow).click()
    expect(page.locator("#wall li")).to_have_count(3)  # the oldest one moves up
    expect(page.locator("#wall")).to_contain_text(texts[0])
    console.locator("#mod-list li", has_text=texts[2]).get_by_role("button", name=hide).click()
    expect(page.locator("#wall li")).to_have_count(2)
    expect(page.locator("#wall")).not_to_contain_text(texts[2])

    # An open question: every comment that is not hidden, pinned first; the console says so.
    room.goto(PROMPT[lang])
    expect(phone.locator("#status")).to_have_attribute("data-state", "prompt")
    expect(phone.locator("#comment-hint")).to_be_hidden()
    post_comment(phone, "Flere fælles arrangementer i gården.")
    post_comment(phone, "Et nyhedsbrev på flere sprog.")
    expect(console.locator("#comments-hint")).to_have_text(COMMENT_HINTS[lang][1])
    expect(page.locator("#wall li")).to_have_count(2)
    console.locator("#mod-list li", has_text="gården").get_by_role("button", name=pin).click()
    expect(page.locator("#wall li").first).to_have_text("Flere fælles arrangementer i gården.")
    console.locator("#mod-list li", has_text="nyhedsbrev").get_by_role("button", name=hide).click()
    expect(page.locator("#wall li")).to_have_count(1)
    shot(page, shots, f"7-projector-prompt-1280x720-{lang}")
    shot(console, shots, f"7-console-prompt-{lang}")
    problems.update({f"{name}, prompt": found for name, page in (("console", console), ("projector", awake(page)))
                     if (found := room.ui.axe_violations(page))})
    assert problems == {}


# -- 8. The projector is a stage: no chrome, a full-screen button ------------------------------

FADED = "() => getComputedStyle(document.querySelector('.topbar')).opacity === '0'"


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_projector_is_a_stage_with_a_full_screen_button(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)
    projectors = {f"{v['width']}x{v['height']}": room.projector(v) for v in PROJECTORS}
    for size, page in projectors.items():
        height = int(size.split("x")[1])
        expect(page.locator("#current")).to_be_visible()
        assert page.locator(".brand, .topnav").count() == 0
        # The meeting's own line is the top of the screen; the controls take no room of their own.
        assert page.locator(".proj-head").bounding_box()["y"] < 0.06 * height
        bar = page.locator(".topbar").bounding_box()
        assert bar["y"] > 0.85 * height and bar["x"] < 0.05 * int(size.split("x")[0])
    for size, page in projectors.items():
        # The mouse rests: the controls and the cursor fade, and the stage shows only the meeting.
        page.wait_for_function(FADED, timeout=8000)
        expect(page.locator("body")).to_have_class(re.compile(r"\bidle\b"))
        shot(page, shots, f"8-projector-stage-{size}-{lang}")
    page = projectors["1280x720"]
    page.mouse.move(640, 360)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bidle\b"))
    page.wait_for_function(FADED.replace("=== '0'", "=== '1'"))
    # The language switch is still there for the operator (every page has one).
    for name in ("Svenska", "Dansk", "English"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    button = page.get_by_role("button", name={"sv": "Helskärm", "da": "Fuld skærm"}[lang])
    expect(button).to_be_visible()
    assert button.bounding_box()["height"] >= 44
    shot(page, shots, f"8-projector-controls-1280x720-{lang}")
    button.click()
    page.wait_for_function("() => document.fullscreenElement === document.documentElement")
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    page.wait_for_function("() => document.fullscreenElement === null")
    expect(button).to_have_attribute("aria-pressed", "false")
    # The keyboard brings the controls back too, and they stay while one has the focus.
    page.wait_for_function(FADED, timeout=8000)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(".topbar")).to_have_css("opacity", "1")


# -- 9. A meeting has a language; the projector and unchosen phones follow it -----------------


def english_laptop(room, viewport: dict, *, cookie: bool = True):
    """A browser set to English (Accept-Language), and with the facilitator's language cookie
    saying English too: what the projector laptop often is."""
    ctx = room._context(True, viewport=viewport, locale="en-US")
    if cookie:
        ctx.add_cookies([{"name": "dialogrum_lang", "value": "en", "url": room.server.url}])
    return ctx.new_page()


def test_a_meeting_has_a_language_that_the_projector_and_unchosen_phones_follow(rooms, shots, server, token):
    room = rooms("sv")
    assert room.session["language"] == "sv"  # the guide's, by default
    room.goto(2)
    # The projector on an English laptop shows the Swedish meeting in Swedish; <html lang> says so.
    projector = english_laptop(room, PROJECTORS[1])
    projector.goto(f"{server.url}/p/{room.key}")
    expect(projector.locator("html")).to_have_attribute("lang", "sv")
    expect(projector.locator("#p-voting")).to_have_text("Röstningen öppnar snart.")
    expect(projector.locator(".proj-count")).to_contain_text("anslutna")
    assert room.ui.axe_violations(awake(projector)) == []
    shot(projector, shots, "9-projector-sv-meeting-on-an-english-laptop")
    # Its own switch still works, for the operator.
    projector.get_by_role("link", name="English").click()
    expect(projector.locator("html")).to_have_attribute("lang", "en")
    expect(projector.locator("#p-voting")).to_have_text("Voting opens soon.")

    # A phone that has not chosen follows the meeting; one that chooses keeps its choice.
    phone = english_laptop(room, dict(room.ui.phone), cookie=False)
    phone.goto(f"{server.url}/j/{room.code}")
    expect(phone.locator("html")).to_have_attribute("lang", "sv")
    expect(phone.locator("#status")).to_have_text("Röstningen öppnar snart.")
    assert room.ui.axe_violations(phone) == []
    shot(phone, shots, "9-phone-follows-the-meeting-sv")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("#status")).to_have_text("Voting opens soon.")
    phone.goto(f"{server.url}/j/{room.code}")  # later, without ?lang=: still the phone's own choice
    expect(phone.locator("#status")).to_have_text("Voting opens soon.")
    expect(phone.get_by_role("button", name="Ja", exact=True)).to_be_visible()  # the guide's own labels

    # A meeting made in Danish from the Swedish guide: REST says so, the room shows Danish.
    resp = requests.post(server.url + "/api/v1/sessions", headers=room.headers, timeout=10,
                         json={"guide_id": room.guide_id, "title": "Nordisk møde", "language": "da"})
    assert resp.status_code == 201 and resp.json()["language"] == "da"
    danish = resp.json()
    assert requests.get(f"{server.url}/api/v1/sessions/{danish['id']}", headers=room.headers,
                        timeout=10).json()["language"] == "da"
    projector.goto(danish["projector_url"])
    expect(projector.locator("html")).to_have_attribute("lang", "da")
    expect(projector.locator("#waiting-heading")).to_contain_text("Deltag")
    shot(projector, shots, "9-projector-da-meeting-of-a-sv-guide")
    bad = requests.post(server.url + "/api/v1/sessions", headers=room.headers, timeout=10,
                        json={"guide_id": room.guide_id, "title": "x", "language": "de"})
    assert bad.status_code == 422

    # The console's projector button carries no language of its own; the sessions form offers one.
    console = room.console("da", scan=True)
    assert "lang=" not in console.locator("#open-projector").get_attribute("href")
    console.goto(f"{server.url}/sessions?lang=da")
    language = console.get_by_label("Mødets sprog")
    expect(language).to_have_value("")
    language.select_option("en")
    console.locator("#title").fill("Mixed meeting")
    assert room.ui.axe_violations(console) == []
    shot(console, shots, "9-sessions-form-language-da")
    console.get_by_role("button", name="Opret og åbn konsollen").click()
    console.wait_for_url("**/console/*")
    made = requests.get(server.url + "/api/v1/sessions", headers=room.headers, timeout=10).json()
    assert next(m for m in made if m["title"] == "Mixed meeting")["language"] == "en"
    console.goto(f"{server.url}/sessions?lang=sv")
    expect(console.get_by_label("Mötets språk")).to_have_value("")
    shot(console, shots, "9-sessions-form-language-sv")


# -- 10. No English on Danish and Swedish pages: plurals, form messages, guide errors ---------
# (every page and file is rendered in tests/test_no_english.py; this is what a browser shows)

PLURALS = {"sv": ("Du har skickat 1 kommentar på den här punkten.", "1 telefon ansluten", "1 av 1 telefon har röstat.",
                  "Det här fältet måste fyllas i."),
           "da": ("Du har sendt 1 kommentar til dette punkt.", "1 telefon forbundet", "1 af 1 telefon har stemt.",
                  "Dette felt skal udfyldes.")}
BAD_GUIDE = """title: Forkert
language: da
sections:
  - title: Et afsnit
    items:
      - kind: question
        text: Hvad nu?
"""


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_plurals_form_messages_and_guide_errors_speak_the_page_language(rooms, shots, tmp_path, lang):
    sent, connected, voted, required = PLURALS[lang]
    room = rooms(lang)
    room.goto(2)
    room.control("open_voting")
    projector = room.projector(PROJECTORS[1], scan=True)
    phone = room.phone(scan=True)
    phone.get_by_role("button", name="Ja", exact=True).click()
    post_comment(phone, {"sv": "Bra fråga", "da": "Godt spørgsmål"}[lang])
    expect(phone.locator("#comment-note")).to_contain_text(sent)
    assert "(" not in phone.locator("#comment-note").inner_text()
    expect(projector.locator(".proj-count")).to_have_text(connected)
    expect(projector.locator("#p-voters")).to_have_text(voted)
    console = room.console(scan=True)
    expect(console.locator("#counts-voters")).to_have_text(voted)
    problems = {name: found for name, page in (("phone", phone), ("projector", awake(projector)))
                if (found := room.ui.axe_violations(page))}
    shot(phone, shots, f"10-phone-one-comment-{lang}")
    shot(projector, shots, f"10-projector-one-phone-{lang}")

    # A form refused: WTForms' own message in the page's language, next to its field.
    console.goto(f"{room.server.url}/sessions?lang={lang}")
    console.get_by_role("button", name={"sv": "Skapa och öppna konsolen", "da": "Opret og åbn konsollen"}[lang]).click()
    expect(console.locator("#title-errors")).to_have_text(required)
    expect(console.locator("#title")).to_have_attribute("aria-invalid", "true")
    problems.update({"sessions form": found} if (found := room.ui.axe_violations(console)) else {})
    console.locator("#title").scroll_into_view_if_needed()
    shot(console, shots, f"10-form-required-{lang}")
    # A guide refused: the validator's messages in the page's language, each at its place.
    guide = tmp_path / "forkert.yaml"
    guide.write_text(BAD_GUIDE)
    console.goto(f"{room.server.url}/guides?lang={lang}")
    console.locator("input[type=file]").set_input_files(str(guide))
    console.get_by_role("button", name={"sv": "Importera", "da": "Importér"}[lang]).click()
    errors = console.locator("#import-errors li")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text({"sv": "kind måste vara en av", "da": "kind skal være en af"}[lang])
    problems.update({"guide import": found} if (found := room.ui.axe_violations(console)) else {})
    shot(console, shots, f"10-guide-refused-{lang}")
    assert problems == {}


# -- 11. Files that Excel in Swedish or Danish reads, with the comments' texts -----------------


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_report_hands_out_csv_for_excel_in_the_page_language_with_the_comments(rooms, shots, lang):
    room = rooms(lang)
    item = room.goto(2)["item"]["id"]
    room.control("open_voting")
    phones = [room.socket({"code": room.code}) for _ in range(3)]
    try:
        for phone, choice in zip(phones, ("yes", "yes", "no"), strict=True):
            assert phone.call("vote", {"item_id": item, "choice": choice}) == {"ok": True}
        assert phones[0].call("comment", {"item_id": item, "text": "Ja; men “kun” hvis 1,5 mio. rækker"})["ok"]
    finally:
        for phone in phones:
            phone.close()
    room.control("end")
    ctx = room._context(True, viewport={"width": 1280, "height": 900}, storage_state=room.console_state,
                        accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{room.server.url}/sessions/{room.id}/report?lang={lang}")
    excel = {"sv": "CSV för Excel", "da": "CSV til Excel"}[lang]
    import csv as csvlib
    import io

    tables = []
    for table in ("Punkter", "Kommentarer"):  # one table per file (issue 12, gap 12)
        with page.expect_download() as download:
            page.get_by_role("link", name=f"{excel}: {table}").click()
        text = download.value.path().read_bytes().decode("utf-8-sig")
        tables.append(list(csvlib.reader(io.StringIO(text), delimiter=";")))
    items, comments = tables
    assert items[0][0] == {"sv": "Nr", "da": "Nr."}[lang] and len({len(r) for r in items}) == 1
    vote = next(r for r in items[1:] if r[8] == "3")
    assert vote[5:10] == ["2", "1", "0", "3", "66,7"]
    # The text, whole, in its own cell (columns added later, thumbs-up and approval, come after it).
    assert "Ja; men “kun” hvis 1,5 mio. rækker" in comments[1]
    assert room.ui.axe_violations(page) == []
    page.locator(".toolbar").screenshot(path=str(shots / f"11-report-downloads-{lang}.png"))
    page.goto(f"{room.server.url}/guides/{room.guide_id}/rollup?lang={lang}")
    page.locator(".downloads").screenshot(path=str(shots / f"11-rollup-downloads-{lang}.png"))
    with page.expect_download() as download:
        page.get_by_role("link", name=excel).click()
    header = download.value.path().read_bytes().decode("utf-8-sig").split("\r\n")[0].split(";")
    # The roll-up's columns in the page's language, counted hands and the paper mark (issue 11), then
    # each session's conclusion (issue 12, gap 11) last.
    assert header[:3] == {"sv": ["Punktens id", "Typ", "Text"], "da": ["Punktets id", "Type", "Tekst"]}[lang]
    assert len(header) == 18 and header[-2] == {"sv": "Inmatat för hand", "da": "Indtastet manuelt"}[lang]
    assert header[-1] == {"sv": "Slutsats", "da": "Konklusion"}[lang]


# -- 12. The ended console shows the way forward ---------------------------------------------

AFTER = {"sv": ("Mötet är avslutat", "Öppna rapporten", "Jämför med guidens andra möten", "Kör guiden igen"),
         "da": ("Mødet er afsluttet", "Åbn rapporten", "Sammenlign med guidens andre møder", "Kør guiden igen")}


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_ended_console_offers_the_report_downloads_rollup_and_run_again(rooms, shots, lang):
    room = rooms(lang)
    room.goto(2)
    room.control("open_voting")
    phone = room.phone()
    phone.get_by_role("button", name="Ja", exact=True).click()
    expect(phone.locator("#vote-note")).to_have_text(re.compile("(gemt|sparad)"))
    room.goto(NEXT_CONSIDERATION[lang])
    console = room.console(scan=True)
    heading, report, rollup, again = AFTER[lang]
    expect(console.locator("#join-box")).to_be_visible()
    expect(console.locator("#after")).to_be_hidden()
    end = console.locator("#btn-end")
    end.click()
    end.click()  # two steps: ending cannot be undone
    after = console.locator("#after")
    expect(after).to_be_visible()
    expect(console.get_by_role("heading", name=heading)).to_be_focused()
    # Nothing stale: no QR code, no projector button, no "showing item N", no room controls.
    for gone in ("#join-box", "#current-box", "#open-projector", "#btn-next", "#cur-position", "#outline"):
        expect(console.locator(gone)).to_be_hidden()
    assert console.locator("img[src$='qr.svg']").evaluate_all("els => els.filter(e => e.offsetParent).length") == 0
    found = room.ui.axe_violations(console)
    shot(console, shots, f"12-console-ended-{lang}")
    for width, height in ((1024, 768), (1280, 720)):
        console.set_viewport_size({"width": width, "height": height})
        assert console.evaluate("() => document.scrollingElement.scrollWidth") <= width
        shot(console, shots, f"12-console-ended-{width}x{height}-{lang}")
    console.set_viewport_size({"width": 1440, "height": 900})
    assert found == []

    # Every way forward works: the downloads, the report, the roll-up, and running it again.
    links = after.locator(".after-downloads a")
    # CSV for Excel here, one table per file (items, comments, all of them in a ZIP), CSV for other
    # programs, XLSX, JSON
    expect(links).to_have_count(6)
    bodies = []
    for i in range(6):
        resp = console.request.get(room.server.url + links.nth(i).get_attribute("href"))
        assert resp.status == 200 and "attachment" in resp.headers["content-disposition"]
        bodies.append(resp.body())
    excel, plain = (bodies[n].decode("utf-8-sig").splitlines()[0] for n in (0, 3))
    assert excel.startswith({"sv": "Nr;Avsnitt;", "da": "Nr.;Afsnit;"}[lang]) and plain.startswith("position,section,")
    after.get_by_role("link", name=report).click()
    expect(console.get_by_role("heading", level=1)).to_have_text(TITLES[lang])
    console.go_back()
    expect(after).to_be_visible()  # a reload of an ended console shows the way forward at once
    expect(console.locator("#join-box")).to_be_hidden()
    after.get_by_role("link", name=rollup).click()
    expect(console.locator("h1")).to_contain_text(GUIDES[lang])
    console.go_back()
    # "Run again" is a button that creates the session at once (tests/e2e/test_hall.py); its
    # "change them first" link starts the form with the same guide, title and unit instead.
    expect(after.get_by_role("button", name=again)).to_be_visible()
    after.get_by_role("link", name={"sv": "Ändra dem först", "da": "Ret dem først"}[lang]).click()
    expect(console.locator("#guide_id")).to_have_value(room.guide_id)
    expect(console.locator("#title")).to_have_value(TITLES[lang])
    shot(console, shots, f"12-sessions-again-{lang}")
    console.get_by_role("button", name={"sv": "Skapa och öppna konsolen", "da": "Opret og åbn konsollen"}[lang]).click()
    console.wait_for_url(re.compile(r"/console/(?!" + room.id + ")"))
    expect(console.locator("#join-box")).to_be_visible()
    expect(console.locator("#after")).to_be_hidden()


# -- 14. Small things: the "Ved ikke" bar, the guide page's kind labels, a favicon --------------

#: A Danish guide whose second consideration has "Ved ikke" (tests.conftest.SMALL_GUIDE).
DANISH_UNSURE = "Testguide"


@pytest.fixture(scope="module")
def danish_unsure_guide(server, token) -> str:
    from tests.conftest import SMALL_GUIDE

    resp = requests.post(server.url + "/api/v1/guides", json=SMALL_GUIDE, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    resp.raise_for_status()
    return resp.json()["id"]


TRACKS = """list => [...list.querySelectorAll('.bar-track')].map(t => {
  const r = t.getBoundingClientRect();
  return [Math.round(r.left), Math.round(r.right)];
})"""


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_unsure_bar_lines_up_with_yes_and_no(rooms, danish_unsure_guide, shots, lang):
    room = rooms(lang, guide_title=None if lang == "sv" else DANISH_UNSURE)
    room.goto(7 if lang == "sv" else 2)  # a consideration with allow_unsure
    unsure = {"sv": "Vet inte", "da": "Ved ikke"}[lang]
    phones = [room.phone(), room.phone(), room.phone()]
    room.control("open_voting")
    for phone, label in zip(phones, ("Ja", unsure, unsure), strict=True):
        phone.get_by_role("button", name=label, exact=True).click()
        expect(phone.get_by_role("button", name=label, exact=True)).to_have_attribute("aria-pressed", "true")
    room.control("show_results")
    pages = {"phone": phones[0], "console": room.console(),
             **{f"projector-{v['width']}x{v['height']}": room.projector(v) for v in PROJECTORS}}
    for name, page in pages.items():
        bars = page.locator({"phone": "#results-bars", "console": "#count-bars"}.get(name, "#p-bars"))
        expect(bars.locator(".bar")).to_have_count(3)
        expect(bars.locator(".bar-unsure .bar-label")).to_have_text(unsure)
        expect(bars.locator(".bar-unsure .bar-figure")).to_have_text(re.compile("^2 · 67"))
        tracks = bars.evaluate(TRACKS)
        assert len(set(map(tuple, tracks))) == 1, (name, tracks)  # one left edge, one right edge
        shot(page, shots, f"14-bars-{name}-{lang}")
    assert phones[0].evaluate("() => document.scrollingElement.scrollWidth") <= 360


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_guide_page_sets_the_kind_apart_from_the_title(rooms, shots, lang):
    room = rooms(lang)
    ctx = room._context(viewport={"width": 1280, "height": 900}, locale=LOCALES[lang],
                        storage_state=room.console_state)
    page = ctx.new_page()
    page.goto(f"{room.server.url}/guides/{room.guide_id}?lang={lang}")
    first = page.locator(".guide-items li").first
    kind, title = first.locator(".kind"), first.locator(".item-heading")
    expect(kind).to_have_text({"sv": "Information", "da": "Information"}[lang])
    expect(title).to_have_text({"sv": "Vår uppgift", "da": "Formål med drøftelsen"}[lang])
    assert kind.bounding_box()["y"] + kind.bounding_box()["height"] <= title.bounding_box()["y"] + 1
    assert re.match(r"(?i)information\s+\S", first.inner_text())  # never "INFORMATIONFormål"
    shot(page, shots, f"14-guide-{lang}")


def test_every_page_has_a_favicon(server, browser, token):
    ctx = browser.new_context()
    page = ctx.new_page()
    for path in ("/", "/login"):
        page.goto(server.url + path)
        href = page.locator("link[rel=icon]").get_attribute("href")
        icon = page.request.get(server.url + href)
        assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in icon.text()
    legacy = page.request.get(server.url + "/favicon.ico")  # what browsers ask for on their own
    assert legacy.status == 200 and legacy.headers["content-type"].startswith("image/svg+xml")
    ctx.close()


#: How much of the longest option of a dropdown its closed box can show (1.0: all of it).
OPTION_FITS = """select => {
  const probe = document.createElement('span');
  probe.style.font = getComputedStyle(select).font;
  probe.style.whiteSpace = 'pre';
  document.body.appendChild(probe);
  let widest = 0;
  for (const o of select.options) { probe.textContent = o.text; widest = Math.max(widest, probe.offsetWidth); }
  probe.remove();
  const room = select.clientWidth - 48;  // padding and the arrow
  return room / widest;
}"""


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_guide_dropdown_shows_whole_titles(rooms, shots, lang):
    room = rooms(lang)
    for width in (1024, 1280):
        ctx = room._context(viewport={"width": width, "height": 800}, locale=LOCALES[lang],
                            storage_state=room.console_state)
        page = ctx.new_page()
        page.goto(f"{room.server.url}/sessions?lang={lang}")
        for select in ("#guide_id", "#f-guide"):
            assert page.locator(select).evaluate(OPTION_FITS) >= 1, (select, width)
        page.locator("#guide_id").select_option(label=GUIDES["da"])
        shot(page, shots, f"14-sessions-{width}-{lang}")


# -- Every new state passes axe ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_new_states_have_no_serious_accessibility_violations(rooms, lang):
    room = rooms(lang)
    room.goto(2)
    room.control("open_voting")
    problems = {}

    def scan(name, page, ready):
        expect(page.locator(ready).first).to_be_visible()
        found = room.ui.axe_violations(page)
        if found:
            problems[name] = found

    phone = room.phone(scan=True)
    phone.get_by_role("button", name="Ja", exact=True).click()
    projector = room.projector(PROJECTORS[1], scan=True)
    scan("projector counting, corner", projector, "#p-voters")
    room.control("hide_join")
    room.control("show_results")
    scan("phone results", phone, "#results-bars li")
    scan("projector results, hidden", projector, "#p-bars li")
    console = room.console(scan=True)
    scan("console, join hidden", console, "#btn-join-hide[aria-pressed=true]")
    room.control("show_join_large")
    # Awake again: the scans above took longer than the 3 s after which its controls fade.
    scan("projector large", awake(projector), "#waiting")
    guide = room._context(True, viewport={"width": 1280, "height": 900}, storage_state=room.console_state)
    page = guide.new_page()
    page.goto(f"{room.server.url}/guides/{room.guide_id}?lang={lang}")
    scan("guide", page, ".guide-items .kind")
    page.goto(f"{room.server.url}/sessions?lang={lang}")
    scan("sessions", page, "#guide_id")
    assert problems == {}


# -- 13. While nobody can sign in, the start page and /login say how to get the first-run link --

FIRST_RUN = {"sv": "Ingen kan logga in än", "da": "Ingen kan logge ind endnu"}


def test_while_nobody_can_sign_in_the_pages_say_how_to_get_the_first_run_link(browser, ui, shots, tmp_path):
    from tests.conftest import ServerProcess

    fresh = ServerProcess(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}").start()
    try:
        secret = re.search(r"/setup/(\S+)", fresh.log.read_text()).group(1)  # printed on the server only
        ctx = ui.scan_context(browser, viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        problems = {}
        for lang in ("sv", "da"):
            for path in ("/", "/login"):
                page.goto(f"{fresh.url}{path}?lang={lang}")
                box = page.locator("#first-run")
                expect(box).to_be_visible()
                expect(box.get_by_role("heading")).to_have_text(FIRST_RUN[lang])
                expect(box.locator("code")).to_have_text(".venv/bin/dialogrum first-run-link")
                assert secret not in page.content() and "/setup/" not in page.content()
                found = ui.axe_violations(page)
                if found:
                    problems[f"{path} {lang}"] = found
                shot(page, shots, f"13-first-run{path.replace('/', '-')}-{lang}")
        assert problems == {}
        # Once somebody has a password, the note is gone from both pages.
        fresh.cli("user", "create", "--email", "kim@example.org", "--role", "organiser", stdin=PASSWORD_LINE)
        for path in ("/", "/login"):
            page.goto(f"{fresh.url}{path}?lang=da")
            expect(page.locator("h1")).to_be_visible()
            expect(page.locator("#first-run")).to_have_count(0)
        ctx.close()
    finally:
        fresh.stop()


PASSWORD_LINE = "correct horse battery\n"
