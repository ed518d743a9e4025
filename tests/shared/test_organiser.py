"""The organiser's rules: units, users, deletion, retention, roll-up arithmetic, public links."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from shared import accounts, organiser
from shared import meeting as rules
from shared.db import get_db
from shared.errors import DialogrumError
from shared.models import Base, Meeting, User
from shared.rollup import rollup
from shared.uow import Work
from tests.conftest import REGIONS_GUIDE as GUIDE
from tests.conftest import hold_meeting

# votes per unit: {item: [choices]}
ROOM = {
    "Region Stockholm": {"c1": ["yes", "yes", "no"], "c2": ["unsure", "yes"], "c3": ["no"]},
    "Region Syd": {"c1": ["no", "no"], "c2": ["yes"], "c3": ["yes", "yes", "yes"]},
    "Region Norr": {"c1": ["yes"], "c2": [], "c3": ["no", "yes"]},
}


@pytest.fixture
def three_regions(app, make):
    engine = get_db(app).engine
    organiser_user = make.user("organiser")
    fac = make.user("facilitator")
    gid = make.guide(GUIDE)
    mids = {}
    for i, (unit, votes) in enumerate(ROOM.items()):
        mids[unit] = make.meeting(fac if i < 2 else organiser_user, guide_id=gid, unit=unit, title=f"Dialog {unit}")
        hold_meeting(engine, mids[unit], votes, [f"Kommentar från {unit}"], end=False)
    return {"guide": gid, "meetings": mids, "organiser": organiser_user, "facilitator": fac, "engine": engine}


def _rollup(app, gid, user, **kw):
    from shared.models import Guide

    with app.app_context():
        db = get_db().session
        data = rollup(db, db.get(Guide, gid), db.get(User, user.id), **kw)
        db.remove()
        return data


#: a roll-up cell's counted hands (issue 11) where nobody counted any
NO_HANDS = {"hands_yes": 0, "hands_no": 0, "hands_unsure": 0}


def test_rollup_arithmetic_across_three_regions(app, three_regions):
    data = _rollup(app, three_regions["guide"], three_regions["organiser"])
    mids = three_regions["meetings"]
    assert [s["unit"] for s in data["sessions"]] == list(ROOM)
    assert [s["participants"] for s in data["sessions"]] == [3, 3, 2]
    items = {i["id"]: i for i in data["items"]}
    c1 = items["c1"]
    assert c1["per_session"][mids["Region Stockholm"]] == {"yes": 2, "no": 1, "unsure": 0, "voters": 3,
                                                           "comments": 0, **NO_HANDS}
    assert c1["per_session"][mids["Region Syd"]]["no"] == 2
    assert c1["total"] == {"yes": 3, "no": 3, "unsure": 0, "voters": 6, "comments": 0, **NO_HANDS}
    assert items["c2"]["total"] == {"yes": 2, "no": 0, "unsure": 1, "voters": 3, "comments": 0, **NO_HANDS}
    assert items["c3"]["total"] == {"yes": 4, "no": 2, "unsure": 0, "voters": 6, "comments": 0, **NO_HANDS}
    assert items["p1"]["total"]["comments"] == 3
    tags = {t["tag"]: t for t in data["tags"]}
    # Engagemang is on all three considerations, Värvning on the first two.
    assert tags["Värvning"]["items"] == ["c1", "c2"]
    assert tags["Värvning"]["total"] == {"yes": 5, "no": 3, "unsure": 1, "voters": 9, **NO_HANDS}
    assert tags["Engagemang"]["total"] == {"yes": 9, "no": 5, "unsure": 1, "voters": 15, **NO_HANDS}
    assert tags["Engagemang"]["per_session"][mids["Region Syd"]] == {"yes": 4, "no": 2, "unsure": 0, "voters": 6,
                                                                     **NO_HANDS}


def test_rollup_filters_and_roles(app, three_regions):
    fac = three_regions["facilitator"]
    mine = _rollup(app, three_regions["guide"], fac)
    assert {s["unit"] for s in mine["sessions"]} == {"Region Stockholm", "Region Syd"}
    assert all(three_regions["meetings"]["Region Norr"] not in i["per_session"] for i in mine["items"])
    only = _rollup(app, three_regions["guide"], three_regions["organiser"], unit="Region Syd")
    assert [s["unit"] for s in only["sessions"]] == ["Region Syd"]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert _rollup(app, three_regions["guide"], three_regions["organiser"], since=future)["sessions"] == []


def test_public_rollup_per_unit_has_no_comment_text(app, three_regions):
    data = organiser.per_unit(_rollup(app, three_regions["guide"], three_regions["organiser"]))
    assert [u["unit"] for u in data["units"]] == list(ROOM)
    assert all(u["sessions"] == 1 for u in data["units"])
    c3 = next(i for i in data["items"] if i["id"] == "c3")
    assert c3["per_unit"]["Region Syd"] == {"yes": 3, "no": 0, "unsure": 0, "voters": 3, "comments": 0}
    assert "Kommentar" not in repr(data)
    assert "participants" not in repr(data)


def test_public_links_are_revocable(app, make, three_regions):
    with app.app_context():
        db = get_db().session
        user = db.get(User, three_regions["organiser"].id)
        link = organiser.publish_rollup(db, three_regions["guide"], user)
        db.commit()
        assert organiser.find_public_rollup(db, link.key).id == link.id
        assert link.include_comments is False
        organiser.revoke_rollup(db, link.id)
        db.commit()
        assert organiser.find_public_rollup(db, link.key) is None
        assert organiser.find_public_rollup(db, "nope") is None
        with pytest.raises(DialogrumError):
            organiser.publish_rollup(db, "nope", user)
        db.remove()


def test_deleting_a_session_leaves_no_row_behind(app, three_regions):
    engine = three_regions["engine"]
    mid = three_regions["meetings"]["Region Syd"]
    with engine.begin() as conn:
        rules.set_conclusion(Work(conn), mid, "c1", "Nej")
        organiser.delete_meeting(Work(conn), mid)
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if "meeting_id" in table.c:
                left = conn.execute(sa.select(sa.func.count()).select_from(table)
                                    .where(table.c.meeting_id == mid)).scalar_one()
                assert left == 0, table.name
        assert conn.execute(sa.select(Meeting).where(Meeting.id == mid)).first() is None
        others = conn.execute(sa.select(sa.func.count()).select_from(Meeting)).scalar_one()
        assert others == 2
    with pytest.raises(DialogrumError), engine.begin() as conn:
        organiser.delete_meeting(Work(conn), mid)


def test_retention_deletes_comments_of_long_ended_sessions(app, three_regions):
    engine = three_regions["engine"]
    old, recent = three_regions["meetings"]["Region Stockholm"], three_regions["meetings"]["Region Syd"]
    with engine.begin() as conn:
        assert organiser.retention_days(conn) == 0
        assert organiser.purge_expired_comments(conn) == 0
        rules.control(Work(conn), old, "end")
        rules.control(Work(conn), recent, "end")
        conn.execute(sa.update(Meeting).where(Meeting.id == old)
                     .values(ended_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40)))
        organiser.set_retention_days(conn, 30)
        with pytest.raises(DialogrumError):
            organiser.set_retention_days(conn, -1)
    with engine.begin() as conn:
        assert organiser.purge_expired_comments(conn) == 1
        left = {i["id"]: len(i["comments"]) for i in rules.results(conn, old)["items"]}
        assert left["p1"] == 0
        assert sum(len(i["comments"]) for i in rules.results(conn, recent)["items"]) == 1
        # Votes are results, not personal data: they stay.
        assert rules.counts(conn, old)["c1"]["voters"] == 3


def test_units_and_users(app, make):
    with app.app_context():
        db = get_db().session
        unit = organiser.add_unit(db, " Region Skåne ", "region")
        with pytest.raises(DialogrumError):
            organiser.add_unit(db, "region skåne")
        with pytest.raises(DialogrumError):
            organiser.add_unit(db, "X", "planet")
        organiser.set_unit_active(db, unit.id, False)
        assert organiser.list_units(db, active_only=True) == []
        user, secret = organiser.invite(db, email="ny@example.org", role="facilitator", name="Ny")
        db.commit()
        assert organiser.invited_user_ids(db) == {user.id}
        assert accounts.authenticate(db, "ny@example.org", "whatever1") is None
        accounts.use_link(db, secret, "ett bra lösenord")
        db.commit()
        assert organiser.invited_user_ids(db) == set()
        assert accounts.authenticate(db, "ny@example.org", "ett bra lösenord").id == user.id
        with pytest.raises(DialogrumError):
            accounts.use_link(db, secret, "ett annat lösenord")
        boss = accounts.create_user(db, email="boss@example.org", role="organiser", password="long password")
        organiser.set_user_active(db, boss, user.id, False)
        db.commit()
        assert accounts.authenticate(db, "ny@example.org", "ett bra lösenord") is None
        assert [u.email for u in organiser.list_users(db)] == ["boss@example.org", "ny@example.org"]
        with pytest.raises(DialogrumError):
            organiser.set_user_active(db, boss, boss.id, False)
        with pytest.raises(DialogrumError):  # a deactivated user's link could never be used
            organiser.reset_password(db, user.id)
        organiser.set_user_active(db, boss, user.id, True)
        reset = organiser.reset_password(db, user.id)
        accounts.use_link(db, reset, "nytt lösenord!")
        db.commit()
        assert accounts.authenticate(db, "ny@example.org", "nytt lösenord!") is not None
        db.remove()


def test_delete_over_rest(client, make):
    fac = make.user()
    auth = {"Authorization": f"Bearer {make.token(fac)}"}
    sid = client.post("/api/v1/sessions", json={"guide_id": make.guide(), "title": "x"}, headers=auth).get_json()["id"]
    other = {"Authorization": f"Bearer {make.token(make.user())}"}
    assert client.delete(f"/api/v1/sessions/{sid}", headers=other).status_code == 403
    assert client.delete(f"/api/v1/sessions/{sid}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/sessions/{sid}", headers=auth).status_code == 404
