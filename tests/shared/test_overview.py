"""The sessions overview's reads (shared.overview) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from shared import overview
from shared.db import get_db
from shared.models import User
from tests.conftest import hold_meeting


@pytest.fixture
def read(app):
    """`read(fn, user, *args)`: call an overview function as `user` in an app context."""

    def _read(fn, user, *args, **kwargs):
        with app.app_context():
            db = get_db().session
            try:
                return fn(db, db.get(User, user.id), *args, **kwargs)
            finally:
                db.remove()

    return _read


def _titles(page: overview.Page) -> list[str]:
    return [row.title for row in page.rows]


def test_counts_and_visibility(read, regions):
    page = read(overview.sessions, regions["organiser"], overview.Filters())
    assert page.total == 3
    rows = {row.title: row for row in page.rows}
    stockholm = rows["Dialog Region Stockholm"]
    assert (stockholm.participants, stockholm.votes, stockholm.comments) == (3, 6, 1)
    assert stockholm.guide_title == "Förtroendemannadialogen" and stockholm.facilitator == "Facilitator"
    mine = read(overview.sessions, regions["facilitator"], overview.Filters())
    assert sorted(_titles(mine)) == ["Dialog Region Stockholm", "Dialog Region Syd"]
    assert read(overview.unit_names, regions["facilitator"]) == ["Region Stockholm", "Region Syd"]
    assert read(overview.unit_names, regions["organiser"]) == ["Region Norr", "Region Stockholm", "Region Syd"]


def test_filters_and_sorting(read, regions, make):
    boss = regions["organiser"]
    by_unit = read(overview.sessions, boss, overview.Filters(unit="Region Syd"))
    assert _titles(by_unit) == ["Dialog Region Syd"]
    by_fac = read(overview.sessions, boss, overview.Filters(facilitator=regions["facilitator"].id))
    assert sorted(_titles(by_fac)) == ["Dialog Region Stockholm", "Dialog Region Syd"]
    assert _titles(read(overview.sessions, boss, overview.Filters(sort="-votes"))) == [
        "Dialog Region Stockholm", "Dialog Region Syd", "Dialog Region Norr"]
    assert _titles(read(overview.sessions, boss, overview.Filters(sort="votes"))) == [
        "Dialog Region Norr", "Dialog Region Syd", "Dialog Region Stockholm"]
    assert read(overview.sessions, boss, overview.Filters(guide=make.guide())).total == 0
    old = overview.Filters(date_from=dt.date(2000, 1, 1), date_to=dt.date(2000, 1, 2))
    assert read(overview.sessions, boss, old).total == 0
    today = dt.datetime.now(dt.UTC).date()
    assert read(overview.sessions, boss, overview.Filters(date_from=today - dt.timedelta(days=1))).total == 3


def test_pages(read, make):
    boss = make.user("organiser")
    gid = make.guide()
    for n in range(5):
        make.meeting(boss, guide_id=gid, title=f"Møde {n}")
    first = read(overview.sessions, boss, overview.Filters(sort="title"), size=2)
    assert (_titles(first), first.total, first.pages, first.first, first.last) == (["Møde 0", "Møde 1"], 5, 3, 1, 2)
    last = read(overview.sessions, boss, overview.Filters(sort="title", page=99), size=2)
    assert (_titles(last), last.number) == (["Møde 4"], 3)


def test_facilitators_by_name(read, make):
    boss = make.user("organiser")
    make.user("facilitator")
    names = [u.email for u in read(lambda db, _user: overview.facilitators(db), boss)]
    assert len(names) == 2


def test_parse_filters_ignores_what_it_cannot_read():
    args = MultiDict({"guide": "g1", "unit": "Syd", "facilitator": "7", "from": "2026-01-31", "to": "nope",
                      "sort": "bogus", "page": "-1"})
    filters = overview.parse_filters(args, organiser=True)
    assert filters == overview.Filters(guide="g1", unit="Syd", facilitator=7, date_from=dt.date(2026, 1, 31))
    assert overview.parse_filters(args, organiser=False).facilitator is None
    assert filters.query(page="2") == {"guide": "g1", "unit": "Syd", "facilitator": "7", "from": "2026-01-31",
                                       "sort": "-date", "page": "2"}


def test_the_same_statements_however_many_sessions(app, read, regions, make):
    """Counts come from one GROUP BY per table: a page costs the same few statements for 3
    sessions as for 4."""
    engine = get_db(app).engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def cost() -> int:
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            read(overview.sessions, regions["organiser"], overview.Filters())
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    three = cost()
    extra = make.meeting(regions["organiser"], guide_id=regions["guide"], unit="Region Väst")
    with app.app_context():
        hold_meeting(engine, extra, {"c1": ["yes"]})
    assert cost() == three
