"""The organiser's pages in Chromium against a real server: three regions hold the Swedish
built-in guide; the organiser compares them, publishes the public page, and prints a session
report to PDF (page.pdf(), read back with pypdf)."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from shared.uow import Work
from tests.conftest import hold_meeting

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "correct horse battery"
GUIDE_TITLE = "Förtroendemannadialogen – mot målen 51/22"
# votes on the first two considerations and comments on the first prompt, per region
REGIONS = {
    "Region Stockholm": ({"sv51-s1-c1": ["yes", "yes", "no"], "sv51-s1-c2": ["no", "no", "yes"]},
                         ["Vi syns för lite i lokalpressen.", "Dold: namn och telefonnummer", "Fler dörrknackningar!"]),
    "Region Syd": ({"sv51-s1-c1": ["no", "no"], "sv51-s1-c2": ["yes", "yes"]}, ["Bra kampanj i Malmö."]),
    "Region Norr": ({"sv51-s1-c1": ["yes", "yes", "yes", "no"], "sv51-s1-c2": ["yes"]}, ["Långa avstånd."]),
}


def _hold(engine, meeting_id, votes, comments, started):
    """Hold the session through the meeting rules, then date it."""
    hold_meeting(engine, meeting_id, votes, comments, comment_on="sv51-s1-p1", people=4,
                 hide=[t for t in comments if t.startswith("Dold")],
                 pin=[t for t in comments if t.startswith("Fler")],
                 conclusions={"sv51-s1-c1": "Vi behöver synas mer – en kampanj i höst."})
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meetings SET started_at = :t, ended_at = :e WHERE id = :id"),
                     {"t": started, "e": started + dt.timedelta(hours=2), "id": meeting_id})


@pytest.fixture(scope="module")
def office(server, browser, screenshots):
    """An organiser, three units and three held sessions of the Swedish guide on the server."""
    from shared import meeting as rules
    from shared import organiser
    from shared.models import Guide

    server.cli("user", "create", "--email", "kansli@example.org", "--role", "organiser", "--name", "Kansliet",
               stdin=PASSWORD + "\n")
    engine = sa.create_engine(server.database_url)
    with engine.begin() as conn:
        guide_id = conn.execute(sa.select(Guide.id).where(Guide.title == GUIDE_TITLE)).scalar_one()
        organiser_id = conn.execute(sa.text("SELECT id FROM users WHERE email = 'kansli@example.org'")).scalar_one()
    import sqlalchemy.orm as so

    with so.Session(engine) as db:
        for unit in REGIONS:
            organiser.add_unit(db, unit, "region")
        db.commit()
    meetings = {}
    for n, (unit, (votes, comments)) in enumerate(REGIONS.items()):
        with engine.begin() as conn:
            meetings[unit] = rules.create_meeting(Work(conn), guide_id=guide_id, title=f"Dialogmöte {unit}", unit=unit,
                                                  facilitator_id=organiser_id)
        _hold(engine, meetings[unit], votes, comments,
              dt.datetime(2026, 3, 3 + 14 * n, 18, 0, tzinfo=dt.UTC).replace(tzinfo=None))
    engine.dispose()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = ctx.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server.url}/login?lang=sv")
    page.locator("input[name=email]").fill("kansli@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/sessions")
    yield SimpleNamespace(server=server, page=page, ctx=ctx, guide_id=guide_id, meetings=meetings,
                          shots=screenshots, csp_errors=csp_errors, browser=browser)
    ctx.close()


def test_sessions_overview_in_swedish_and_danish(office):
    page = office.page
    for lang in ("sv", "da"):
        page.goto(f"{office.server.url}/sessions?lang={lang}&sort=-votes")
        rows = page.locator("table.sessions-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("Region Stockholm")
        page.screenshot(path=str(office.shots / f"organiser-sessions-{lang}.png"), full_page=True)
    page.goto(f"{office.server.url}/sessions?lang=sv")
    expect(page.get_by_label("Enhet (region, krets, förening)")).to_contain_text("Region Syd")
    assert not office.csp_errors


def test_rollup_compares_the_regions(office):
    page = office.page
    for lang in ("sv", "da"):
        page.goto(f"{office.server.url}/guides/{office.guide_id}/rollup?lang={lang}")
        expect(page.locator(".unit-chart").first).to_be_visible()
        page.screenshot(path=str(office.shots / f"organiser-rollup-{lang}.png"), full_page=True)
    page.goto(f"{office.server.url}/guides/{office.guide_id}/rollup?lang=sv")
    row = page.locator("table.rollup-table tbody tr").first
    # c1: Stockholm 2/3, Syd 0/2, Norr 3/4; total 5 of 9.
    expect(row.locator("strong")).to_have_text(["67\xa0%", "0\xa0%", "75\xa0%", "56\xa0%"])
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert wb["Möten"].max_row == 4  # the Swedish page's workbook speaks Swedish


def test_publish_follow_the_dialogues_page(office):
    page = office.page
    page.goto(f"{office.server.url}/guides/{office.guide_id}/rollup?lang=sv")
    page.get_by_role("button", name="Publicera en offentlig länk").click()
    link = page.locator(".link-list a").first
    url = link.get_attribute("href")
    public = office.browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    view = public.new_page()
    view.goto(url)
    expect(view.locator(".first-out")).to_have_text("Først var Region Stockholm, 3. marts 2026.")
    expect(view.locator(".held-list li")).to_have_count(3)
    assert "Vi syns för lite" not in view.content()
    view.screenshot(path=str(office.shots / "public-rollup-da.png"), full_page=True)
    view.goto(url + "?lang=sv")
    view.screenshot(path=str(office.shots / "public-rollup-sv.png"), full_page=True)
    public.close()


def test_users_and_units_pages(office):
    page = office.page
    for lang in ("sv", "da"):
        page.goto(f"{office.server.url}/users?lang={lang}")
        page.get_by_label("E-post" if lang == "sv" else "E-mail", exact=True).fill(f"ny-{lang}@example.org")
        page.get_by_role("button", name="Bjud in och visa länken" if lang == "sv" else "Invitér og vis linket").click()
        expect(page.locator("#one-time-link")).to_be_visible()
        assert page.locator("#one-time-link").input_value().startswith(office.server.url + "/setup/")
        page.screenshot(path=str(office.shots / f"organiser-users-{lang}.png"), full_page=True)
        page.goto(f"{office.server.url}/units?lang={lang}")
        page.screenshot(path=str(office.shots / f"organiser-units-{lang}.png"), full_page=True)


def test_report_prints_to_pdf_with_its_text(office):
    from pypdf import PdfReader

    page = office.page
    meeting_id = office.meetings["Region Stockholm"]
    page.goto(f"{office.server.url}/sessions/{meeting_id}/report?lang=sv")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(office.shots / "report-screen-sv.png"), full_page=True)
    page.emulate_media(media="print")
    # A4 at 96 dpi is 794 px wide.
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(office.shots / "report-print-sv.png"), full_page=True)
    expect(page.locator(".topbar")).to_be_hidden()
    pdf = page.pdf(format="A4", print_background=False)
    page.emulate_media(media="screen")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    for expected in ("Dialogmöte Region Stockholm", GUIDE_TITLE, "Region Stockholm", "Kansliet",
                     "Är vi en synlig och hörd röst", "67", "33", "Vi syns för lite i lokalpressen.",
                     "Fler dörrknackningar!", "Vi behöver synas mer", "Påverkansarbete"):
        assert expected in flat, expected
    assert "deltagare" in flat.lower() and "slutsats" in flat.lower()
    assert "Dold" not in flat
    assert flat.index("Fler dörrknackningar!") < flat.index("Vi syns för lite i lokalpressen.")
    assert "Logga ut" not in flat and "Skriv ut eller spara som PDF" not in flat
    (office.shots / "report-sv.pdf").write_bytes(pdf)
    assert len(reader.pages) >= 2


def test_organiser_pages_have_no_serious_accessibility_violations(office, ui):
    """axe-core on every organiser page, in a scan context (see tests/e2e/conftest.py)."""
    ctx = ui.scan_context(office.browser, viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = ctx.new_page()
    try:
        ui.sign_in(page, office.server.url, {"email": "kansli@example.org", "password": PASSWORD}, lang="da")
        first = next(iter(office.meetings.values()))
        paths = ["/sessions", f"/sessions/{first}/report", f"/sessions/{first}/delete",
                 f"/guides/{office.guide_id}/rollup", "/guides", f"/guides/{office.guide_id}", "/users", "/units",
                 "/settings"]
        found = {}
        for path in paths:
            page.goto(f"{office.server.url}{path}?lang=da")
            violations = ui.axe_violations(page)
            if violations:
                found[path] = violations
        assert found == {}
    finally:
        ctx.close()


def test_users_publish_and_revoke_confirm_and_stay_in_view(office):
    """Issue 12, defect 3, at 1366x900: the users table shows every action whole, deactivating and
    revoking ask first (without a script), and a new public link is in view beside its message."""
    server, page = office.server, office.page
    server.cli("user", "create", "--email", "ombud@example.org", "--role", "facilitator",
               "--name", "Ombudet i Region Syd", stdin=PASSWORD + "\n")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{server.url}/users?lang=sv")
    clipped = page.evaluate("""() => [...document.querySelectorAll('.users-table button')]
        .filter(b => b.scrollWidth > b.clientWidth || b.getBoundingClientRect().right > window.innerWidth)
        .map(b => b.textContent.trim())""")
    assert clipped == []
    wrap = page.locator(".users-table").locator("xpath=..")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")  # nothing hidden to the right
    page.screenshot(path=str(office.shots / "organiser-users-1366-sv.png"), full_page=True)
    page.get_by_role("button", name="Inaktivera Ombudet i Region Syd").click()
    expect(page.locator("h1")).to_have_text("Inaktivera Ombudet i Region Syd?")
    page.get_by_role("link", name="Avbryt").click()
    expect(page.locator(".users-table")).to_contain_text("Ombudet i Region Syd")
    page.get_by_role("button", name="Inaktivera Ombudet i Region Syd").click()
    page.get_by_role("button", name="Inaktivera Ombudet i Region Syd").click()
    expect(page.locator(".flash")).to_contain_text("kan inte längre logga in")

    page.goto(f"{server.url}/guides/{office.guide_id}/rollup?lang=sv")
    page.get_by_role("button", name="Publicera en offentlig länk").click()
    ready = page.locator("li[id^=link-] .flash")
    expect(ready).to_be_in_viewport()
    item = ready.locator("xpath=..")
    expect(item.locator("a")).to_be_in_viewport()
    page.screenshot(path=str(office.shots / "organiser-published-sv.png"))
    url = item.locator("a").get_attribute("href")
    item.get_by_role("button", name="Återkalla").click()
    expect(page.locator("h1")).to_have_text("Återkalla den offentliga länken?")
    page.get_by_role("button", name="Återkalla länken").click()
    expect(page.locator(f"li.revoked s:text-is('{url}')")).to_have_count(1)
    public = office.browser.new_context(locale="sv-SE")
    gone = public.new_page()
    assert gone.goto(url).status == 410
    expect(gone.locator("h1")).to_have_text("Tillbakadragen")
    public.close()


def test_charts_and_the_public_page_read_at_their_size(office, ui):
    """Issue 12, defect 7: the roll-up's unit charts are text at the page's size (never under
    14 px as shown), and the public page on a 360 px phone hyphenates its title in the guide's
    language without scrolling sideways."""
    server, page = office.server, office.page
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{server.url}/guides/{office.guide_id}/rollup?lang=sv")
    sizes = page.evaluate("""() => [...document.querySelectorAll('.unit-chart .uc-label, .unit-chart .uc-value')]
        .map(n => parseFloat(getComputedStyle(n).fontSize))""")
    assert sizes and min(sizes) >= 14
    expect(page.locator(".unit-chart .uc-count").first).to_have_text("(2 av 3)")  # Stockholm: 2 Ja of 3
    page.goto(f"{server.url}/guides/{office.guide_id}/rollup?lang=sv")
    page.get_by_role("button", name="Publicera en offentlig länk").click()
    url = page.locator("li[id^=link-] .flash").locator("xpath=..").locator("a").get_attribute("href")
    phone = office.browser.new_context(viewport=ui.phone, locale="sv-SE")
    view = phone.new_page()
    view.goto(url + "?lang=sv")
    title = view.locator("h1")
    assert title.get_attribute("lang") == "sv"
    assert title.evaluate("h => getComputedStyle(h).hyphens") == "auto"
    assert view.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    # The long compound sits on one line (a browser without a Swedish hyphenation dictionary, as
    # here, would otherwise cut it anywhere without a hyphen).
    lines = title.evaluate("""h => { const t = h.firstChild, i = t.data.indexOf('Förtroendemannadialogen');
        const r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + 23);
        return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }""")
    assert lines == 1
    view.screenshot(path=str(office.shots / "public-rollup-360-sv.png"), full_page=True)
    phone.close()
    # The delete page of a session that page shows warns about it and keeps the counts by default.
    for lang, warning in (("sv", "publicerade? sid(a|or) innehåller det här mötet"),
                          ("da", "offentliggjorte? sider? indeholder dette møde")):
        page.goto(f"{server.url}/sessions/{office.meetings['Region Syd']}/delete?lang={lang}")
        expect(page.locator("#published-heading")).to_have_text(re.compile(warning))
        expect(page.locator("#mode-keep")).to_be_checked()
        page.screenshot(path=str(office.shots / f"organiser-delete-published-{lang}.png"), full_page=True)
    page.goto(f"{server.url}/rollups?lang=da")
    page.screenshot(path=str(office.shots / "organiser-rollups-da.png"), full_page=True)
