"""The facilitator blueprint's sessions page: every session the user may see, with counts,
filters, sorting and pages, and the navigation that shows the organiser's links to organisers only.
The overview's SQL is tested on both databases in tests/shared/test_overview.py."""

from __future__ import annotations

import re

from shared import meeting as rules
from shared.db import get_db
from shared.overview import PAGE_SIZE
from shared.uow import Work


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
    boss = make.user("organiser")
    gid = make.guide()
    with app.app_context(), get_db(app).engine.begin() as conn:
        for n in range(PAGE_SIZE + 5):
            rules.create_meeting(Work(conn), guide_id=gid, title=f"Møde {n:03d}", unit="", facilitator_id=boss.id)
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
