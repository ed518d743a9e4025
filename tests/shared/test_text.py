"""One cleaning rule for every stored text (issue 15, point 10): comments, session titles and
units, conclusions, unit and user names and guide texts lose C0 controls (but tab and newline),
DEL, C1 controls, bidirectional overrides and lone surrogates, whichever door they came in by.
On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared import organiser, uow
from shared.db import get_db
from shared.models import Comment, Conclusion, Meeting, Unit, User
from shared.text import clean
from tests.conftest import SMALL_GUIDE, csrf_token

#: one of every kind that must go, between letters that must stay
DIRTY = "a\x01b\x7fc\x85d\x9be\u202ef\u2066g\ud800h\x00i\tj\u202dk\u2069"
CLEAN = "abc\ndefghi\tjk"


@pytest.mark.parametrize(("raw", "expected"), [
    (DIRTY, CLEAN),
    ("  Ja \r\n Nej\u2028Ved ikke ", "Ja \n Nej\nVed ikke"),
    ("Ærø øl ✓ 👩‍👩‍👧 \u200f", "Ærø øl ✓ 👩‍👩‍👧 \u200f"),  # letters, emoji with joiners and the RLM mark stay
    ("\u202e\x00 ", ""),
])
def test_clean(raw, expected):
    assert clean(raw) == expected


def _stored(app, stmt):
    with get_db(app).begin() as conn:
        return conn.execute(stmt).scalar_one()


def test_every_stored_text_is_cleaned_by_the_rules(app, make):
    database = get_db(app)
    user = make.user()
    mid = make.meeting(user, title="Møde " + DIRTY, unit="Region " + DIRTY)
    row = _stored(app, sa.select(Meeting.title).where(Meeting.id == mid))
    assert row == "Møde " + CLEAN
    assert _stored(app, sa.select(Meeting.unit).where(Meeting.id == mid)) == "Region " + CLEAN

    uow.run(database, rules.control, mid, "start")
    prompt = uow.run(database, rules.control, mid, "goto", 3)["item"]["id"]
    with database.begin() as conn:
        participant, _ = rules.join(uow.Work(conn), rules.get_meeting(conn, mid))
    comment = rules.post_comment(database, mid, participant, prompt, DIRTY)
    assert comment["text"] == CLEAN
    assert _stored(app, sa.select(Comment.text).where(Comment.id == comment["id"])) == CLEAN

    saved = uow.run(database, rules.set_conclusion, mid, prompt, DIRTY)
    assert saved["text"] == CLEAN
    assert _stored(app, sa.select(Conclusion.text).where(Conclusion.meeting_id == mid)) == CLEAN

    with app.app_context():
        db = database.session
        unit = organiser.add_unit(db, "Kreds " + DIRTY, "kreds")
        person, _ = organiser.invite(db, email="ny@example.org", role="facilitator", name="Ny " + DIRTY)
        db.commit()
        unit_id, person_id = unit.id, person.id
        db.remove()
    assert _stored(app, sa.select(Unit.name).where(Unit.id == unit_id)) == "Kreds " + CLEAN
    assert _stored(app, sa.select(User.name).where(User.id == person_id)) == "Ny " + CLEAN


def test_a_text_of_nothing_but_dropped_characters_is_empty(app, make):
    from shared.errors import DialogrumError

    database = get_db(app)
    mid = make.meeting(make.user())
    uow.run(database, rules.control, mid, "start")
    prompt = uow.run(database, rules.control, mid, "goto", 3)["item"]["id"]
    with database.begin() as conn:
        participant, _ = rules.join(uow.Work(conn), rules.get_meeting(conn, mid))
    with pytest.raises(DialogrumError) as refused:
        rules.post_comment(database, mid, participant, prompt, "\u202e\x00\x7f")
    assert refused.value.code == "empty"


def test_guide_texts_lose_bidirectional_overrides(app, make):
    from shared.models import Guide

    doc = {**SMALL_GUIDE, "title": "Guide \u202eevil\u202c"}
    gid = make.guide(doc)
    assert _stored(app, sa.select(Guide.title).where(Guide.id == gid)) == "Guide evil"


def test_a_form_title_is_cleaned(client, login, make, app):
    user = make.user()
    gid = make.guide()
    login(user)
    page = client.get("/sessions")
    resp = client.post("/sessions", data={"csrf_token": csrf_token(page.text), "guide_id": gid,
                                          "title": "Møde\x01\x7f\u202e i Lund\x9b"})
    assert resp.status_code == 302
    mid = resp.headers["Location"].rsplit("/", 1)[1]
    assert _stored(app, sa.select(Meeting.title).where(Meeting.id == mid)) == "Møde i Lund"


def test_the_first_organisers_name_is_cleaned(app):
    from shared import accounts

    with app.app_context():
        db = get_db().session
        secret = accounts.first_run_link(db)
        db.commit()
        user = accounts.use_link(db, secret, "correct horse battery", email="first@example.org",
                                 name="Anna " + DIRTY)
        db.commit()
        assert user.name == "Anna " + CLEAN
        db.remove()
