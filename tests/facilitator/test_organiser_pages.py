"""The organiser's pages: sessions overview, report, roll-up, public page, deletion, users, units,
retention. Meetings are held through shared.meeting's rules, as a room would."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared.db import get_db
from tests.conftest import REGIONS_GUIDE as GUIDE
from tests.conftest import hold_meeting

ROOMS = {
    "Region Stockholm": {"c1": ["yes", "yes", "no"], "c2": ["unsure", "yes"], "c3": ["no"]},
    "Region Syd": {"c1": ["no", "no"], "c2": ["yes"], "c3": ["yes", "yes"]},
    "Region Norr": {"c1": ["yes"], "c2": [], "c3": ["no", "yes"]},
}


def hold(app, meeting_id, votes, comments=(), **kwargs):
    """Hold a session on the app's database (see tests.conftest.hold_meeting)."""
    with app.app_context():
        return hold_meeting(get_db(app).engine, meeting_id, votes, comments, **kwargs)


@pytest.fixture
def regions(app, make):
    """One guide held in three regions: two sessions by a facilitator, one by an organiser."""
    boss = make.user("organiser")
    fac = make.user("facilitator")
    gid = make.guide(GUIDE)
    mids = {}
    for i, (unit, votes) in enumerate(ROOMS.items()):
        mids[unit] = make.meeting(fac if i < 2 else boss, guide_id=gid, unit=unit, title=f"Dialog {unit}")
        hold(app, mids[unit], votes, comments=[f"Kommentar från {unit}"])
    return {"guide": gid, "meetings": mids, "organiser": boss, "facilitator": fac}


def count_rows(app, meeting_id):
    from shared.models import Comment, Conclusion, Meeting, Participant, Vote

    with app.app_context(), get_db(app).engine.connect() as conn:
        return {model.__name__: conn.execute(sa.select(sa.func.count()).select_from(model).where(
            (model.id if model is Meeting else model.meeting_id) == meeting_id)).scalar_one()
            for model in (Meeting, Participant, Vote, Comment, Conclusion)}


# -- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users", "/units", "/settings"])
def test_organiser_pages_are_403_for_facilitators(client, make, login, path):
    login(make.user("facilitator"))
    assert client.get(path).status_code == 403


def test_organiser_pages_need_a_login(client):
    for path in ("/users", "/units", "/settings", "/guides/x/rollup", "/sessions/x/report"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def signed_in_client(app, user):
    """A fresh test client signed in as `user` through the login form."""
    from tests.conftest import csrf_token

    other = app.test_client()
    page = other.get("/login")
    resp = other.post("/login", data={"csrf_token": csrf_token(page.text), "email": user.email,
                                      "password": "correct horse"})
    assert resp.status_code == 302
    return other


def test_navigation_shows_the_organiser_links_to_organisers_only(app, make):
    page = signed_in_client(app, make.user("facilitator")).get("/sessions", headers={"Accept-Language": "sv"}).text
    assert 'href="/users"' not in page and 'href="/units"' not in page and 'href="/settings"' not in page
    page = signed_in_client(app, make.user("organiser")).get("/sessions", headers={"Accept-Language": "sv"}).text
    for href, text in (("/users", "Användare"), ("/units", "Enheter"), ("/settings", "Inställningar")):
        assert f'href="{href}"' in page and text in page


def test_a_facilitator_sees_only_their_sessions_reports_and_rollup_rows(client, login, regions):
    fac_mids = [regions["meetings"]["Region Stockholm"], regions["meetings"]["Region Syd"]]
    boss_mid = regions["meetings"]["Region Norr"]
    login(regions["facilitator"])
    page = client.get("/sessions").text
    assert "Dialog Region Stockholm" in page and "Dialog Region Syd" in page
    assert "Dialog Region Norr" not in page
    assert client.get(f"/sessions/{boss_mid}/report").status_code == 403
    assert client.get(f"/sessions/{boss_mid}/delete").status_code == 403
    assert client.get(f"/sessions/{fac_mids[0]}/report").status_code == 200
    rollup = client.get(f"/guides/{regions['guide']}/rollup").text
    assert "Dialog Region Stockholm" in rollup and "Dialog Region Norr" not in rollup
    data = json.loads(client.get(f"/guides/{regions['guide']}/rollup.json").data)
    assert {s["id"] for s in data["sessions"]} == set(fac_mids)
    # No publishing for facilitators, and no public-link section on their page.
    assert "Publish" not in rollup
    assert client.post(f"/guides/{regions['guide']}/public", data={}).status_code in (400, 403)


# -- sessions overview -------------------------------------------------------------------------


def _table_titles(html):
    return re.findall(r'<td><a href="/sessions/\w+/report">([^<]+)</a>', html)


def test_overview_counts_filters_and_sorts(client, login, regions, make):
    login(regions["organiser"])
    page = client.get("/sessions", headers={"Accept-Language": "en"}).text
    assert _table_titles(page).__len__() == 3
    # Stockholm: 3 phones, 3+2+1 votes, 1 comment.
    row = page[page.index("Dialog Region Stockholm"):].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["3", "6", "1"]
    by_unit = client.get("/sessions?unit=Region+Syd").text
    assert _table_titles(by_unit) == ["Dialog Region Syd"]
    by_fac = client.get(f"/sessions?facilitator={regions['facilitator'].id}").text
    assert sorted(_table_titles(by_fac)) == ["Dialog Region Stockholm", "Dialog Region Syd"]
    by_votes = client.get("/sessions?sort=-votes").text
    assert _table_titles(by_votes) == ["Dialog Region Stockholm", "Dialog Region Syd", "Dialog Region Norr"]
    by_votes_up = client.get("/sessions?sort=votes").text
    assert _table_titles(by_votes_up) == ["Dialog Region Norr", "Dialog Region Syd", "Dialog Region Stockholm"]
    by_title = client.get("/sessions?sort=title").text
    assert _table_titles(by_title) == sorted(_table_titles(by_title))
    assert 'aria-sort="ascending"' in by_title
    other_guide = client.get(f"/sessions?guide={make.guide()}").text
    assert _table_titles(other_guide) == [] and "No session matches these filters." in other_guide
    assert _table_titles(client.get("/sessions?from=2000-01-01&to=2000-01-02").text) == []
    assert len(_table_titles(client.get("/sessions?from=2000-01-01&sort=bogus").text)) == 3


def test_overview_pages_through_many_sessions(client, login, make, app):
    from shared.overview import PAGE_SIZE

    boss = make.user("organiser")
    gid = make.guide()
    with app.app_context(), get_db(app).engine.begin() as conn:
        for n in range(PAGE_SIZE + 5):
            rules.create_meeting(conn, guide_id=gid, title=f"Møde {n:03d}", unit="", facilitator_id=boss.id)
    login(boss)
    first = client.get("/sessions?sort=title", headers={"Accept-Language": "en"}).text
    titles = _table_titles(first)
    assert len(titles) == PAGE_SIZE
    assert titles[0] == "Møde 000"
    assert f"{PAGE_SIZE + 5} sessions" in first
    assert "Page 1 of 2" in first
    assert 'rel="next" href="/sessions?sort=title&amp;page=2"' in first
    second = client.get("/sessions?sort=title&page=2", headers={"Accept-Language": "en"}).text
    assert _table_titles(second) == [f"Møde {n:03d}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    # A page past the end shows the last one; nonsense shows the first.
    assert _table_titles(client.get("/sessions?sort=title&page=99").text) == _table_titles(second)
    assert _table_titles(client.get("/sessions?sort=title&page=x").text) == titles
    # Sorting starts again at the first page.
    assert "page=2" not in re.search(r'<th[^>]*>\s*<a href="([^"]+)"', second).group(1)


def test_overview_counts_use_group_by_queries(client, login, regions, app):
    """The page costs the same number of statements however many sessions there are."""
    login(regions["organiser"])
    statements = []

    def count(*_args):
        statements.append(1)

    engine = get_db(app).engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/sessions")
        three = len(statements)
        statements.clear()
        hold(app, _extra_meeting(app, regions), {"c1": ["yes"]})
        statements.clear()
        client.get("/sessions")
        assert len(statements) == three
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _extra_meeting(app, regions):
    with app.app_context(), get_db(app).engine.begin() as conn:
        return rules.create_meeting(conn, guide_id=regions["guide"], title="Extra", unit="Region Väst",
                                    facilitator_id=regions["organiser"].id)


# -- report ------------------------------------------------------------------------------------


def test_report_for_the_minutes(client, login, make, app):
    fac = make.user("facilitator")
    gid = make.guide(GUIDE)
    mid = make.meeting(fac, guide_id=gid, unit="Region Stockholm", title="Dialog i Stockholm <b>")
    hold(app, mid, {"c1": ["yes", "yes", "no"], "c2": ["unsure"]},
         comments=["Först skriven", "Dold kommentar", "Fäst kommentar"],
         hide=["Dold kommentar"], pin=["Fäst kommentar"],
         conclusions={"c1": "Vi tror på målet.", "p1": "Värva i trapphusen."})
    login(fac)
    page = client.get(f"/sessions/{mid}/report", headers={"Accept-Language": "sv"})
    assert page.status_code == 200
    html = page.text
    for text in ("Dialog i Stockholm &lt;b&gt;", "Förtroendemannadialogen", "Region Stockholm", "Facilitator",
                 "Deltagare", "Medlemmar", "Värvning", "Engagemang", "Når vi 51 procent?",
                 "Vi tror på målet.", "Värva i trapphusen.", "Vet inte"):
        assert text in html, text
    assert "Dold kommentar" not in html
    assert html.index("Fäst kommentar") < html.index("Först skriven")
    # 2 of 3 Ja, 1 of 3 Nej, with bars drawn in SVG.
    assert "67\xa0%" in html and "33\xa0%" in html
    assert 'width="66.7"' in html and 'width="33.3"' in html and "<svg" in html
    # Items in guide order, downloads linked, a print button wired without inline script.
    assert html.index("Når vi 51 procent?") < html.index("Har vi stöd?") < html.index("Syns vi i valet?")
    for fmt in ("csv", "xlsx", "json"):
        assert f"/sessions/{mid}/export.{fmt}" in html
    assert "data-print" in html and "onclick" not in html and 'style="' not in html


def test_report_works_while_live(client, login, make, app):
    fac = make.user("facilitator")
    mid = make.meeting(fac, guide_id=make.guide(GUIDE))
    hold(app, mid, {"c1": ["no"]}, end=False)
    login(fac)
    page = client.get(f"/sessions/{mid}/report", headers={"Accept-Language": "en"}).text
    assert "This session is live" in page and "100%" in page


# -- roll-up -----------------------------------------------------------------------------------


def test_rollup_page_compares_three_regions(client, login, regions):
    login(regions["organiser"])
    resp = client.get(f"/guides/{regions['guide']}/rollup", headers={"Accept-Language": "sv"})
    assert resp.status_code == 200
    html = resp.text
    for unit in ROOMS:
        assert f"Dialog {unit}" in html
    # c1: Stockholm 2/3, Syd 0/2, Norr 1/1, total 3 of 6 Ja.
    row = html[html.index("Når vi 51 procent?"):].split("</tr>")[0]
    assert re.findall(r"<strong>([^<]+)</strong>", row) == ["67\xa0%", "0\xa0%", "100\xa0%", "50\xa0%"]
    assert "Ja 3 · Nej 3" in row
    # c2 was unsure once in Stockholm; Norr had no votes.
    row = html[html.index("Har vi stöd?"):].split("</tr>")[0]
    assert re.findall(r"<strong>([^<]+)</strong>", row) == ["50\xa0%", "100\xa0%", "–", "67\xa0%"]
    assert "Vet inte 1" in row
    # Tag groups: Engagemang sums c1, c2, c3 (14 votes, 8 Ja); Värvning c1 and c2.
    tags = html[html.index('id="tags-heading"'):]
    engagemang = tags[tags.index("Engagemang"):].split("</tr>")[0]
    assert "3 ställningstaganden" in engagemang
    assert re.findall(r"<strong>([^<]+)</strong>", engagemang)[-1] == "57\xa0%"
    assert "Ja 8 · Nej 5 · Vet inte 1" in engagemang
    # One chart per consideration comparing the units, with their names and % Ja.
    charts = html[html.index('id="units-heading"'):html.index('id="tags-heading"')]
    assert charts.count('<svg class="unit-chart"') == 3
    assert ">Region Stockholm</text>" in charts and "67\xa0% Ja (3)" in charts
    # Filters.
    syd = client.get(f"/guides/{regions['guide']}/rollup?unit=Region+Syd").text
    assert "Dialog Region Syd" in syd and "Dialog Region Stockholm" not in syd
    empty = client.get(f"/guides/{regions['guide']}/rollup?from=2000-01-01&to=2000-01-31").text
    assert "Dialog Region Syd" not in empty
    assert client.get("/guides/nope/rollup").status_code == 404


def test_rollup_downloads_read_back(client, login, regions):
    from openpyxl import load_workbook

    login(regions["organiser"])
    base = f"/guides/{regions['guide']}/rollup"
    resp = client.get(base + ".csv?unit=Region+Syd")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.data.decode("utf-8-sig"))))
    c3 = [r for r in rows if r["item_id"] == "c3"]
    assert [(r["session_title"], r["yes"], r["no"]) for r in c3] == [("Dialog Region Syd", "2", "0"),
                                                                      ("total", "2", "0")]
    wb = load_workbook(io.BytesIO(client.get(base + ".xlsx").data))
    assert wb.sheetnames == ["Items", "Sessions"]
    assert wb["Sessions"].max_row == 4
    data = json.loads(client.get(base + ".json").data)
    assert len(data["sessions"]) == 3 and data["tags"][0]["tag"] == "Engagemang"
    assert client.get(base + ".pdf").status_code == 404
    html = client.get(base + "?unit=Region+Syd").text
    assert f"{base}.csv?unit=Region+Syd" in html


# -- the public page ---------------------------------------------------------------------------


def _publish(client, regions, csrf, include_comments=False):
    page = client.get(f"/guides/{regions['guide']}/rollup")
    data = {"csrf_token": csrf(page.text)}
    if include_comments:
        data["include_comments"] = "y"
    resp = client.post(f"/guides/{regions['guide']}/public", data=data)
    assert resp.status_code == 302
    page = client.get(f"/guides/{regions['guide']}/rollup").text
    return re.findall(r'href="http://dialogrum.test(/f/[\w-]+)"', page)[0]


def test_public_page_shows_units_and_results_without_comments(client, app, login, regions, csrf):
    login(regions["organiser"])
    assert client.post(f"/guides/{regions['guide']}/public", data={}).status_code == 400  # no CSRF token
    path = _publish(client, regions, csrf)
    anonymous = app.test_client()
    resp = anonymous.get(path, headers={"Accept-Language": "sv"})
    assert resp.status_code == 200
    html = resp.text
    assert '<meta name="robots" content="noindex">' in html
    assert "Förtroendemannadialogen" in html and "Först ut var Region Stockholm" in html
    for unit in ROOMS:
        assert unit in html
    assert "Kommentar från" not in html and "Dialog Region" not in html
    assert html.count('<svg class="unit-chart"') == 3
    assert "67\xa0% Ja (3)" in html
    assert "Logga ut" not in html


def test_public_page_with_comments_and_revoking(client, app, login, regions, csrf, make):
    login(regions["organiser"])
    path = _publish(client, regions, csrf, include_comments=True)
    anonymous = app.test_client()
    html = anonymous.get(path).text
    assert "Kommentar från Region Syd" in html
    # A hidden comment never shows.
    with app.app_context(), get_db(app).engine.begin() as conn:
        from shared.models import Comment

        conn.execute(sa.update(Comment).where(Comment.text == "Kommentar från Region Syd").values(hidden=True))
    assert "Kommentar från Region Syd" not in anonymous.get(path).text
    page = client.get(f"/guides/{regions['guide']}/rollup").text
    revoke = re.search(r'action="(/guides/\w+/public/\d+/revoke)"', page).group(1)
    assert client.post(revoke, data={"csrf_token": csrf(page)}).status_code == 302
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/f/not-a-key").status_code == 404


def test_public_page_shows_ended_sessions_only(client, app, login, regions, csrf, make):
    live = make.meeting(regions["organiser"], guide_id=regions["guide"], unit="Region Väst", title="Pågår")
    hold(app, live, {"c1": ["yes"]}, end=False)
    login(regions["organiser"])
    html = app.test_client().get(_publish(client, regions, csrf)).text
    assert "Region Väst" not in html and "Region Norr" in html


# -- deletion ----------------------------------------------------------------------------------


def test_deleting_through_the_page_leaves_no_rows(client, app, login, make, csrf):
    fac = make.user("facilitator")
    mid = make.meeting(fac, guide_id=make.guide(GUIDE), title="Att radera")
    hold(app, mid, {"c1": ["yes", "no"]}, comments=["Bort"], conclusions={"c1": "Slut."})
    assert count_rows(app, mid) == {"Meeting": 1, "Participant": 2, "Vote": 2, "Comment": 1, "Conclusion": 1}
    login(fac)
    confirm = client.get(f"/sessions/{mid}/delete", headers={"Accept-Language": "en"})
    assert confirm.status_code == 200 and "2 votes" in confirm.text and "1 comment" in confirm.text
    assert client.post(f"/sessions/{mid}/delete").status_code == 400  # no CSRF token
    assert count_rows(app, mid)["Meeting"] == 1
    resp = client.post(f"/sessions/{mid}/delete", data={"csrf_token": csrf(confirm.text)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/sessions")
    assert count_rows(app, mid) == {"Meeting": 0, "Participant": 0, "Vote": 0, "Comment": 0, "Conclusion": 0}
    assert "Att radera" in client.get("/sessions", headers={"Accept-Language": "en"}).text  # the flash
    assert client.get(f"/sessions/{mid}/report").status_code == 404


def test_a_facilitator_cannot_delete_anothers_session(client, app, login, make, csrf):
    owner = make.user("facilitator")
    mid = make.meeting(owner, guide_id=make.guide(GUIDE))
    login(make.user("facilitator"))
    page = client.get("/sessions")
    assert client.post(f"/sessions/{mid}/delete", data={"csrf_token": csrf(page.text)}).status_code == 403
    assert count_rows(app, mid)["Meeting"] == 1


# -- users -------------------------------------------------------------------------------------


def test_invite_link_setup_and_sign_in(client, app, login, make, csrf):
    boss = make.user("organiser")
    login(boss)
    page = client.get("/users", headers={"Accept-Language": "sv"})
    assert page.status_code == 200 and "Bjud in" in page.text
    resp = client.post("/users", data={"csrf_token": csrf(page.text), "email": "Ny.Ledare@Example.org",
                                        "name": "Ny Ledare", "role": "facilitator"},
                       headers={"Accept-Language": "sv"})
    assert resp.status_code == 200
    assert "Skicka den här länken till ny.ledare@example.org" in resp.text
    url = re.search(r'id="one-time-link" type="text" readonly value="([^"]+)"', resp.text).group(1)
    assert url.startswith("http://dialogrum.test/setup/")
    assert "Inbjuden" in resp.text
    # A second invitation for the same e-mail says so next to the field.
    again = client.post("/users", data={"csrf_token": csrf(page.text), "email": "ny.ledare@example.org",
                                         "role": "facilitator"}, headers={"Accept-Language": "en"})
    assert again.status_code == 422 and "A user with this e-mail exists already." in again.text

    newcomer = app.test_client()
    path = url.removeprefix("http://dialogrum.test")
    setup = newcomer.get(path)
    assert setup.status_code == 200
    done = newcomer.post(path, data={"csrf_token": csrf(setup.text), "password": "ett långt lösen",
                                     "confirm": "ett långt lösen"})
    assert done.status_code == 302
    assert newcomer.get(path).status_code == 404  # used once
    fresh = app.test_client()
    form = fresh.get("/login")
    signed = fresh.post("/login", data={"csrf_token": csrf(form.text), "email": "ny.ledare@example.org",
                                        "password": "ett långt lösen"})
    assert signed.status_code == 302
    assert fresh.get("/users").status_code == 403  # a facilitator


def test_deactivate_reactivate_and_reset(client, app, login, make, csrf):
    boss = make.user("organiser")
    fac = make.user("facilitator")
    login(boss)
    page = client.get("/users")
    token = csrf(page.text)
    assert client.post(f"/users/{fac.id}/active", data={"active": "0"}).status_code == 400  # no CSRF token
    assert client.post(f"/users/{fac.id}/active", data={"csrf_token": token, "active": "0"}).status_code == 302
    other = app.test_client()
    form = other.get("/login")
    assert other.post("/login", data={"csrf_token": csrf(form.text), "email": fac.email,
                                      "password": "correct horse"}).status_code == 401
    listing = client.get("/users", headers={"Accept-Language": "da"}).text
    assert "Deaktiveret" in listing
    client.post(f"/users/{fac.id}/active", data={"csrf_token": token, "active": "1"})
    assert other.post("/login", data={"csrf_token": csrf(form.text), "email": fac.email,
                                      "password": "correct horse"}).status_code == 302
    # An organiser cannot lock themself out.
    resp = client.post(f"/users/{boss.id}/active", data={"csrf_token": token, "active": "0"})
    assert resp.status_code == 302
    assert "cannot deactivate yourself" in client.get("/users", headers={"Accept-Language": "en"}).text
    reset = client.post(f"/users/{fac.id}/reset", data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert reset.status_code == 200 and f"Send this link to {fac.email}" in reset.text
    url = re.search(r'readonly value="http://dialogrum.test(/setup/[^"]+)"', reset.text).group(1)
    setup = app.test_client().get(url)
    assert setup.status_code == 200 and fac.email in setup.text
    assert client.post("/users/99999/reset", data={"csrf_token": token}).status_code == 404


# -- units and the session form ----------------------------------------------------------------


def test_units_feed_the_session_form(client, app, login, make, csrf):
    boss = make.user("organiser")
    login(boss)
    gid = make.guide(GUIDE)
    # Without units, the unit is typed in.
    assert re.search(r'<input id="unit"[^>]*type="text"', client.get("/sessions").text)
    page = client.get("/units", headers={"Accept-Language": "da"})
    assert page.status_code == 200 and "Tilføj en enhed" in page.text
    token = csrf(page.text)
    for name, kind in (("Region Stockholm", "region"), ("Kreds 4", "kreds")):
        assert client.post("/units", data={"csrf_token": token, "name": name, "kind": kind}).status_code == 302
    dup = client.post("/units", data={"csrf_token": token, "name": "region stockholm", "kind": "region"},
                      headers={"Accept-Language": "en"})
    assert dup.status_code == 422 and "exists already" in dup.text
    form = client.get("/sessions", headers={"Accept-Language": "en"}).text
    select = re.search(r'<select id="unit" name="unit">(.*?)</select>', form, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]+)</option>", select) == ["No unit", "Kreds 4", "Region Stockholm"]
    # Retire Kreds 4: no longer offered; a forged value is refused.
    units = client.get("/units").text
    retire = re.search(r'action="(/units/\d+/active)"', units[units.index("Kreds 4"):]).group(1)
    assert client.post(retire, data={"csrf_token": token, "active": "0"}).status_code == 302
    form = client.get("/sessions").text
    assert "Kreds 4" not in re.search(r'<select id="unit" name="unit">(.*?)</select>', form, re.S).group(1)
    bad = client.post("/sessions", data={"csrf_token": token, "guide_id": gid, "title": "X", "unit": "Kreds 4"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.text
    resp = client.post("/sessions", data={"csrf_token": token, "guide_id": gid, "title": "Möte",
                                          "unit": "Region Stockholm"})
    assert resp.status_code == 302
    from shared.models import Meeting

    with app.app_context():
        units_used = get_db().session.scalars(sa.select(Meeting.unit)).all()
        get_db().session.remove()
    assert units_used == ["Region Stockholm"]
    no_unit = client.post("/sessions", data={"csrf_token": token, "guide_id": gid, "title": "Utan", "unit": ""})
    assert no_unit.status_code == 302


# -- retention ---------------------------------------------------------------------------------


def test_retention_setting_and_the_phone_line(client, app, login, make, csrf):
    boss = make.user("organiser")
    mid = make.meeting(boss, guide_id=make.guide(GUIDE))
    with app.app_context():
        code = rules.get_meeting(get_db().engine.connect(), mid).code
        get_db().dispose()
    phone = app.test_client()
    line = phone.get(f"/j/{code}", headers={"Accept-Language": "sv"}).text
    assert "anonym" in line and "tills arrangören raderar mötet" in line
    login(boss)
    page = client.get("/settings", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'value="0"' in page.text
    bad = client.post("/settings", data={"csrf_token": csrf(page.text), "days": "-3"})
    assert bad.status_code == 422
    assert client.post("/settings", data={"csrf_token": csrf(page.text), "days": "30"}).status_code == 302
    assert 'value="30"' in client.get("/settings").text
    line = phone.get(f"/j/{code}", headers={"Accept-Language": "da"}).text
    assert "30 dage efter" in line
    line = phone.get(f"/j/{code}", headers={"Accept-Language": "en"}).text
    assert "Comments are deleted 30 days after the session ends." in line
