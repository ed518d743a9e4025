"""Campaign reminders (issue 12, gaps 8 and 9): one e-mail per facilitator of the units that have
not held the guide yet, in the facilitator's language, through a real SMTP server on loopback; the
reminder to copy when no e-mail is set up."""

from __future__ import annotations

import datetime as dt
import html
import re

import sqlalchemy as sa

from shared import campaigns, mail, organiser
from shared.db import get_db
from shared.models import Campaign, MailOutbox, Meeting, User
from tests.conftest import REGIONS_GUIDE
from tests.shared.test_mail import SmtpServer


def _setup(app, make):
    """Three regions asked; Stockholm has held it. Mette (da) is in Norr, Sven (sv) in Väst, Kim
    (sv) in Stockholm; Nobody is in Öst, which is not asked."""
    boss = make.user("organiser")
    people = {name: make.user("facilitator", email=f"{name.lower()}@example.org") for name in ("Mette", "Sven", "Kim")}
    guide_id = make.guide(REGIONS_GUIDE)
    held = make.meeting(people["Kim"], guide_id=guide_id, unit="Region Stockholm", title="Sthlm")
    with app.app_context():
        db = get_db().session
        units = {n: organiser.add_unit(db, n) for n in ("Region Norr", "Region Väst", "Region Stockholm", "Region Öst")}
        for name, unit, lang in (("Mette", "Region Norr", "da"), ("Sven", "Region Väst", "sv"),
                                 ("Kim", "Region Stockholm", "sv")):
            user = db.get(User, people[name].id)
            user.unit_id, user.language, user.name = units[unit].id, lang, name
        db.execute(sa.update(Meeting).where(Meeting.id == held).values(
            status="ended", started_at=dt.datetime(2026, 2, 1, 18, tzinfo=dt.UTC)))
        campaign = campaigns.save_campaign(
            db, db.get(User, boss.id), guide_id=guide_id, deadline="2026-03-01", message="Boka en kväll i mars.",
            unit_ids=[units[n].id for n in ("Region Norr", "Region Väst", "Region Stockholm")])
        db.commit()
        out = {"boss": boss, "campaign": campaign.id, "guide": guide_id}
        db.remove()
    return out


def test_reminders_reach_the_facilitators_of_the_units_not_yet_held_in_their_language(app, client, make, login,
                                                                                      csrf):
    setup = _setup(app, make)
    server = SmtpServer().start()
    try:
        app.config["SMTP_URL"] = server.url
        login(setup["boss"])
        page = client.get(f"/campaigns/{setup['campaign']}?lang=sv")
        assert "Skicka en påminnelse" in page.text
        resp = client.post(f"/campaigns/{setup['campaign']}/remind", data={"csrf_token": csrf(page.text)},
                           follow_redirects=True)
        assert "Påminnelser är på väg till 2 samtalsledare." in resp.text
        assert "Senast påmint" in resp.text
        with app.app_context():
            db = get_db().session
            rows = db.execute(sa.select(MailOutbox.to_addr, MailOutbox.language, MailOutbox.kind)
                              .order_by(MailOutbox.to_addr)).all()
            assert rows == [("mette@example.org", "da", "reminder"), ("sven@example.org", "sv", "reminder")]
            assert db.get(Campaign, setup["campaign"]).reminded_at is not None
            db.remove()  # SQLite's pool has one connection, which the sender needs
            assert mail.send_pending(get_db(app)).sent == 2
        by_to = {msg["To"]: msg for msg in server.messages}
        assert set(by_to) == {"mette@example.org", "sven@example.org"}  # not Kim: Stockholm has held it
        danish = by_to["mette@example.org"]
        assert danish["Subject"].startswith("Påmindelse: Förtroendemannadialogen senest 1. marts 2026")
        body = danish.get_content()
        assert "Hej Mette," in body and "Region Norr bliver bedt om at holde dialogen" in body
        assert "Fristen er overskredet" in body and "Boka en kväll i mars." in body
        link = re.search(r"http://dialogrum.test/sessions\?\S+", body).group()
        assert f"guide={setup['guide']}" in link and "unit=Region+Norr" in link
        assert "Region Väst ombeds hålla dialogen" in by_to["sven@example.org"].get_content()
    finally:
        server.stop()


def test_without_email_the_reminder_is_shown_to_copy_and_nothing_is_queued(app, client, make, login, csrf):
    setup = _setup(app, make)
    app.config["SMTP_URL"] = None
    login(setup["boss"])
    page = client.get(f"/campaigns/{setup['campaign']}?lang=da")
    assert "Vis påmindelsen" in page.text
    resp = client.post(f"/campaigns/{setup['campaign']}/remind?lang=da", data={"csrf_token": csrf(page.text)})
    assert resp.status_code == 200
    text = html.unescape(resp.text)
    assert "E-mail er ikke sat op på denne server" in text
    assert "mette@example.org" in text and "sven@example.org" in text and "kim@example.org" not in text
    assert "Region Norr bliver bedt om at holde dialogen" in text
    assert re.search(r"http://dialogrum.test/sessions\?guide=\w+&unit=Region\+V%C3%A4st#new-heading", text)
    assert 'data-copy="reminder-' in resp.text
    with app.app_context():
        assert get_db().session.scalar(sa.select(sa.func.count()).select_from(MailOutbox)) == 0
