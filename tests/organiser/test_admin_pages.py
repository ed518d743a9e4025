"""The organiser blueprint's administration pages: users (invite, deactivate, reset), units and the
comment retention; facilitators get 403 on every one of them."""

from __future__ import annotations

import re

import pytest

from shared import meeting as rules
from shared import overview
from shared.db import get_db
from shared.models import User
from tests.conftest import REGIONS_GUIDE as GUIDE

# -- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users", "/units", "/settings"])
def test_organiser_pages_are_403_for_facilitators(client, make, login, path):
    login(make.user("facilitator"))
    assert client.get(path).status_code == 403


def test_organiser_pages_need_a_login(client):
    for path in ("/users", "/units", "/settings", "/guides/x/rollup", "/sessions/x/report"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# -- users ------------------------------------------------------------------------------------


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
    # A step to confirm it first, which changes nothing (issue 12, defect 3).
    ask = client.post(f"/users/{fac.id}/active", data={"csrf_token": token, "active": "0"},
                      headers={"Accept-Language": "sv"})
    assert ask.status_code == 200 and 'name="confirmed" value="1"' in ask.text and "Inaktivera" in ask.text
    assert "Deaktiveret" not in client.get("/users", headers={"Accept-Language": "da"}).text
    assert client.post(f"/users/{fac.id}/active", data={"csrf_token": token, "active": "0",
                                                         "confirmed": "1"}).status_code == 302
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


# -- units and the session form ---------------------------------------------------------------


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
    with app.app_context():
        db = get_db().session
        units_used = overview.unit_names(db, db.get(User, boss.id))
        db.remove()
    assert units_used == ["Region Stockholm"]
    no_unit = client.post("/sessions", data={"csrf_token": token, "guide_id": gid, "title": "Utan", "unit": ""})
    assert no_unit.status_code == 302


# -- retention --------------------------------------------------------------------------------


def test_retention_setting_and_the_phone_line(client, app, login, make, csrf):
    boss = make.user("organiser")
    mid = make.meeting(boss, guide_id=make.guide(GUIDE))
    with app.app_context():
        code = rules.get_meeting(get_db().engine.connect(), mid).code
        get_db().dispose()
    phone = app.test_client()  # a phone that chooses its language (else it follows the meeting's)
    line = phone.get(f"/j/{code}?lang=sv").text
    assert "anonym" in line and "tills arrangören raderar mötet" in line
    login(boss)
    page = client.get("/settings", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'value="0"' in page.text
    bad = client.post("/settings", data={"csrf_token": csrf(page.text), "days": "-3"})
    assert bad.status_code == 422
    assert client.post("/settings", data={"csrf_token": csrf(page.text), "days": "30"}).status_code == 302
    assert 'value="30"' in client.get("/settings").text
    line = phone.get(f"/j/{code}?lang=da").text
    assert "30 dage efter" in line
    line = phone.get(f"/j/{code}?lang=en").text
    assert "Comments are deleted 30 days after the session ends." in line
