"""Meetings run again (issue 10, section 2) and the new-session form's defaults (issue 12, defect 5):
the rules in shared/meeting/again.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import library
from shared.db import get_db
from shared.errors import DialogrumError
from shared.meeting import again
from shared.models import Guide, Meeting
from shared.uow import Work


def _guides(db) -> list[tuple[str, str]]:
    return [(g.id, g.language) for g in library.list_guides(db)]


def test_run_again_copies_guide_unit_title_and_language_with_a_new_code(app, make, db):
    user, other = make.user(), make.user()
    old_id = make.meeting(other, title="Vårmöte", unit="Region Syd")
    with db.get_bind().begin() as conn:
        conn.execute(sa.update(Meeting).where(Meeting.id == old_id).values(language="en", status="ended"))
        # The guide changed since: "again" runs it as it is now, not the old snapshot.
        guide_id = conn.execute(sa.select(Meeting.guide_id).where(Meeting.id == old_id)).scalar_one()
        document = conn.execute(sa.select(Guide.document).where(Guide.id == guide_id)).scalar_one()
        document = {**document, "title": "Ny version"}
        conn.execute(sa.update(Guide).where(Guide.id == guide_id).values(document=document))
        new_id = again.run_again(Work(conn), old_id, facilitator_id=user.id)
    old, new = db.get(Meeting, old_id), db.get(Meeting, new_id)
    assert new_id != old_id and new.code != old.code and new.projector_key != old.projector_key
    assert (new.guide_id, new.title, new.unit, new.language) == (old.guide_id, "Vårmöte", "Region Syd", "en")
    assert (new.status, new.facilitator_id, new.guide_snapshot["title"]) == ("waiting", user.id, "Ny version")


def test_run_again_says_so_when_the_guide_was_deleted_or_archived_and_creates_nothing(app, make, db):
    old_id = make.meeting(make.user())
    with db.get_bind().begin() as conn:
        conn.execute(sa.update(Meeting).where(Meeting.id == old_id).values(guide_id=None))
    with pytest.raises(DialogrumError) as caught, db.get_bind().begin() as conn:
        again.run_again(Work(conn), old_id, facilitator_id=None)
    assert (caught.value.code, caught.value.message) == ("not_found", again.GUIDE_GONE)
    assert db.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 1
    db.rollback()  # SQLite's pool has one connection: the session gives it back
    archived_id = make.meeting(make.user())
    with db.get_bind().begin() as conn:
        guide_id = conn.execute(sa.select(Meeting.guide_id).where(Meeting.id == archived_id)).scalar_one()
        conn.execute(sa.update(Guide).where(Guide.id == guide_id).values(archived_at=sa.func.now()))
    with pytest.raises(DialogrumError) as caught, db.get_bind().begin() as conn:
        again.run_again(Work(conn), archived_id, facilitator_id=None)
    assert (caught.value.code, caught.value.message) == ("conflict", again.GUIDE_ARCHIVED)
    with pytest.raises(DialogrumError, match="unknown_session"), db.get_bind().begin() as conn:
        again.run_again(Work(conn), "nope", facilitator_id=None)


def test_the_form_starts_with_the_last_guide_and_unit_else_the_users_language(app, make, db):
    user = make.user()
    guides = _guides(db)
    swedish = next(gid for gid, lang in guides if lang == "sv")
    assert guides[0][1] != "sv"  # the first guide in the list is not Swedish: the defect's setting
    conn = get_db(app).session.connection()
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv", guides=guides, units=None) == (swedish, "")
    # Units set up: only an obvious one is chosen (the only one there is).
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv", guides=guides,
                               units=["Region Syd"]) == (swedish, "Region Syd")
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv", guides=guides,
                               units=["Region Nord", "Region Syd"]) == (swedish, "")
    db.rollback()
    danish = next(gid for gid, lang in guides if lang == "da")
    make.meeting(user, guide_id=danish, unit="Region Syd")
    conn = get_db(app).session.connection()
    # Their habit wins over the language; a unit no longer offered does not.
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv", guides=guides,
                               units=["Region Nord", "Region Syd"]) == (danish, "Region Syd")
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv", guides=guides,
                               units=["Region Nord", "Region Väst"]) == (danish, "")
    # A guide no longer offered (deleted, archived) falls back to the user's language.
    assert again.form_defaults(conn, facilitator_id=user.id, language="sv",
                               guides=[g for g in guides if g[0] != danish], units=None) == (swedish, "Region Syd")
