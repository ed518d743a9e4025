"""The results pages' reads (shared.reports) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from werkzeug.datastructures import MultiDict

from shared import access, organiser, reports
from shared import meeting as rules
from shared.db import get_db
from shared.models import Guide, Meeting, User
from shared.uow import unit_of_work
from tests.conftest import REGIONS_GUIDE, hold_meeting


def test_session_report_leaves_hidden_comments_out_and_pins_first(app, db, make):
    fac = make.user("facilitator")
    mid = make.meeting(fac, guide_id=make.guide(REGIONS_GUIDE))
    hold_meeting(get_db(app).engine, mid, {"c1": ["yes", "no"]}, ["Först", "Dold", "Fäst"], hide=["Dold"],
                 pin=["Fäst"], conclusions={"c1": "Enighet"})
    meeting = db.get(Meeting, mid)
    full = reports.session_results(db, meeting)
    assert full["session"]["facilitator"] == "Facilitator"
    prompt = next(i for i in full["items"] if i["id"] == "p1")
    assert [c["text"] for c in prompt["comments"]] == ["Först", "Dold", "Fäst"]
    report = reports.session_report(db, meeting)
    prompt = next(i for i in report["items"] if i["id"] == "p1")
    assert [c["text"] for c in prompt["comments"]] == ["Fäst", "Först"]
    assert next(i for i in report["items"] if i["id"] == "c1")["conclusion"] == "Enighet"
    assert reports.deletion_counts(db, mid) == {"participants": 3, "votes": 2, "comments": 3}
    assert reports.deletion_counts(db, "nope") == {"participants": 0, "votes": 0, "comments": 0}


def test_rollup_filters_parse_and_narrow(db, regions):
    filters = reports.parse_rollup_filters(MultiDict({"unit": "Region Syd", "from": "2026-02-30", "to": "2026-03-01"}))
    assert filters == reports.RollupFilters(unit="Region Syd", date_to=dt.date(2026, 3, 1))
    assert filters.query() == {"unit": "Region Syd", "to": "2026-03-01"}
    stockholm = dt.timezone(dt.timedelta(hours=1))
    assert filters.until(stockholm) == dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)
    guide = db.get(Guide, regions["guide"])
    boss = db.get(User, regions["organiser"].id)
    syd = reports.guide_rollup(db, guide, boss, reports.RollupFilters(unit="Region Syd"))
    assert [s["unit"] for s in syd["sessions"]] == ["Region Syd"]
    today = dt.datetime.now(dt.UTC).date()
    assert len(reports.guide_rollup(db, guide, boss, reports.RollupFilters(date_from=today))["sessions"]) == 3
    assert reports.guide_rollup(db, guide, boss, reports.RollupFilters(date_to=dt.date(2000, 1, 1)))["sessions"] == []


def test_rollup_units_follow_the_visibility_rule(db, regions):
    fac = db.get(User, regions["facilitator"].id)
    boss = db.get(User, regions["organiser"].id)
    assert reports.rollup_units(db, regions["guide"], fac) == ["Region Stockholm", "Region Syd"]
    assert reports.rollup_units(db, regions["guide"], boss) == ["Region Norr", "Region Stockholm", "Region Syd"]


def test_public_links_and_the_published_rollup(app, db, regions, make):
    # Held before the session takes SQLite's one pooled connection.
    live = make.meeting(regions["organiser"], guide_id=regions["guide"], unit="Region Väst")
    hold_meeting(get_db(app).engine, live, {"c1": ["yes"]}, ["Pågår"], end=False)
    other_guide = make.guide()
    boss = db.get(User, regions["organiser"].id)
    with unit_of_work(get_db(), session=db):
        plain = organiser.publish_rollup(db, regions["guide"], boss)
        talky = organiser.publish_rollup(db, regions["guide"], boss, include_comments=True)
    with unit_of_work(get_db(), session=db):
        organiser.revoke_rollup(db, plain.id)
    assert [link.id for link in reports.public_links(db, regions["guide"])] == [talky.id, plain.id]
    assert reports.public_link(db, regions["guide"], plain.id).id == plain.id
    assert reports.public_link(db, other_guide, plain.id) is None

    page = reports.published_rollup(db, talky)
    assert page["guide"].id == regions["guide"] and page["include_comments"] is True
    assert [u["unit"] for u in page["by_unit"]["units"]] == ["Region Stockholm", "Region Syd", "Region Norr"]
    assert page["comments"]["p1"] == [{"text": f"Kommentar från {unit}", "unit": unit}
                                      for unit in ("Region Stockholm", "Region Syd", "Region Norr")]
    quiet = reports.published_rollup(db, plain)
    assert quiet["comments"] == {} and quiet["by_unit"] == page["by_unit"]
    # The reader of a published link sees every ended session, and manages none.
    assert not access.may_manage(access.EVERYONE, db.get(Meeting, live))


def test_public_comments_leave_hidden_ones_out(app, db, regions):
    mids = list(regions["meetings"].values())
    with unit_of_work(get_db(), session=db) as work:
        rules.moderate(work, regions["meetings"]["Region Syd"], regions["comments"]["Kommentar från Region Syd"],
                       hidden=True)
    comments = reports.public_comments(db, mids)
    assert [c["unit"] for c in comments["p1"]] == ["Region Stockholm", "Region Norr"]
    assert reports.public_comments(db, []) == {}
