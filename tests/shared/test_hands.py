"""Results entered by hand (issue 11, section 1): counted hands in a live meeting and dialogues held
on paper, through the meeting rules on SQLite and PostgreSQL, the roll-up, the exports and REST."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from shared import meeting as rules
from shared import uow
from shared.db import get_db
from shared.errors import DialogrumError
from shared.events import VotesChanged
from shared.export import rollup_csv, session_csv
from shared.models import Guide, HandCount, Meeting, User
from shared.rollup import rollup
from tests.conftest import REGIONS_GUIDE, hold_meeting

TODAY = dt.datetime.now(dt.UTC).date()


def run(app, fn, *args, **kwargs):
    return uow.run(get_db(app), fn, *args, **kwargs)


def results(app, meeting_id):
    with get_db(app).begin() as conn:
        return rules.results(conn, meeting_id)


def hand_rows(app, meeting_id=None):
    with app.app_context():
        db = get_db().session
        rows = db.query(HandCount).filter(*([HandCount.meeting_id == meeting_id] if meeting_id else [])).count()
        db.remove()
        return rows


def paper(app, gid, user, **overrides):
    values = {"guide_id": gid, "held_on": TODAY.isoformat(), "unit": "Region Gotland", "participants": "6",
              "items": {"c1": {"counts": {"yes": "4", "no": "2"}, "conclusion": "Ja, nästan"},
                        "c2": {"counts": {"yes": 1, "no": 2, "unsure": 3}},
                        "p1": {"comments": ["Fler möten", "  ", "Ring runt"]}},
              "facilitator_id": user.id}
    values.update(overrides)
    return run(app, rules.create_paper_session, **values)


def test_hands_are_summed_with_phone_votes_apart_and_changeable_until_the_end(app, make, monkeypatch):
    published = []
    monkeypatch.setattr(uow, "publish", lambda db, events: published.extend(events))
    gid = make.guide(REGIONS_GUIDE)
    mid = make.meeting(make.user(), guide_id=gid)
    with app.app_context():
        hold_meeting(get_db(app).engine, mid, {"c1": ["yes", "no"], "c2": ["unsure"]}, end=False)
    saved = run(app, rules.set_hands, mid, "c1", {"yes": 3, "no": "1"})
    assert saved == {"item_id": "c1", "hands": {"yes": 3, "no": 1}}
    assert VotesChanged(mid, "c1") in published
    item = results(app, mid)["items"][0]
    assert item["counts"] == {"yes": 4, "no": 2, "unsure": 0}
    assert item["hands"] == {"yes": 3, "no": 1, "unsure": 0}
    assert item["voters"] == 6
    with get_db(app).begin() as conn:
        assert rules.results_payload("c1", rules.counts(conn, mid, ["c1"])["c1"], 2)["hands"] == item["hands"]

    # A second count replaces the first; a blank choice is not counted.
    run(app, rules.set_hands, mid, "c1", {"yes": 2, "no": ""})
    assert results(app, mid)["items"][0]["counts"] == {"yes": 3, "no": 1, "unsure": 0}

    # Bad counts are refused naming each place, and change nothing.
    for bad, places in (({"yes": -1}, ["counts.yes"]), ({"yes": "tre"}, ["counts.yes"]),
                        ({"yes": True, "no": 1.5}, ["counts.yes", "counts.no"]),
                        ({"yes": 100_001}, ["counts.yes"]), ({"unsure": 1}, ["counts.unsure"]), ([3], ["counts"])):
        with pytest.raises(rules.CountsError) as info:
            run(app, rules.set_hands, mid, "c1", bad)
        assert [p for p, _k, _v in info.value.errors] == places
    with pytest.raises(DialogrumError) as info:
        run(app, rules.set_hands, mid, "p1", {"yes": 1})
    assert info.value.code == "no_choices"
    with pytest.raises(DialogrumError) as info:
        run(app, rules.set_hands, mid, "nope", {"yes": 1})
    assert info.value.code == "unknown_item"
    assert results(app, mid)["items"][0]["hands"] == {"yes": 2, "no": 0, "unsure": 0}

    run(app, rules.control, mid, "end")
    with pytest.raises(DialogrumError) as info:
        run(app, rules.set_hands, mid, "c1", {"yes": 9})
    assert info.value.code == "session_ended"
    assert results(app, mid)["items"][0]["hands"]["yes"] == 2


def test_a_paper_session_is_an_ended_session_marked_entered_by_hand(app, make):
    gid = make.guide(REGIONS_GUIDE)
    user = make.user()
    mid = paper(app, gid, user)
    data = results(app, mid)
    session = data["session"]
    assert session["status"] == "ended"
    assert session["entered_by_hand"] is True
    assert session["held_on"] == TODAY.isoformat()
    assert session["participants"] == 6  # the stated number, not the comment writer's row
    assert session["unit"] == "Region Gotland"
    assert session["title"] == REGIONS_GUIDE["title"]
    by_id = {i["id"]: i for i in data["items"]}
    assert by_id["c1"]["counts"] == {"yes": 4, "no": 2, "unsure": 0} == by_id["c1"]["hands"]
    assert by_id["c1"]["conclusion"] == "Ja, nästan"
    assert by_id["c2"]["voters"] == 6
    assert [c["text"] for c in by_id["p1"]["comments"]] == ["Fler möten", "Ring runt"]
    assert by_id["c3"]["voters"] == 0

    # Its tally can be corrected later, within the stated participants.
    run(app, rules.set_hands, mid, "c3", {"yes": 5, "no": 1})
    with pytest.raises(rules.CountsError) as info:
        run(app, rules.set_hands, mid, "c3", {"yes": 5, "no": 2})
    assert info.value.errors == [("counts", "too_many_hands", {"sum": 7, "n": 6})]
    assert results(app, mid)["items"][3]["counts"]["no"] == 1


def test_a_refused_paper_session_names_every_place_and_stores_nothing(app, make):
    gid = make.guide(REGIONS_GUIDE)
    user = make.user()
    with app.app_context():
        before = get_db().session.query(Meeting).count()
        get_db().session.remove()
    with pytest.raises(rules.CountsError) as info:
        paper(app, gid, user, held_on=(TODAY + dt.timedelta(days=3)).isoformat(), participants="5",
              items={"c1": {"counts": {"yes": "4", "no": "2"}}, "c2": {"counts": {"unsure": "-1"}},
                     "c3": {"counts": {"yes": "x"}}})
    assert [(p, k) for p, k, _v in info.value.errors] == [
        ("held_on", "bad_date"), ("items.c1.counts", "too_many_hands"), ("items.c2.counts.unsure", "whole_number"),
        ("items.c3.counts.yes", "whole_number")]
    with pytest.raises(rules.CountsError) as info:
        paper(app, gid, user, participants="", held_on="igår")
    assert [p for p, _k, _v in info.value.errors] == ["held_on", "participants"]
    with pytest.raises(DialogrumError) as info:
        paper(app, gid, user, items={"zz": {}})
    assert info.value.code == "unknown_item"
    with app.app_context():
        assert get_db().session.query(Meeting).count() == before
        get_db().session.remove()
    assert hand_rows(app) == 0


def test_the_rollup_sums_phones_hands_and_a_paper_session(app, make, regions):
    gid = regions["guide"]
    syd = regions["meetings"]["Region Syd"]
    # Region Syd's ended session cannot take hands any more; a live one in Region Öst can.
    ost = make.meeting(regions["facilitator"], guide_id=gid, unit="Region Öst")
    with app.app_context():
        hold_meeting(get_db(app).engine, ost, {"c1": ["yes"], "c2": ["no"]}, end=False)
    run(app, rules.set_hands, ost, "c1", {"yes": 2, "no": 3})
    run(app, rules.set_hands, ost, "c2", {"unsure": 1})
    run(app, rules.control, ost, "end")
    gotland = paper(app, gid, regions["organiser"])

    with app.app_context():
        db = get_db().session
        data = rollup(db, db.get(Guide, gid), db.get(User, regions["organiser"].id))
        db.remove()
    c1 = next(i for i in data["items"] if i["id"] == "c1")
    # phones: Stockholm yes yes no, Syd no no, Norr yes, Öst yes; hands: Öst 2/3, Gotland 4/2
    assert c1["per_session"][ost] | {"comments": 0} == {"yes": 3, "no": 3, "unsure": 0, "voters": 6, "hands_yes": 2,
                                                        "hands_no": 3, "hands_unsure": 0, "comments": 0}
    assert c1["per_session"][gotland]["yes"] == 4
    assert c1["per_session"][syd]["hands_no"] == 0
    assert {k: c1["total"][k] for k in ("yes", "no", "unsure", "voters", "hands_yes", "hands_no")} == {
        "yes": (2 + 0 + 1 + 1) + (2 + 4), "no": (1 + 2) + (3 + 2), "unsure": 0, "voters": 7 + 11, "hands_yes": 6,
        "hands_no": 5}
    sessions = {s["id"]: s for s in data["sessions"]}
    assert sessions[gotland]["entered_by_hand"] is True and sessions[gotland]["participants"] == 6
    assert sessions[ost]["entered_by_hand"] is False
    # The tag roll-up: "Engagemang" carries c1, c2 and c3.
    tag = next(t for t in data["tags"] if t["tag"] == "Engagemang")
    assert tag["per_session"][ost]["hands_unsure"] == 1
    assert tag["per_session"][gotland]["voters"] == 6 + 6  # c1 and c2 on paper, c3 not counted
    assert tag["total"]["hands_yes"] == 2 + 4 + 1


def test_exports_carry_the_split_and_the_mark(app, make):
    gid = make.guide(REGIONS_GUIDE)
    user = make.user("organiser")
    mid = paper(app, gid, user)
    data = results(app, mid)
    rows = list(csv.reader(io.StringIO(session_csv(data).decode("utf-8-sig"))))
    head = rows[0]
    c1 = dict(zip(head, rows[1], strict=False))
    assert head[-3:] == ["hands_yes", "hands_no", "hands_unsure"]
    assert (c1["yes"], c1["hands_yes"], c1["hands_no"]) == ("4", "4", "2")
    with app.app_context():
        db = get_db().session
        roll = rollup(db, db.get(Guide, gid), db.get(User, user.id))
        db.remove()
    rows = list(csv.reader(io.StringIO(rollup_csv(roll).decode("utf-8-sig"))))
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["hands_yes"], first["entered_by_hand"]) == ("4", "true")


def test_rest_sets_hands_and_records_a_paper_session_with_errors_in_the_users_language(app, client, make):
    gid = make.guide(REGIONS_GUIDE)
    user = make.user()
    auth = {"Authorization": f"Bearer {make.token(user)}"}
    mid = make.meeting(user, guide_id=gid)
    with app.app_context():
        hold_meeting(get_db(app).engine, mid, {"c1": ["yes"]}, end=False)

    resp = client.put(f"/api/v1/sessions/{mid}/hands/c1", json={"counts": {"yes": 2, "no": 5}}, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"item_id": "c1", "hands": {"yes": 2, "no": 5}}
    item = client.get(f"/api/v1/sessions/{mid}/results", headers=auth).get_json()["items"][0]
    assert (item["counts"], item["hands"], item["voters"]) == ({"yes": 3, "no": 5, "unsure": 0},
                                                               {"yes": 2, "no": 5, "unsure": 0}, 8)
    resp = client.put(f"/api/v1/sessions/{mid}/hands/c1", json={"counts": {"yes": -2}},
                      headers={**auth, "Accept-Language": "da"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": "counts.yes", "message": "skal være mellem 0 og 100000"}]
    resp = client.put(f"/api/v1/sessions/{mid}/hands/c1", json={"counts": {"unsure": 1}},
                      headers={**auth, "Accept-Language": "sv"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": "counts.unsure", "message": "Det är inte ett av alternativen."}]
    assert client.put(f"/api/v1/sessions/{mid}/hands/p1", json={"counts": {}}, headers=auth).status_code == 409
    client.post(f"/api/v1/sessions/{mid}/control", json={"action": "end"}, headers=auth)
    resp = client.put(f"/api/v1/sessions/{mid}/hands/c1", json={"counts": {"yes": 1}}, headers=auth)
    assert (resp.status_code, resp.get_json()["error"]) == (409, "session_ended")
    assert client.get(f"/api/v1/sessions/{mid}/results", headers=auth).get_json()["items"][0]["hands"]["yes"] == 2

    body = {"guide_id": gid, "held_on": TODAY.isoformat(), "participants": 4, "unit": "Region Gotland",
            "items": {"c1": {"counts": {"yes": 3, "no": 2}}, "c2": {"counts": {"unsure": 1}, "conclusion": "Oklart"},
                      "p1": {"comments": ["Mer kaffe"]}}}
    resp = client.post("/api/v1/sessions/paper", json=body, headers={**auth, "Accept-Language": "da"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"place": "items.c1.counts", "message": "Hænderne på dette punkt giver 5 i "
                                                                                 "alt, flere end de 4, der deltog."}]
    with app.app_context():
        assert get_db().session.query(Meeting).filter_by(entered_by_hand=True).count() == 0
        get_db().session.remove()
    body["items"]["c1"]["counts"]["no"] = 1
    resp = client.post("/api/v1/sessions/paper", json=body, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    session = resp.get_json()
    assert (session["status"], session["entered_by_hand"], session["unit"]) == ("ended", True, "Region Gotland")
    data = client.get(f"/api/v1/sessions/{session['id']}/results", headers=auth).get_json()
    assert data["session"]["participants"] == 4 and data["session"]["held_on"] == TODAY.isoformat()
    assert [i["conclusion"] for i in data["items"]][:2] == [None, "Oklart"]
    assert [c["text"] for c in data["items"][2]["comments"]] == ["Mer kaffe"]
    listed = {s["id"]: s for s in client.get("/api/v1/sessions", headers=auth).get_json()}
    assert listed[session["id"]]["entered_by_hand"] and not listed[mid]["entered_by_hand"]


def test_the_overview_and_the_public_page_count_hands_and_show_the_mark(app, make, regions):
    from shared import organiser, overview

    gid = regions["guide"]
    boss = regions["organiser"]
    gotland = paper(app, gid, boss)
    with app.app_context():
        db = get_db().session
        rows = {r.id: r for r in overview.sessions(db, db.get(User, boss.id), overview.Filters()).rows}
        link = organiser.publish_rollup(db, gid, db.get(User, boss.id))
        db.commit()
        key = link.key
        db.remove()
    # 4 + 2 hands on c1 and 1 + 2 + 3 on c2; the participants are the stated six.
    assert (rows[gotland].votes, rows[gotland].participants, rows[gotland].entered_by_hand) == (12, 6, True)
    assert rows[regions["meetings"]["Region Syd"]].entered_by_hand is False
    page = app.test_client().get(f"/f/{key}?lang=sv").text
    gotland_row = page[page.index("<strong>Region Gotland</strong>"):].split("</li>", 1)[0]
    assert 'class="badge by-hand">inmatat för hand</span>' in gotland_row
    assert "by-hand" not in page[page.index("<strong>Region Syd</strong>"):].split("</li>", 1)[0]
