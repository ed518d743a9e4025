"""The campaign rules (shared/campaigns.py) on SQLite and PostgreSQL: who has held a guide, in order,
who has not yet, and who is overdue (issue 12, gap 8)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from shared import campaigns, organiser
from shared.errors import DialogrumError
from shared.models import Campaign, Meeting, User, UserRole
from tests.conftest import REGIONS_GUIDE


@pytest.fixture
def setup(app, db, make):
    """Three regions, one guide, an organiser; returns (organiser, guide id, units by name)."""
    boss = make.user("organiser")
    guide_id = make.guide(REGIONS_GUIDE)
    units = {name: organiser.add_unit(db, name) for name in ("Region Väst", "Region Stockholm", "Region Norr")}
    db.commit()
    return db.get(User, boss.id), guide_id, units


def _held(db, make, guide_id, unit, day, *, status="ended", hour=10):
    """A session of the guide by `unit`, started on `day` at `hour` UTC, in `status`."""
    meeting_id = make.meeting(guide_id=guide_id, unit=unit, title=f"{unit} {day}")
    started = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
    db.execute(sa.update(Meeting).where(Meeting.id == meeting_id).values(
        status=status, started_at=started, ended_at=started + dt.timedelta(hours=2) if status == "ended" else None))
    db.commit()
    return meeting_id


def test_held_in_order_of_first_session_and_units_without_one_are_not_yet(db, make, setup):
    boss, guide_id, units = setup
    campaign = campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[u.id for u in units.values()],
                                       starts_on="2027-03-01", deadline="2027-06-30", message="Hej regionerna")
    db.commit()
    _held(db, make, guide_id, "Region Väst", dt.date(2027, 4, 2))
    first = _held(db, make, guide_id, "region stockholm", dt.date(2027, 3, 20))  # the case differs
    _held(db, make, guide_id, "Region Stockholm", dt.date(2027, 5, 1))
    _held(db, make, guide_id, "Region Norr", dt.date(2027, 2, 27))  # before the first day: does not count
    _held(db, make, guide_id, "Region Norr", dt.date(2027, 3, 5), status="live")  # not ended
    other = make.guide()
    _held(db, make, other, "Region Norr", dt.date(2027, 3, 6))  # another guide

    campaign = db.get(Campaign, campaign.id)  # the builders hand their session's connection back
    prog = campaigns.progress(db, campaign, today=dt.date(2027, 5, 2))
    assert [h.unit.name for h in prog.held] == ["Region Stockholm", "Region Väst"]
    assert prog.held[0].meeting.id == first
    assert prog.held[0].first_on == dt.date(2027, 3, 20) and prog.held[0].sessions == 2
    assert [(n.unit.name, n.overdue) for n in prog.not_yet] == [("Region Norr", False)]

    late = campaigns.progress(db, campaign, today=dt.date(2027, 7, 1))
    assert [(n.unit.name, n.overdue) for n in late.overdue] == [("Region Norr", True)]

    body = campaigns.as_json(late)
    assert [h["unit"] for h in body["held"]] == ["Region Stockholm", "Region Väst"]
    assert body["not_yet"] == [{"unit": "Region Norr", "overdue": True}]
    assert body["held"][0]["session_id"] == first


def test_a_session_after_the_deadline_counts_as_late_and_none_after_closing(db, make, setup):
    boss, guide_id, units = setup
    campaign = campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[units["Region Norr"].id],
                                       deadline=dt.date(2027, 6, 30))
    db.commit()
    _held(db, make, guide_id, "Region Norr", dt.date(2027, 7, 3))
    campaign = db.get(Campaign, campaign.id)
    prog = campaigns.progress(db, campaign, today=dt.date(2027, 7, 4))
    assert [(h.unit.name, h.late) for h in prog.held] == [("Region Norr", True)]
    assert not prog.not_yet

    campaigns.close_campaign(db, campaign.id)
    db.execute(sa.update(Campaign).values(closed_at=dt.datetime(2027, 7, 1, 12, tzinfo=dt.UTC)))
    db.commit()
    prog = campaigns.progress(db, db.get(Campaign, campaign.id), today=dt.date(2027, 7, 4))
    assert not prog.held and [n.unit.name for n in prog.not_yet] == ["Region Norr"]


def test_a_facilitator_sees_the_open_campaigns_of_their_unit(db, make, setup):
    boss, guide_id, units = setup
    kim = make.user("facilitator")
    boss = db.get(User, boss.id)
    asked = campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[units["Region Väst"].id],
                                    deadline="2027-06-30")
    campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[units["Region Norr"].id], deadline="2027-06-30")
    db.commit()
    assert campaigns.for_user(db, db.get(User, kim.id)) == []
    campaigns.set_user_unit(db, kim.id, units["Region Väst"].id)
    db.commit()
    user = db.get(User, kim.id)
    assert [c.id for c in campaigns.for_user(db, user)] == [asked.id]
    prog = campaigns.progress(db, asked)
    assert [u.email for u in campaigns.facilitators_not_yet(db, prog)] == [user.email]
    campaigns.close_campaign(db, asked.id)
    db.commit()
    assert campaigns.for_user(db, user) == []
    assert user.role == UserRole.FACILITATOR


@pytest.mark.parametrize(("change", "field"), [
    ({"unit_ids": []}, "unit_ids"),
    ({"unit_ids": [99999]}, "unit_ids"),
    ({"guide_id": "nope"}, "guide_id"),
    ({"deadline": ""}, "deadline"),
    ({"deadline": "30/6"}, "deadline"),
    ({"starts_on": "2027-07-01"}, "starts_on"),
    ({"title": "x" * 301}, "title"),
])
def test_bad_input_is_refused_naming_the_field(db, setup, change, field):
    boss, guide_id, units = setup
    args = {"guide_id": guide_id, "unit_ids": [units["Region Väst"].id], "deadline": "2027-06-30", **change}
    with pytest.raises(DialogrumError) as caught:
        campaigns.save_campaign(db, boss, **args)
    assert caught.value.code == "invalid" and field in caught.value.message


def test_editing_replaces_the_units_asked(db, setup):
    boss, guide_id, units = setup
    campaign = campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[units["Region Väst"].id],
                                       deadline="2027-06-30")
    db.commit()
    campaigns.save_campaign(db, boss, campaign_id=campaign.id, guide_id=guide_id, title="Våren 2027",
                            unit_ids=[units["Region Norr"].id, units["Region Stockholm"].id], deadline="2027-05-31")
    db.commit()
    again = db.get(Campaign, campaign.id)
    assert [u.name for u in again.units] == ["Region Norr", "Region Stockholm"]
    assert campaigns.name(again) == "Våren 2027" and again.deadline == dt.date(2027, 5, 31)


def test_reminders_are_queued_per_facilitator_of_the_units_not_yet_held(db, make, setup):
    from shared.models import MailOutbox

    boss, guide_id, units = setup
    kim, ida = make.user("facilitator"), make.user("facilitator")
    boss = db.get(User, boss.id)
    campaign = campaigns.save_campaign(db, boss, guide_id=guide_id, deadline="2027-06-30",
                                       unit_ids=[units["Region Väst"].id, units["Region Norr"].id])
    db.get(User, kim.id).unit_id = units["Region Väst"].id
    db.get(User, ida.id).unit_id = units["Region Väst"].id
    db.get(User, ida.id).language = "da"
    db.commit()
    prog = campaigns.progress(db, db.get(Campaign, campaign.id), today=dt.date(2027, 7, 1))
    done = campaigns.send_reminders(db, prog, url_for_unit=lambda unit: f"http://x.test/{unit}",
                                    fallback_language="sv")
    db.commit()
    assert done.nobody == ["Region Norr"]
    assert sorted(lang for _user, _unit, lang in done.sent) == ["da", "sv"]
    rows = {r.to_addr: r for r in db.scalars(sa.select(MailOutbox))}
    assert rows[ida.email].subject.startswith("Påmindelse:") and "http://x.test/Region Väst" in rows[ida.email].body
    assert rows[kim.email].subject.startswith("Påminnelse:") and "Sista dagen har passerat" in rows[kim.email].body
    campaigns.close_campaign(db, campaign.id)
    with pytest.raises(DialogrumError):
        campaigns.send_reminders(db, campaigns.progress(db, db.get(Campaign, campaign.id)),
                                 url_for_unit=str, fallback_language="sv")


def test_deleting_a_guide_no_session_used_takes_its_campaigns_along(db, make, setup):
    """An open campaign keeps its guide (`guide_in_campaign`, naming it: issue 12 polish, point 4);
    once it is closed, deleting the guide takes the campaign along (the foreign key's cascade)."""
    from shared import library

    boss, _guide_id, units = setup
    unused = make.guide()
    boss = db.get(User, boss.id)
    campaign_id = campaigns.save_campaign(db, boss, guide_id=unused, unit_ids=[units["Region Norr"].id],
                                          deadline="2027-06-30", title="Vårens dialog").id
    db.commit()
    db.expunge_all()  # as a later request would: nothing of the campaign loaded
    with pytest.raises(DialogrumError) as refused:
        library.delete_guide(db, boss, library.get_guide(db, unused))
    assert refused.value.code == "guide_in_campaign" and "“Vårens dialog” (2027-06-30)" in refused.value.message
    db.rollback()
    assert library.get_guide(db, unused) is not None
    assert db.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1
    campaigns.close_campaign(db, campaign_id)
    db.commit()
    assert library.guide_campaigns(db, unused)[1][0].id == campaign_id  # closed: named, then deleted
    library.delete_guide(db, boss, library.get_guide(db, unused))
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
    assert db.get(type(units["Region Norr"]), units["Region Norr"].id) is not None  # the unit stays


def test_asked_guide_is_the_open_campaigns_guide_the_unit_has_not_held(db, make, setup):
    """Issue 12 polish, point 5: what the new-session form starts with for a member of a unit."""
    boss, guide_id, units = setup
    west, north = units["Region Väst"].id, units["Region Norr"].id
    other, third = make.guide(), make.guide()
    kim_id, nobody_id = make.user().id, make.user().id
    boss = db.get(User, boss.id)  # the builders hand their session's connection back
    campaigns.set_user_unit(db, kim_id, west)
    db.commit()
    kim = db.get(User, kim_id)
    assert campaigns.asked_guide(db, kim) is None  # no campaign
    later = campaigns.save_campaign(db, boss, guide_id=other, unit_ids=[west], deadline="2027-09-30").id
    campaigns.save_campaign(db, boss, guide_id=guide_id, unit_ids=[west], deadline="2027-06-30")
    campaigns.save_campaign(db, boss, guide_id=third, unit_ids=[north], deadline="2027-01-31")  # another unit
    db.commit()
    today = dt.date(2027, 5, 1)
    assert campaigns.asked_guide(db, kim, today=today) == guide_id  # the nearest deadline
    db.rollback()  # SQLite's pool has one connection: the session gives it back
    _held(db, make, guide_id, "Region Väst", dt.date(2027, 4, 2))
    kim = db.get(User, kim_id)
    assert campaigns.asked_guide(db, kim, today=today) == other  # held: the next one
    campaigns.close_campaign(db, later)
    db.commit()
    assert campaigns.asked_guide(db, kim, today=today) is None  # closed
    assert campaigns.asked_guide(db, db.get(User, nobody_id), today=today) is None  # in no unit
