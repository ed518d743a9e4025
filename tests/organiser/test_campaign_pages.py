"""The campaign pages (issue 12, gap 8): an organiser asks units to hold a guide, puts
facilitators in units, and follows who has held it; a facilitator sees what their unit is asked;
the roll-up and the public page list who has held it in order and who has not yet."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from shared import organiser
from shared.db import get_db
from shared.models import Campaign, Meeting, Unit, User
from tests.conftest import REGIONS_GUIDE


def _units(app, *names):
    with app.app_context():
        db = get_db().session
        ids = {name: organiser.add_unit(db, name).id for name in names}
        db.commit()
        db.remove()
    return ids


def _ended(app, make, guide_id, unit, day):
    meeting_id = make.meeting(guide_id=guide_id, unit=unit, title=f"Dialog {unit}")
    started = dt.datetime.combine(day, dt.time(18), tzinfo=dt.UTC)
    with app.app_context():
        db = get_db().session
        db.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(
            status="ended", started_at=started, ended_at=started + dt.timedelta(hours=2)))
        db.commit()
        db.remove()
    return meeting_id


def _new_campaign(client, csrf, guide_id, unit_ids, *, deadline="2099-06-30", lang="sv", **extra):
    page = client.get(f"/campaigns/new?guide={guide_id}&lang={lang}")
    assert page.status_code == 200
    data = {"csrf_token": csrf(page.text), "guide_id": guide_id, "unit_ids": [str(u) for u in unit_ids],
            "deadline": deadline, "starts_on": "", "title": "", "message": "", **extra}
    return client.post(f"/campaigns/new?lang={lang}", data=data)


def test_campaign_pages_are_for_organisers(client, make, login):
    assert client.get("/campaigns").status_code == 302  # to the sign-in
    login(make.user("facilitator"))
    for path in ("/campaigns", "/campaigns/new", "/campaigns/1", "/campaigns/1/edit"):
        assert client.get(path).status_code == 403, path


def test_an_organiser_asks_units_and_follows_who_has_held_it(app, client, make, login, csrf):
    boss = make.user("organiser")
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst", "Region Stockholm", "Region Norr")
    login(boss)
    done = _new_campaign(client, csrf, guide_id, units.values(), message="Håll dialogen före sommaren!",
                         starts_on="2026-01-01")
    assert done.status_code == 302
    path = done.headers["Location"]
    campaign_id = int(path.rsplit("/", 1)[1])

    page = client.get(path, headers={"Accept-Language": "sv"}).text
    assert "Håll dialogen före sommaren!" in page
    assert "Har inte hållit den än" in page and "Region Norr" in page and "0 av 3 enheter" in page

    west = _ended(app, make, guide_id, "Region Väst", dt.date(2026, 3, 2))
    _ended(app, make, guide_id, "Region Stockholm", dt.date(2026, 2, 14))
    page = client.get(path, headers={"Accept-Language": "sv"}).text
    held = re.search(r'<ol class="campaign-held".*?</ol>', page, re.S).group()
    assert held.index("Region Stockholm") < held.index("Region Väst")  # in order of their first session
    assert "Först ut var Region Stockholm" in page
    assert f"/sessions/{west}/report" in held
    not_yet = re.search(r'<ul class="not-yet-list".*?</ul>', page, re.S).group()
    assert "Region Norr" in not_yet and "försenad" not in not_yet  # the deadline has not passed

    # After the deadline the unit that has not held it is overdue, on the list too.
    with app.app_context():
        db = get_db().session
        db.execute(sa.update(Campaign).values(deadline=dt.date(2026, 3, 1)))
        db.commit()
        db.remove()
    page = client.get(f"{path}?lang=da").text
    not_yet = re.search(r'<ul class="not-yet-list".*?</ul>', page, re.S).group()
    assert "Region Norr" in not_yet and "forsinket" in not_yet
    assert "efter fristen" in page  # Region Väst held it a day late
    listing = client.get("/campaigns?lang=da").text
    assert "1 forsinket" in listing

    # Edit: ask one unit fewer; close.
    edit = client.get(f"/campaigns/{campaign_id}/edit")
    assert 'value="' + str(units["Region Norr"]) + '" id="unit-' in edit.text and "checked" in edit.text
    resp = client.post(f"/campaigns/{campaign_id}/edit", data={
        "csrf_token": csrf(edit.text), "guide_id": guide_id, "deadline": "2026-03-01", "title": "Våren",
        "unit_ids": [str(units["Region Väst"]), str(units["Region Stockholm"])]})
    assert resp.status_code == 302
    page = client.get(f"{path}?lang=sv").text
    assert "Alla tillfrågade enheter har hållit den." in page and "Region Norr" not in page
    close = client.post(f"/campaigns/{campaign_id}/close", data={"csrf_token": csrf(page), "closed": "1"},
                        headers={"Accept-Language": "sv"}, follow_redirects=True)
    assert "”Våren” är avslutad." in close.text and "Öppna kampanjen igen" in close.text


def test_bad_input_says_what_to_do_and_saves_nothing(app, client, make, login, csrf):
    login(make.user("organiser"))
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst")
    none = _new_campaign(client, csrf, guide_id, [], deadline="")
    assert none.status_code == 422
    assert "Välj minst en enhet." in none.text and "Ange sista dagen." in none.text
    backwards = _new_campaign(client, csrf, guide_id, units.values(), deadline="2026-01-01", starts_on="2026-02-01",
                              lang="da")
    assert backwards.status_code == 422 and "Første dag ligger efter fristen." in backwards.text
    unknown = _new_campaign(client, csrf, guide_id, [99999], lang="da")
    assert unknown.status_code == 422 and "Vælg enheder på listen." in unknown.text
    with app.app_context():
        assert get_db().session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_a_facilitator_in_a_unit_sees_what_it_is_asked_and_starts_a_session(app, client, make, login, csrf):
    boss = make.user("organiser")
    kim = make.user("facilitator", email="kim@example.org")
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst", "Region Norr")
    organiser_client = app.test_client()
    page = organiser_client.get("/login")
    organiser_client.post("/login", data={"csrf_token": csrf(page.text), "email": boss.email,
                                          "password": "correct horse"})
    assert _new_campaign(organiser_client, csrf, guide_id, [units["Region Väst"]],
                         message="Välkomna att boka en kväll").status_code == 302
    users = organiser_client.get("/users", headers={"Accept-Language": "sv"})
    assert f'id="unit-of-{kim.id}"' in users.text
    moved = organiser_client.post(f"/users/{kim.id}/unit", data={"csrf_token": csrf(users.text),
                                                                "unit_id": str(units["Region Väst"])},
                                  headers={"Accept-Language": "sv"}, follow_redirects=True)
    assert "hör till Region Väst" in moved.text
    assert re.search(rf'<option value="{units["Region Väst"]}" selected>Region Väst</option>', moved.text)
    with app.app_context():
        assert get_db().session.get(User, kim.id).unit_id == units["Region Väst"]

    login(kim)
    start = client.get("/sessions", headers={"Accept-Language": "sv"}).text
    assert "Region Väst ombeds hålla" in start and "Välkomna att boka en kväll" in start
    link = re.search(r'href="(/sessions\?[^"]+)"[^>]*>Starta ett möte med den här guiden', start)
    assert link, "one click to a prefilled form"
    form = client.get(link.group(1).replace("&amp;", "&")).text
    assert re.search(rf'<option selected value="{guide_id}"|<option value="{guide_id}" selected', form) or \
        re.search(rf'value="{guide_id}"[^>]*selected', form)
    assert re.search(r'<option selected value="Region Väst"|<option value="Region Väst" selected', form)
    # Without the link the form starts with the facilitator's own unit too.
    plain = client.get("/sessions").text
    assert re.search(r'<option selected value="Region Väst"|<option value="Region Väst" selected', plain)

    # A unit that held it says so; a unit asked nothing sees nothing.
    _ended(app, make, guide_id, "Region Väst", dt.date.today())
    assert "Hållen" in client.get("/sessions", headers={"Accept-Language": "sv"}).text
    with app.app_context():
        db = get_db().session
        db.get(User, kim.id).unit_id = db.scalar(sa.select(Unit.id).where(Unit.name == "Region Norr"))
        db.commit()
        db.remove()
    assert "ombeds hålla" not in client.get("/sessions", headers={"Accept-Language": "sv"}).text


def test_the_rollup_and_the_public_page_list_who_has_held_it_and_who_has_not_yet(app, client, make, login, csrf):
    boss = make.user("organiser")
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst", "Region Stockholm", "Region Norr")
    login(boss)
    assert _new_campaign(client, csrf, guide_id, units.values()).status_code == 302
    _ended(app, make, guide_id, "Region Stockholm", dt.date(2026, 2, 14))

    rollup = client.get(f"/guides/{guide_id}/rollup", headers={"Accept-Language": "sv"}).text
    section = re.search(r'<section aria-labelledby="campaign-\d+".*?</section>', rollup, re.S).group()
    assert "Först ut var Region Stockholm" in section
    not_yet = re.search(r'<ul class="not-yet-list".*?</ul>', section, re.S).group()
    assert "Region Norr" in not_yet and "Region Väst" in not_yet

    published = client.post(f"/guides/{guide_id}/public", data={"csrf_token": csrf(rollup)})
    key = re.search(r"published=(\d+)", published.headers["Location"])
    assert key
    rollup = client.get(published.headers["Location"]).text
    public = re.findall(r'href="http://dialogrum.test(/f/[\w-]+)"', rollup)[0]
    anonymous = app.test_client()
    page = anonymous.get(public, headers={"Accept-Language": "da"}).text
    section = re.search(r'<section aria-labelledby="campaign-\d+".*?</section>', page, re.S).group()
    assert "Hvem der blev bedt om at holde den" in section
    not_yet = re.search(r'<ul class="not-yet-list".*?</ul>', section, re.S).group()
    assert "Region Norr" in not_yet and "Region Väst" in not_yet  # never absent
    assert "/report" not in section  # no links to reports for the public


def _public_page(app, client, csrf, guide_id, lang="sv"):
    rollup = client.get(f"/guides/{guide_id}/rollup").text
    published = client.post(f"/guides/{guide_id}/public", data={"csrf_token": csrf(rollup)})
    rollup = client.get(published.headers["Location"]).text
    public = re.findall(r'href="http://dialogrum.test(/f/[\w-]+)"', rollup)[0]
    return app.test_client().get(public, headers={"Accept-Language": lang}).text


def test_the_public_page_lists_who_has_held_it_once(app, client, make, login, csrf):
    """Issue 12 polish: with a campaign, its block is the only list of who has held the guide (the
    older "Vilka som har hållit dialogen" list went below it, naming the same units twice); a unit
    that held it without being asked is still named. Without a campaign the older list stays."""
    boss = make.user("organiser")
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst", "Region Stockholm")
    login(boss)
    assert _new_campaign(client, csrf, guide_id, units.values()).status_code == 302
    _ended(app, make, guide_id, "Region Stockholm", dt.date(2026, 2, 14))
    _ended(app, make, guide_id, "Region Syd", dt.date(2026, 2, 20))

    page = _public_page(app, client, csrf, guide_id)
    assert page.count("Först ut var") == 1
    assert "Vilka som har hållit dialogen" not in page and 'class="held-list"' not in page
    assert page.count("Region Stockholm</strong>") == 1
    unasked = re.search(r'<p class="card held-unasked">(.*?)</p>', page, re.S).group(1)
    assert "Region Syd" in unasked and "Region Stockholm" not in unasked

    # The organiser's roll-up has one list of who has held it too (its table lists sessions).
    rollup = client.get(f"/guides/{guide_id}/rollup", headers={"Accept-Language": "sv"}).text
    assert rollup.count("Först ut var") == 1

    # A guide without a campaign keeps the older list.
    other = make.guide(REGIONS_GUIDE)
    _ended(app, make, other, "Region Väst", dt.date(2026, 3, 1))
    page = _public_page(app, client, csrf, other)
    assert "Vilka som har hållit dialogen" in page and page.count("Först ut var Region Väst") == 1
    assert "held-unasked" not in page


def test_deleting_a_guide_names_its_campaigns_and_refuses_while_one_is_open(app, client, make, login, csrf):
    """Issue 12 polish, point 4: deleting a guide no session used took its campaigns along without a
    word. While an open campaign asks for it the page (409) and REST DELETE refuse, naming it; once
    closed, the confirmation page names the campaign that goes with the guide."""
    boss = make.user("organiser")
    token = {"Authorization": f"Bearer {make.token(boss)}", "Accept-Language": "sv"}
    guide_id = make.guide(REGIONS_GUIDE)
    units = _units(app, "Region Väst")
    login(boss)
    assert _new_campaign(client, csrf, guide_id, units.values(), title="Vårens dialog").status_code == 302
    with app.app_context():
        campaign_id = get_db().session.scalar(sa.select(Campaign.id))
        get_db().session.remove()

    page = client.get(f"/guides/{guide_id}/delete?lang=sv")
    assert page.status_code == 409
    assert "En öppen kampanj ber enheter att hålla guiden" in page.text and "Vårens dialog" in page.text
    assert f"/campaigns/{campaign_id}" in page.text and "Ja, radera guiden" not in page.text
    assert client.post(f"/guides/{guide_id}/delete", data={"csrf_token": csrf(page.text)}).status_code == 409
    refused = client.delete(f"/api/v1/guides/{guide_id}", headers=token)
    assert refused.status_code == 409 and refused.get_json()["error"] == "guide_in_campaign"
    message = refused.get_json()["message"]
    assert "“Vårens dialog”" in message and "Avsluta kampanjen först" in message
    assert client.get(f"/guides/{guide_id}").status_code == 200  # nothing was deleted

    closed = client.get(f"/campaigns/{campaign_id}?lang=da").text
    client.post(f"/campaigns/{campaign_id}/close", data={"csrf_token": csrf(closed), "closed": "1"})
    page = client.get(f"/guides/{guide_id}/delete?lang=da")
    assert page.status_code == 200 and "Ja, slet guiden" in page.text
    named = re.search(r'<ul class="campaign-names">.*?</ul>', page.text, re.S).group()
    assert "Vårens dialog" in named and "Denne lukkede kampagne slettes sammen med guiden" in page.text
    assert client.delete(f"/api/v1/guides/{guide_id}", headers=token).status_code == 204
    with app.app_context():
        assert get_db().session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
        get_db().session.remove()


def test_an_organiser_changes_a_users_email_language_beside_the_unit(app, client, make, login, csrf):
    """Issue 12 polish, point 2: the language of a user's e-mails (users.language) is changed after
    the invitation in the same per-user form as the unit; a bad language saves nothing (nor the
    unit), and a form without the field leaves the language as it is."""
    from shared import mail

    boss = make.user("organiser")
    kim = make.user("facilitator", email="kim@example.org")  # named "Facilitator"
    units = _units(app, "Region Väst")
    login(boss)
    sv = {"Accept-Language": "sv"}
    page = client.get("/users", headers=sv).text
    form = re.search(rf'<form[^>]*action="/users/{kim.id}/unit".*?</form>', page, re.S).group()
    assert f'<label for="lang-of-{kim.id}" class="visually-hidden">Språk i e-post till Facilitator</label>' in form
    assert '<option value="" selected>E-postspråk inte valt</option>' in form  # never chosen yet

    done = client.post(f"/users/{kim.id}/unit", data={"csrf_token": csrf(page), "unit_id": str(units["Region Väst"]),
                                                      "language": "da"}, headers=sv, follow_redirects=True)
    assert "E-post till Facilitator skrivs från och med nu på Dansk." in done.text
    form = re.search(rf'<form[^>]*action="/users/{kim.id}/unit".*?</form>', done.text, re.S).group()
    assert '<option value="da" lang="da" selected>Dansk</option>' in form and "inte valt" not in form
    with app.app_context():
        user = get_db().session.get(User, kim.id)
        assert (user.language, user.unit_id) == ("da", units["Region Väst"])
        assert mail.language_of(user, "sv") == "da"  # later resets and reminders come in Danish
        get_db().session.remove()

    bad = client.post(f"/users/{kim.id}/unit", data={"csrf_token": csrf(page), "unit_id": "", "language": "de"},
                      headers=sv, follow_redirects=True)
    assert "Välj ett språk i listan." in bad.text
    unit_only = client.post(f"/users/{kim.id}/unit", data={"csrf_token": csrf(page), "unit_id": ""}, headers=sv)
    assert unit_only.status_code == 302
    with app.app_context():
        user = get_db().session.get(User, kim.id)
        assert (user.language, user.unit_id) == ("da", None)  # the bad post saved nothing; no field: kept
        get_db().session.remove()
