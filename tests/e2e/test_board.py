"""Regions side by side for the board (issue 12, gap 11), in Chromium against a real server: two
regions hold the Swedish built-in guide, write conclusions and comments on a Ja/Nej item (one of
them hidden); the roll-up shows each region's conclusion and comments next to the other's, on a
screen and in print, and its board report prints to PDF. Screenshots in sv and da, at 360 and
1280 px, in test-artifacts/screenshots/board-*.png."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shared.db import Database
from shared.uow import Work, unit_of_work
from tests.conftest import hold_meeting

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "correct horse battery"
GUIDE_TITLE = "Förtroendemannadialogen – mot målen 51/22"
C1, P1 = "sv51-s1-c1", "sv51-s1-p1"
REGIONS = {
    "Region Stockholm": {C1: ["yes", "yes", "no"]},
    "Region Syd": {C1: ["no", "no"]},
}


@pytest.fixture(scope="module")
def board(server, browser, screenshots):
    """An organiser signed in, and both regions' ended sessions with conclusions and comments."""
    from shared import meeting as rules
    from shared.models import Guide

    server.cli("user", "create", "--email", "styrelse@example.org", "--role", "organiser", "--name", "Kansliet",
               stdin=PASSWORD + "\n")
    engine = sa.create_engine(server.database_url)
    database = Database.for_engine(engine)
    with engine.begin() as conn:
        guide_id = conn.execute(sa.select(Guide.id).where(Guide.title == GUIDE_TITLE)).scalar_one()
        boss = conn.execute(sa.text("SELECT id FROM users WHERE email = 'styrelse@example.org'")).scalar_one()
    for unit, votes in REGIONS.items():
        with engine.begin() as conn:
            mid = rules.create_meeting(Work(conn), guide_id=guide_id, title=f"Dialogmöte {unit}", unit=unit,
                                       facilitator_id=boss)
        hold_meeting(engine, mid, votes, [f"Fler samtal i {unit}"], comment_on=P1, end=False,
                     conclusions={C1: f"{unit}: vi behöver synas mer i höst.", P1: f"{unit} värvar på jobbet."})
        with unit_of_work(database) as work:
            index = next(i["index"] for i in rules.snapshot(work.conn, mid).items if i["id"] == C1)
            rules.control(work, mid, "goto", index)
            pid = rules.join(work, rules.get_meeting(work.conn, mid))[0]
            rules.add_comment(work, mid, pid, C1, f"Synpunkt om synlighet från {unit}")
            hidden = rules.add_comment(work, mid, pid, C1, f"Dold: telefonnummer i {unit}")["id"]
        with unit_of_work(database) as work:
            rules.moderate(work, mid, hidden, hidden=True)
            rules.control(work, mid, "end")
    engine.dispose()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.url}/login?lang=sv")
    page.locator("input[name=email]").fill("styrelse@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/sessions")
    yield {"server": server, "page": page, "guide": guide_id, "shots": screenshots, "csp": csp_errors}
    ctx.close()


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_rollup_shows_the_regions_conclusions_and_comments_side_by_side(board, lang):
    page, url = board["page"], f"{board['server'].url}/guides/{board['guide']}/rollup?lang={lang}"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    item = page.locator(f"#side-{C1}").locator("xpath=..")
    units = item.locator(".side-unit")
    expect(units).to_have_count(2)
    expect(units.nth(0)).to_contain_text("Region Stockholm: vi behöver synas mer i höst.")
    expect(units.nth(0)).to_contain_text("Synpunkt om synlighet från Region Stockholm")
    expect(units.nth(1)).to_contain_text("Region Syd: vi behöver synas mer i höst.")
    expect(item).not_to_contain_text("Dold:")
    # Next to each other on a wide screen: the two columns share a row.
    first, second = units.nth(0).bounding_box(), units.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"] + first["width"]
    heading = {"sv": "Slutsatser och kommentarer sida vid sida", "da": "Konklusioner og kommentarer side om side"}
    expect(page.locator("#side-heading")).to_have_text(heading[lang])
    page.screenshot(path=str(board["shots"] / f"board-rollup-1280-{lang}.png"), full_page=True)

    # Print: the filters, downloads and publishing are gone, the comparison stays.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator(".public-links")).to_be_hidden()
    expect(units.nth(1)).to_be_visible()
    page.screenshot(path=str(board["shots"] / f"board-rollup-print-{lang}.png"), full_page=True)
    page.emulate_media(media="screen")

    # A phone: one column under the other, nothing wider than the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(url)
    first, second = units.nth(0).bounding_box(), units.nth(1).bounding_box()
    assert second["y"] > first["y"] + first["height"] - 1
    _no_horizontal_scroll(page)
    page.screenshot(path=str(board["shots"] / f"board-rollup-360-{lang}.png"), full_page=True)
    assert not board["csp"]


@pytest.mark.parametrize("lang", ["sv", "da"])
def test_the_board_report_prints_to_pdf(board, lang):
    from pypdf import PdfReader

    page = board["page"]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{board['server'].url}/guides/{board['guide']}/rollup?lang={lang}")
    page.locator(f"a[href*='/guides/{board['guide']}/rollup/report']").click()
    page.wait_for_url("**/rollup/report*")
    expect(page.get_by_role("button", name={"sv": "Skriv ut eller spara som PDF",
                                            "da": "Udskriv eller gem som PDF"}[lang])).to_be_visible()
    page.screenshot(path=str(board["shots"] / f"board-report-1280-{lang}.png"), full_page=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(board["shots"] / f"board-report-print-{lang}.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=False)
    page.emulate_media(media="screen")
    (board["shots"] / f"board-report-{lang}.pdf").write_bytes(pdf)
    flat = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    kicker = {"sv": "Sammanställning för styrelsen", "da": "Sammenstilling til bestyrelsen"}[lang]
    for expected in (kicker.upper(), GUIDE_TITLE, "Region Stockholm: vi behöver synas mer i höst.",
                     "Region Syd: vi behöver synas mer i höst.", "Synpunkt om synlighet från Region Syd",
                     "Fler samtal i Region Stockholm", "67", "Region Syd värvar på jobbet."):
        assert expected in flat, expected
    assert "Dold:" not in flat and "Logga ut" not in flat and "Log ud" not in flat
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    _no_horizontal_scroll(page)
    page.screenshot(path=str(board["shots"] / f"board-report-360-{lang}.png"), full_page=True)


def test_the_board_pages_have_no_serious_accessibility_violations(board, browser, ui):
    """axe-core on the roll-up and its board report, in Danish at 1280 and 360 px."""
    ctx = ui.scan_context(browser, viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = ctx.new_page()
    try:
        ui.sign_in(page, board["server"].url, {"email": "styrelse@example.org", "password": PASSWORD}, lang="da")
        found = {}
        for width in (1280, 360):
            page.set_viewport_size({"width": width, "height": 900})
            for path in (f"/guides/{board['guide']}/rollup", f"/guides/{board['guide']}/rollup/report"):
                page.goto(f"{board['server'].url}{path}?lang=da")
                violations = ui.axe_violations(page)
                if violations:
                    found[f"{path} at {width}"] = violations
        assert found == {}
    finally:
        ctx.close()


def test_print_leaves_out_back_links_and_navigation(board):
    """Issue 12 polish: paper cannot follow a link. The printed roll-up (with a campaign on it) and
    the board report show no "←" back link, no navigation, no "the campaign's page" or report links;
    the figures and the campaign's held list stay."""
    import sqlalchemy.orm as so

    from shared import campaigns
    from shared.models import Unit, User

    engine = sa.create_engine(board["server"].database_url)
    with so.Session(engine) as db:
        boss = db.scalar(sa.select(User).where(User.email == "styrelse@example.org"))
        units = []
        for name in REGIONS:
            unit = db.scalar(sa.select(Unit).where(Unit.name == name)) or Unit(name=name)
            db.add(unit)
            units.append(unit)
        db.flush()
        campaigns.save_campaign(db, boss, guide_id=board["guide"], unit_ids=[u.id for u in units],
                                deadline="2099-06-30")
        db.commit()
    engine.dispose()
    page, base = board["page"], board["server"].url
    visible_links = ("() => [...document.querySelectorAll('a')].filter(a => a.offsetParent !== null)"
                     ".map(a => a.textContent.trim())")
    try:
        for lang in ("sv", "da"):
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{base}/guides/{board['guide']}/rollup?lang={lang}")
            expect(page.locator("main a", has_text="←").first).to_be_visible()  # on the screen it is there
            expect(page.locator(".campaign-card")).to_be_visible()
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 794, "height": 1123})
            expect(page.locator(".campaign-held")).to_be_visible()
            links = page.evaluate(visible_links)
            assert not [t for t in links if t.startswith("←")], links
            assert page.locator(".topnav").is_hidden() and page.locator(".langs").is_hidden()
            assert not [t for t in links if "Kampanj" in t or "kampagne" in t.lower() or "“" in t], links
            page.screenshot(path=str(board["shots"] / f"board-rollup-print-campaign-{lang}.png"), full_page=True)
            page.emulate_media(media="screen")
            page.goto(f"{base}/guides/{board['guide']}/rollup/report?lang={lang}")
            page.emulate_media(media="print")
            links = page.evaluate(visible_links)
            assert not [t for t in links if t.startswith("←")], links
            assert page.locator(".topnav").is_hidden()
            page.emulate_media(media="screen")
    finally:
        page.emulate_media(media="screen")
