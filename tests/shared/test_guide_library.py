"""The guide library's rules (shared/library.py): rights, versions, archive, delete, export,
duplicate, and the migration behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from shared import guides, library
from shared.errors import DialogrumError
from shared.migrate import downgrade, upgrade
from shared.models import Guide, User
from tests.conftest import SMALL_GUIDE

BEFORE = "b8e41f0c7d25"
REVISION = "3f7a9c2e5d18"


@pytest.fixture
def people(make):
    return {"boss": make.user("organiser"), "mine": make.user("facilitator"), "other": make.user("facilitator")}


def _guide(db, owner_id=None, document=SMALL_GUIDE) -> Guide:
    guide = library.create_guide(db, document, owner_id=owner_id)
    db.commit()
    return guide


def _builtin(db) -> Guide:
    library.install_builtins(db)
    db.commit()
    return db.scalars(sa.select(Guide).where(Guide.builtin_key.is_not(None))).first()


def test_the_rights_matrix(db, people):
    boss, mine, other = (db.get(User, people[k].id) for k in ("boss", "mine", "other"))
    owned = _guide(db, owner_id=mine.id)
    imported = _guide(db)  # no owner: the CLI's
    builtin = _builtin(db)
    assert [library.can_edit(u, owned) for u in (boss, mine, other)] == [True, True, False]
    assert [library.can_edit(u, imported) for u in (boss, mine, other)] == [True, False, False]
    assert [library.can_edit(u, builtin) for u in (boss, mine, other)] == [False, False, False]
    assert [library.can_archive(u, builtin) for u in (boss, mine, other)] == [True, False, False]
    assert [library.can_delete(db, u, owned) for u in (boss, mine, other)] == [True, True, False]
    assert not library.can_delete(db, boss, builtin)
    assert not library.can_edit(None, owned)
    mine.active = False
    assert not library.can_edit(mine, owned)
    mine.active = True
    db.commit()

    doc = copy.deepcopy(owned.document)
    doc["title"] = "Ny titel"
    with pytest.raises(DialogrumError) as refused:
        library.save_guide(db, other, owned, doc, version=1)
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    with pytest.raises(DialogrumError) as refused:
        library.save_guide(db, boss, builtin, builtin.document, version=1)
    assert "Duplicate" in refused.value.message
    for act in (lambda: library.archive_guide(db, other, owned), lambda: library.delete_guide(db, other, owned),
                lambda: library.archive_guide(db, mine, builtin), lambda: library.delete_guide(db, boss, builtin)):
        with pytest.raises(DialogrumError) as refused:
            act()
        assert refused.value.code == "forbidden"
    db.rollback()
    assert db.get(Guide, owned.id).title == "Testguide" and db.get(Guide, owned.id).archived_at is None
    assert library.save_guide(db, mine, owned, doc, version=1).version == 2
    assert library.save_guide(db, boss, owned, {**doc, "title": "Organisatorens"}, version=2).version == 3


def test_a_stale_version_is_refused_and_changes_nothing(db, people, make):
    mine = db.get(User, people["mine"].id)
    guide = _guide(db, owner_id=mine.id)
    stored = copy.deepcopy(guide.document)
    first = copy.deepcopy(stored)
    first["sections"][0]["items"][1]["text"] = "Er der stor tillid til os?"
    second = copy.deepcopy(stored)
    second["sections"][0]["title"] = "Demokrati i afdelingen"
    assert library.save_guide(db, mine, guide, first, version=1).version == 2
    db.commit()
    with pytest.raises(DialogrumError) as refused:
        library.save_guide(db, mine, guide, second, version=1)
    assert (refused.value.code, refused.value.status, refused.value.version) == ("version_conflict", 409, 2)
    assert "version 2" in refused.value.message
    db.rollback()
    db.expire_all()
    again = db.get(Guide, guide.id)
    assert again.version == 2 and again.document["sections"][0]["title"] == "Demokrati"
    # The edited item kept its id; an unchanged document saves nothing and keeps the version.
    assert again.document["sections"][0]["items"][1]["id"] == stored["sections"][0]["items"][1]["id"]
    assert library.save_guide(db, mine, again, again.document, version=2).version == 2
    # An invalid document is refused whole, naming the place, and nothing is stored.
    broken = copy.deepcopy(again.document)
    broken["sections"][0]["items"][1]["text"] = ""
    with pytest.raises(guides.GuideError) as invalid:
        library.save_guide(db, mine, again, broken, version=2)
    assert invalid.value.errors[0][0] == "sections[0].items[1].text"
    db.rollback()
    assert db.get(Guide, guide.id).version == 2
    # The trusted path without checks numbers its changes the same way.
    assert library.update_guide(db, db.get(Guide, guide.id), first).version == 2
    assert library.update_guide(db, db.get(Guide, guide.id), second).version == 3


def test_a_save_that_lands_between_check_and_write_is_refused(db, people):
    """Another process saves after this one read version 1: the guarded UPDATE refuses this save."""
    boss = db.get(User, people["boss"].id)
    guide = _guide(db, owner_id=boss.id)
    assert guide.version == 1
    # The other save, written behind the ORM's back: `guide` in memory still says version 1.
    db.execute(sa.update(Guide).where(Guide.id == guide.id).values(version=2, title="Theirs")
               .execution_options(synchronize_session=False))
    with pytest.raises(DialogrumError) as refused:
        library.save_guide(db, boss, guide, {**copy.deepcopy(guide.document), "title": "Mine"}, version=1)
    assert refused.value.code == "version_conflict"
    assert (guide.version, guide.title) == (2, "Theirs")


def test_delete_only_unused_guides_archive_hides_from_new_sessions(app, db, people, make, client, login):
    mine = db.get(User, people["mine"].id)
    used, unused = _guide(db, owner_id=mine.id), _guide(db, owner_id=mine.id)
    used_id, unused_id = used.id, unused.id
    db.remove()
    make.meeting(people["mine"], guide_id=used_id)
    mine = db.get(User, people["mine"].id)
    used = db.get(Guide, used_id)
    assert not library.can_delete(db, mine, used)
    with pytest.raises(DialogrumError) as refused:
        library.delete_guide(db, mine, used)
    assert (refused.value.code, refused.value.status) == ("guide_in_use", 409)
    assert "1 session used this guide" in refused.value.message
    db.rollback()
    library.delete_guide(db, mine, db.get(Guide, unused_id))
    db.commit()
    assert db.get(Guide, unused_id) is None

    library.archive_guide(db, mine, db.get(Guide, used_id))
    db.commit()
    assert used_id not in {g.id for g in library.list_guides(db)}
    assert used_id in {g.id for g in library.list_guides(db, include_archived=True)}
    assert used_id not in _offered(app, db)
    db.remove()
    # Fresh app contexts: the `db` fixture's keeps what Flask-Babel and Flask-WTF cached in `g`
    # (the form's CSRF token above, a page's language).
    with app.app_context():
        login(people["mine"])
    with app.app_context():
        page = client.get("/guides?lang=da").text
    row = page[page.index(f'href="/guides/{used_id}"'):]
    assert 'class="badge archived">Arkiveret<' in row[:row.index("</tr>")]
    library.archive_guide(db, db.get(User, people["mine"].id), db.get(Guide, used_id), archived=False)
    db.commit()
    assert used_id in _offered(app, db)


def _offered(app, db) -> set[str]:
    """The guide ids the new-session form offers."""
    from facilitator.views import session_form

    with app.test_request_context("/sessions"):
        return {choice.value for choice in session_form(db).guide_id.choices}


def test_export_round_trips_and_duplicate_is_a_new_guide(db, people):
    mine = db.get(User, people["mine"].id)
    builtin = _builtin(db)
    copy_ = library.duplicate_guide(db, builtin, owner_id=mine.id)
    db.commit()
    assert copy_.id != builtin.id and copy_.owner_id == mine.id and copy_.version == 1
    assert library.can_edit(mine, copy_)
    words = {"da": "Kopi af", "sv": "Kopia av", "en": "Copy of"}[builtin.language]
    assert copy_.title == f"{words} {builtin.title}"
    old_ids = {i["id"] for i in guides.flatten(builtin.document)}
    new_items = guides.flatten(copy_.document)
    assert not old_ids & {i["id"] for i in new_items}
    assert [i["text"] for i in new_items] == [i["text"] for i in guides.flatten(builtin.document)]
    named = library.duplicate_guide(db, copy_, owner_id=mine.id, title="Vores egen")
    assert named.title == named.document["title"] == "Vores egen"

    doc = copy.deepcopy(copy_.document)
    doc["sections"][0]["notes"] = "Husk kaffe"
    doc["sections"][0]["items"][0]["duration"] = 5
    library.save_guide(db, mine, copy_, doc, version=1)
    for fmt in ("yaml", "json"):
        text = library.export_guide(copy_, fmt)
        assert guides.validate(guides.load_document(text, f"g.{fmt}")) == copy_.document
    assert json.loads(library.export_guide(copy_, "json"))["sections"][0]["notes"] == "Husk kaffe"
    with pytest.raises(DialogrumError):
        library.export_guide(copy_, "xml")


def test_sessions_keep_the_version_they_ran_with(db, people, make):
    from shared.models import Meeting

    mine = db.get(User, people["mine"].id)
    guide = _guide(db, owner_id=mine.id)
    gid = guide.id
    db.remove()
    first = make.meeting(people["mine"], guide_id=gid)
    guide = db.get(Guide, gid)
    doc = copy.deepcopy(guide.document)
    doc["sections"][0]["items"][1]["text"] = "Er der tillid?"
    library.save_guide(db, db.get(User, people["mine"].id), guide, doc, version=1)
    db.commit()
    db.remove()
    second = make.meeting(people["mine"], guide_id=gid)
    one, two = db.get(Meeting, first), db.get(Meeting, second)
    assert (one.guide_version, two.guide_version) == (1, 2)
    assert one.guide_snapshot["sections"][0]["items"][1]["text"] == "Er der tillid til os?"


def test_the_migration_numbers_versions_and_goes_down_again(empty_url):
    upgrade(empty_url, BEFORE)
    engine = sa.create_engine(empty_url)
    now = dt.datetime.now(dt.UTC)
    doc = json.dumps({"title": "G"})
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO guides (id, title, language, document, created_at, updated_at) "
                             "VALUES ('g1', 'G', 'da', :doc, :now, :now)"), {"doc": doc, "now": now})
        for mid, snap in (("m1", doc), ("m2", json.dumps({"title": "Older"}))):
            conn.execute(sa.text(
                "INSERT INTO meetings (id, code, projector_key, title, unit, guide_id, guide_snapshot, status, "
                "voting_open, results_visible, state_version, created_at) VALUES (:id, :code, :id, 'M', '', "
                "'g1', :snap, 'ended', :f, :f, 0, :now)"), {"id": mid, "code": mid.upper() + "AAAA",
                                                              "snap": snap, "f": False, "now": now})
    upgrade(empty_url, REVISION)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version, archived_at FROM guides")).one() == (1, None)
        assert dict(conn.execute(sa.text("SELECT id, guide_version FROM meetings")).all()) == {"m1": 1, "m2": None}
    downgrade(empty_url, BEFORE)
    assert "version" not in {c["name"] for c in sa.inspect(engine).get_columns("guides")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM meetings")).scalar() == 2
    engine.dispose()


# -- the roll-up across versions ----------------------------------------------------------------

TWO_VERSIONS = {"title": "Afdelingsdialog", "language": "da", "sections": [{"title": "Tillid", "items": [
    {"id": "c1", "kind": "consideration", "text": "Er der tillid?"},
    {"id": "c2", "kind": "consideration", "text": "Har vi frivillige?"},
    {"id": "p1", "kind": "prompt", "text": "Hvad gør vi nu?"}]}]}


def test_the_rollup_groups_two_versions_and_shows_where_an_item_changed(app, db, people, make, client, login):
    from shared.db import get_db
    from shared.rollup import rollup
    from tests.conftest import hold_meeting

    boss = people["boss"]
    gid = _guide(db, owner_id=boss.id, document=TWO_VERSIONS).id
    db.remove()
    first = make.meeting(boss, guide_id=gid, title="Version 1")
    hold_meeting(get_db(app).engine, first, {"c1": ["yes", "yes", "no"], "c2": ["no"]})
    # Version 2: c1 reworded with a third choice, c2 removed, c3 added; p1 as it was.
    doc = copy.deepcopy(TWO_VERSIONS)
    doc["sections"][0]["items"] = [
        {"id": "c1", "kind": "consideration", "text": "Er der tillid til bestyrelsen?", "allow_unsure": True},
        {"id": "c3", "kind": "consideration", "text": "Kender beboerne os?"},
        {"id": "p1", "kind": "prompt", "text": "Hvad gør vi nu?"}]
    library.save_guide(db, db.get(User, boss.id), db.get(Guide, gid), doc, version=1)
    db.commit()
    db.remove()
    second = make.meeting(boss, guide_id=gid, title="Version 2")
    hold_meeting(get_db(app).engine, second, {"c1": ["yes", "unsure"], "c3": ["yes", "no", "no"]})

    data = rollup(db, db.get(Guide, gid), db.get(User, boss.id))
    rows = {row["id"]: row for row in data["items"]}
    assert list(rows) == ["c1", "c3", "p1", "c2"]
    cells = {iid: {sid: (c["yes"], c["no"], c["unsure"], c["voters"]) for sid, c in row["per_session"].items()}
             for iid, row in rows.items()}
    assert cells["c1"] == {first: (2, 1, 0, 3), second: (1, 0, 1, 2)}
    assert cells["c2"] == {first: (0, 1, 0, 1)}  # counted only where it was asked
    assert cells["c3"] == {second: (1, 2, 0, 3)}
    total = rows["c1"]["total"]
    assert (total["yes"], total["no"], total["unsure"], total["voters"]) == (3, 1, 1, 5)
    assert [(iid, row["changed"], row["changed_in"]) for iid, row in rows.items()] == [
        ("c1", True, [2]), ("c3", False, []), ("p1", False, []), ("c2", False, [])]
    assert rows["c1"]["variants"] == [
        {"kind": "consideration", "text": "Er der tillid?", "choices": ["yes", "no"], "versions": [1],
         "sessions": [first], "current": False},
        {"kind": "consideration", "text": "Er der tillid til bestyrelsen?", "choices": ["yes", "no", "unsure"],
         "versions": [2], "sessions": [second], "current": True}]
    assert rows["p1"]["variants"] == []

    # Version 3 rewords c3, which no session has run yet: changed against the current document.
    doc["sections"][0]["items"][1]["text"] = "Kender alle beboerne os?"
    library.save_guide(db, db.get(User, boss.id), db.get(Guide, gid), doc, version=2)
    db.commit()
    c3 = next(row for row in rollup(db, db.get(Guide, gid), db.get(User, boss.id))["items"] if row["id"] == "c3")
    assert (c3["changed"], c3["changed_in"]) == (True, [3])
    assert [(v["versions"], v["sessions"], v["current"]) for v in c3["variants"]] == [([2], [second], False),
                                                                                       ([3], [], True)]
    db.remove()

    login(boss)
    # A fresh app context: the `db` fixture's would keep the login page's language (Flask-Babel
    # caches the locale on the app context, which the test client's requests share).
    with app.app_context():
        page = client.get(f"/guides/{gid}/rollup?lang=da").text
    assert page.count("Ændret i version 2") == 1 and page.count("Ændret i version 3") == 1
    assert "Er der tillid?" in page  # the earlier wording, under "Formuleringer"
    api = client.get(f"/api/v1/guides/{gid}/rollup", headers={"Authorization": f"Bearer {make.token(boss)}"})
    assert next(row for row in api.get_json()["items"] if row["id"] == "c1")["changed_in"] == [2]
