"""The visibility rule (shared.access) on SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from shared import access
from shared.db import get_db
from shared.models import Meeting, User


def _visible_titles(app, user) -> list[str]:
    with app.app_context():
        db = get_db().session
        reader = db.get(User, user.id) if isinstance(user, User) else user
        titles = sorted(db.scalars(access.visible(sa.select(Meeting.title), reader)))
        db.remove()
        return titles


def test_organisers_see_every_session_facilitators_their_own_inactive_users_none(app, make):
    boss, fac, other = make.user("organiser"), make.user("facilitator"), make.user("facilitator")
    gid = make.guide()
    make.meeting(fac, guide_id=gid, title="A")
    make.meeting(other, guide_id=gid, title="B")
    make.meeting(None, guide_id=gid, title="C")
    assert _visible_titles(app, boss) == ["A", "B", "C"]
    assert _visible_titles(app, fac) == ["A"]
    assert _visible_titles(app, access.EVERYONE) == ["A", "B", "C"]
    assert _visible_titles(app, None) == []
    inactive = SimpleNamespace(id=fac.id, role="facilitator", active=False)
    assert _visible_titles(app, inactive) == []
    assert _visible_titles(app, SimpleNamespace(id=boss.id, role="organiser", active=False)) == []


def test_visible_meetings_of_one_guide(app, make):
    fac = make.user("facilitator")
    first, second = make.guide(), make.guide()
    mine = make.meeting(fac, guide_id=first)
    make.meeting(fac, guide_id=second)
    make.meeting(None, guide_id=first)
    with app.app_context():
        db = get_db().session
        user = db.get(User, fac.id)
        assert [m.id for m in db.scalars(access.visible_meetings(user, first))] == [mine]
        db.remove()


def test_may_manage():
    mine = SimpleNamespace(facilitator_id=7)
    nobodys = SimpleNamespace(facilitator_id=None)
    fac = SimpleNamespace(id=7, role="facilitator", active=True)
    boss = SimpleNamespace(id=1, role="organiser", active=True)
    assert access.may_manage(fac, mine) and not access.may_manage(fac, nobodys)
    assert access.may_manage(boss, mine) and access.may_manage(boss, nobodys)
    assert not access.may_manage(SimpleNamespace(id=7, role="facilitator", active=False), mine)
    assert not access.may_manage(SimpleNamespace(id=1, role="organiser", active=False), mine)
    assert not access.may_manage(None, mine)
    assert not access.may_manage(access.EVERYONE, mine)
