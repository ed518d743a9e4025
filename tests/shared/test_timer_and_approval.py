"""The facilitator's countdown, the notes that stay on the console, and approve-first comments
(issue 11, points 2 and 4): the meeting rules on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared import uow
from shared.db import get_db
from shared.errors import DialogrumError
from shared.events import CommentAdded, CommentApproved, CommentModerated
from shared.meeting import commands, moderation, read
from shared.meeting.timer import DEFAULT_SECONDS, timer_state
from shared.models import Meeting, utcnow
from shared.uow import Work

NOTES_GUIDE = {
    "title": "Noter",
    "language": "da",
    "sections": [{
        "title": "Demokrati", "notes": "SEKTIONSNOTE: tal om demokrati", "duration": 20,
        "items": [
            {"kind": "prompt", "text": "Hvad gør vi?", "notes": "ORDSTYRERNOTE <b>ikke html</b>", "duration": 3},
            {"kind": "consideration", "text": "Er vi enige?"},
        ],
    }],
}


@pytest.fixture
def database(app):
    return get_db(app)


@pytest.fixture
def meeting_id(make):
    return make.meeting(make.user(), guide_id=make.guide(NOTES_GUIDE))


def control(database, meeting_id, action, index=None):
    return uow.run(database, rules.control, meeting_id, action, index)


def refused(code, database, fn, *args, **kwargs):
    with pytest.raises(DialogrumError) as info:
        uow.run(database, fn, *args, **kwargs)
    assert info.value.code == code


def state_now(database, meeting_id):
    with database.begin() as conn:
        return rules.state(conn, rules.get_meeting(conn, meeting_id))


def shift_start(database, meeting_id, seconds):
    """Pretend the countdown was started `seconds` earlier (instead of sleeping)."""
    with database.begin() as conn:
        started = conn.execute(sa.select(Meeting.timer_started_at).where(Meeting.id == meeting_id)).scalar_one()
        conn.execute(sa.update(Meeting).where(Meeting.id == meeting_id)
                     .values(timer_started_at=started - dt.timedelta(seconds=seconds)))


@pytest.fixture
def frozen_clock(monkeypatch):
    """The rules' clock stands still: the time left then depends only on what the test shifts, not on
    how long a loaded machine takes between two statements (a second went by under load in CI)."""
    now = utcnow()
    for module in (commands, read):
        monkeypatch.setattr(module, "utcnow", lambda: now)
    return now


def test_the_timer_follows_the_item_and_every_action(database, meeting_id, frozen_clock):
    refused("wrong_state", database, rules.control, meeting_id, "timer_start")  # waiting: nothing to time
    st = control(database, meeting_id, "start")
    assert st["timer"] == {"duration": 180, "remaining": 180, "running": False, "visible": False, "ends_at": None}
    refused("wrong_state", database, rules.control, meeting_id, "timer_pause")
    st = control(database, meeting_id, "timer_start")
    assert st["timer"]["running"] and st["timer"]["ends_at"]
    assert 179 < st["timer"]["remaining"] <= 180
    refused("wrong_state", database, rules.control, meeting_id, "timer_start")
    shift_start(database, meeting_id, 30)
    # Every reader computes the time left from the row: a reload, another console, another process.
    assert 149 < state_now(database, meeting_id)["timer"]["remaining"] <= 150
    st = control(database, meeting_id, "timer_pause")
    paused = st["timer"]["remaining"]
    assert not st["timer"]["running"] and st["timer"]["ends_at"] is None and 149 < paused <= 150
    assert state_now(database, meeting_id)["timer"]["remaining"] == paused  # paused time stands still
    assert control(database, meeting_id, "timer_add_minute")["timer"]["remaining"] == paused + 60
    assert control(database, meeting_id, "timer_reset")["timer"]["remaining"] == 180
    assert control(database, meeting_id, "timer_show")["timer"]["visible"] is True
    refused("wrong_state", database, rules.control, meeting_id, "timer_show")
    control(database, meeting_id, "timer_start")
    # Running out: the time left stops at 0, it no longer runs, and it cannot be started again...
    shift_start(database, meeting_id, 999)
    st = state_now(database, meeting_id)
    assert st["timer"]["remaining"] == 0 and st["timer"]["running"] is False
    refused("wrong_state", database, rules.control, meeting_id, "timer_start")
    # ...but a minute more is a full minute from now, running.
    st = control(database, meeting_id, "timer_add_minute")
    assert 59 < st["timer"]["remaining"] <= 60 and st["timer"]["running"]
    # Another item: its own duration (none here: the default), paused; the projector choice stays.
    st = control(database, meeting_id, "next")
    assert st["timer"] == {"duration": DEFAULT_SECONDS, "remaining": DEFAULT_SECONDS, "running": False,
                           "visible": True, "ends_at": None}
    assert control(database, meeting_id, "timer_hide")["timer"]["visible"] is False
    refused("invalid", database, rules.control, meeting_id, "timer_explode")
    before = state_now(database, meeting_id)
    refused("wrong_state", database, rules.control, meeting_id, "timer_pause")
    assert state_now(database, meeting_id)["version"] == before["version"]  # a refusal changes nothing
    control(database, meeting_id, "end")
    refused("session_ended", database, rules.control, meeting_id, "timer_start")


def test_the_time_left_uses_only_the_servers_clock():
    now = utcnow()
    row = type("Row", (), {"timer_duration_s": 60, "timer_remaining_ms": 60_000, "timer_visible": True,
                           "timer_started_at": now - dt.timedelta(seconds=12.5)})
    timer = timer_state(row, now)
    assert timer["remaining"] == 47.5 and timer["running"]
    assert dt.datetime.fromisoformat(timer["ends_at"]) == now + dt.timedelta(seconds=47.5)


def test_notes_never_reach_the_room(app, client, database, make, meeting_id):
    from shared import organiser
    from shared.models import User

    st = control(database, meeting_id, "start")
    with database.begin() as conn:
        row = rules.get_meeting(conn, meeting_id)
        results = rules.results(conn, meeting_id)
    join = client.get(f"/j/{row.code}?lang=da").get_data(as_text=True)
    projector = client.get(f"/p/{row.projector_key}").get_data(as_text=True)
    # The public roll-up page of the guide, with comments (it lists ended sessions only).
    control(database, meeting_id, "end")
    publisher = make.user("organiser")
    with app.app_context():
        db = database.session
        key = organiser.publish_rollup(db, row.guide_id, db.get(User, publisher.id), include_comments=True).key
        db.commit()
        db.remove()
    public = client.get(f"/f/{key}")
    assert public.status_code == 200
    public = public.get_data(as_text=True)
    assert "Er vi enige?" in public  # the items are there, their notes are not
    for text in (json.dumps(st), json.dumps(state_now(database, meeting_id)), json.dumps(results), join, projector,
                 public):
        assert "ORDSTYRERNOTE" not in text and "SEKTIONSNOTE" not in text
        assert '"notes"' not in text
    assert st["item"]["text"] == "Hvad gør vi?"


def test_approve_first(database, make, meeting_id):
    refused("wrong_state", database, rules.control, meeting_id, "approval_off")  # off by default
    assert control(database, meeting_id, "approval_on")["approve_comments"] is True  # before the start too
    refused("wrong_state", database, rules.control, meeting_id, "approval_on")
    item_id = control(database, meeting_id, "start")["item"]["id"]
    with database.begin() as conn:
        author, _ = rules.join(Work(conn), rules.get_meeting(conn, meeting_id))
    with uow.unit_of_work(database) as work:
        pending = rules.add_comment(work, meeting_id, author, item_id, "Vent på mig")
    assert pending["approved"] is False
    assert [type(e) for e in work.events] == [CommentAdded] and not moderation.room_may_see(work.events[0].comment)
    with database.begin() as conn:
        assert rules.comments_for(conn, meeting_id, item_id, include_hidden=False) == []
        assert [c["id"] for c in rules.comments_for(conn, meeting_id, item_id, include_hidden=True)] == [pending["id"]]
    # Bad input is refused and changes nothing.
    refused("invalid", database, rules.moderate, meeting_id, pending["id"], approved="yes")
    with uow.unit_of_work(database) as work:
        approved = rules.moderate(work, meeting_id, pending["id"], approved=True)
    assert approved["approved"] is True
    assert [type(e) for e in work.events] == [CommentApproved]  # the room hears of it as new
    with database.begin() as conn:
        assert [c["id"] for c in rules.comments_for(conn, meeting_id, item_id, include_hidden=False)] == [pending["id"]]
    # Hiding one that waits: it never reaches the room, and the author is told it was hidden.
    with uow.unit_of_work(database) as work:
        second = rules.add_comment(work, meeting_id, author, item_id, "Skjul mig")
    with uow.unit_of_work(database) as work:
        hidden = rules.moderate(work, meeting_id, second["id"], hidden=True)
    assert [type(e) for e in work.events] == [CommentModerated] and not moderation.room_may_see(hidden)
    # Turned off: new comments go straight to the room.
    control(database, meeting_id, "approval_off")
    with uow.unit_of_work(database) as work:
        assert rules.add_comment(work, meeting_id, author, item_id, "Straks")["approved"] is True


def test_new_sessions_take_the_organisers_default(database, make):
    user, guide_id = make.user(), make.guide(NOTES_GUIDE)
    assert not state_now(database, make.meeting(user, guide_id=guide_id))["approve_comments"]
    with database.begin() as conn:
        moderation.set_approval_default(conn, True)
    assert state_now(database, make.meeting(user, guide_id=guide_id))["approve_comments"]
    with database.begin() as conn:
        with pytest.raises(DialogrumError):
            moderation.set_approval_default(conn, "yes")
        chosen = rules.create_meeting(Work(conn), guide_id=guide_id, title="Uden", facilitator_id=user.id,
                                      approve_comments=False)
        with pytest.raises(DialogrumError):
            rules.create_meeting(Work(conn), guide_id=guide_id, title="X", facilitator_id=user.id,
                                 approve_comments="ja")
    assert not state_now(database, chosen)["approve_comments"]


def test_waiting_comments_stay_out_of_the_report_and_the_public_pages(app, database, make, meeting_id):
    from shared import access, reports
    from shared.models import Guide
    from shared.rollup import rollup

    control(database, meeting_id, "approval_on")
    item_id = control(database, meeting_id, "start")["item"]["id"]
    with database.begin() as conn:
        author, _ = rules.join(Work(conn), rules.get_meeting(conn, meeting_id))
    with uow.unit_of_work(database) as work:
        pending = rules.add_comment(work, meeting_id, author, item_id, "Vent")
    control(database, meeting_id, "approval_off")
    with uow.unit_of_work(database) as work:
        shown = rules.add_comment(work, meeting_id, author, item_id, "Vist")
    control(database, meeting_id, "end")
    with app.app_context():
        db = database.session
        meeting = db.get(Meeting, meeting_id)
        report = reports.session_report(db, meeting)
        assert [c["id"] for c in report["items"][0]["comments"]] == [shown["id"]]
        # The organiser's export marks the status of each comment.
        exported = {c["id"]: c["approved"] for c in reports.session_results(db, meeting)["items"][0]["comments"]}
        assert exported == {pending["id"]: False, shown["id"]: True}
        assert [c["text"] for c in reports.public_comments(db, [meeting_id])[item_id]] == ["Vist"]
        data = rollup(db, db.get(Guide, meeting.guide_id), access.EVERYONE)
        assert data["items"][0]["total"]["comments"] == 1
        database.session.remove()
