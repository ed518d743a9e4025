"""The Alembic history: upgrades an empty database, downgrades to nothing, and matches the models."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.migrate import downgrade, upgrade
from shared.models import Base, Meeting, MeetingStatus

#: the revision before the closed sets became CHECK constraints
BEFORE_CLOSED_SETS = "7ac8d365c010"


def test_upgrade_downgrade_upgrade(empty_url):
    upgrade(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # Timestamps are plain DateTime(timezone=True) in the migrations; the model's UTCDateTime
    # only normalises values in Python, so it is not a difference worth a migration.
    assert [d for d in diff if not _is_timestamp_decorator(d)] == []
    downgrade(empty_url, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_url)
    assert {"meetings", "votes", "comments", "units", "public_rollups"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def _is_timestamp_decorator(d) -> bool:
    return isinstance(d, list) and all(x[0] == "modify_type" and "UTCDateTime" in repr(x[-1]) for x in d)


# -- closed sets of values (docs/architecture.md#closed-sets-of-values) -------------------------

CLOSED_SETS = {"ck_users_role", "ck_one_time_links_purpose", "ck_guides_language", "ck_meetings_status",
               "ck_users_language", "ck_mail_outbox_status", "ck_mail_outbox_language",
               "ck_votes_choice", "ck_connections_role", "ck_units_kind", "ck_meetings_join_display",
               "ck_meetings_language", "ck_hand_counts_choice"}


def _check_names(engine: sa.Engine) -> set[str]:
    inspector = sa.inspect(engine)
    return {c["name"] for t in inspector.get_table_names() for c in inspector.get_check_constraints(t)}


def _seed(conn: sa.Connection, status: str = "live") -> None:
    """One user, guide, session, participant, vote and comment, written as plain SQL."""
    now = dt.datetime.now(dt.UTC)
    conn.execute(sa.text("INSERT INTO users (id, email, name, role, active, created_at) "
                         "VALUES (1, 'kim@example.org', 'Kim', 'organiser', :t, :now)"), {"t": True, "now": now})
    conn.execute(sa.text("INSERT INTO guides (id, title, language, document, created_at, updated_at) "
                         "VALUES ('g1', 'G', 'da', '{}', :now, :now)"), {"now": now})
    conn.execute(sa.text("INSERT INTO meetings (id, code, projector_key, title, unit, guide_id, guide_snapshot, "
                         "facilitator_id, status, voting_open, results_visible, state_version, created_at) "
                         "VALUES ('m1', 'K7M2QX', 'pk', 'M', '', 'g1', '{}', 1, :status, :f, :f, 0, :now)"),
                 {"status": status, "f": False, "now": now})
    conn.execute(sa.text("INSERT INTO participants (id, meeting_id, token_hash, created_at) "
                         "VALUES ('p1', 'm1', 'h', :now)"), {"now": now})
    conn.execute(sa.text("INSERT INTO votes (meeting_id, participant_id, item_id, choice, updated_at) "
                         "VALUES ('m1', 'p1', 'c1', 'yes', :now)"), {"now": now})
    conn.execute(sa.text("INSERT INTO comments (meeting_id, participant_id, item_id, text, hidden, pinned, "
                         "created_at) VALUES ('m1', 'p1', 'p1', 'Hej', :f, :f, :now)"), {"f": False, "now": now})


def test_the_database_refuses_values_outside_the_closed_sets(db_url):
    engine = sa.create_engine(db_url)
    assert _check_names(engine) >= CLOSED_SETS
    with engine.begin() as conn:
        _seed(conn)
    # Plain SQL, so SQLAlchemy's own validation of the enum cannot be what refuses it.
    for statement in ("UPDATE meetings SET status = 'paused'", "UPDATE votes SET choice = 'maybe'",
                      "UPDATE users SET role = 'admin'", "UPDATE meetings SET join_display = 'huge'"):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT status FROM meetings")).scalar_one() == "live"
        conn.execute(sa.text("UPDATE meetings SET status = 'ended'"))
        assert conn.scalar(sa.select(Meeting.status)) is MeetingStatus.ENDED
    engine.dispose()


def test_models_and_migrations_name_the_check_constraints_alike(tmp_path):
    url = f"sqlite:///{tmp_path / 'models.db'}"
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    from_models = _check_names(engine)
    engine.dispose()
    upgrade(f"sqlite:///{tmp_path / 'migrated.db'}")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert _check_names(engine) == from_models == CLOSED_SETS
    engine.dispose()


def test_the_constraints_keep_existing_rows_and_refuse_unknown_ones(empty_url):
    upgrade(empty_url, BEFORE_CLOSED_SETS)
    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        _seed(conn, status="paused")
    with pytest.raises(RuntimeError, match=r"meetings\.status = 'paused' in 1 row"):
        upgrade(empty_url)
    assert _check_names(engine) & CLOSED_SETS == set()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meetings SET status = 'live'"))
    upgrade(empty_url)
    assert _check_names(engine) >= CLOSED_SETS
    with engine.connect() as conn:
        # SQLite rebuilt the tables: nothing that refers to them was lost on the way.
        for table in ("users", "guides", "meetings", "participants", "votes", "comments"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
    downgrade(empty_url, BEFORE_CLOSED_SETS)
    assert _check_names(engine) & CLOSED_SETS == set()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM votes")).scalar_one() == 1
    engine.dispose()


# -- the items voting was ever opened on (issue 9, point 3) -----------------------------------

BEFORE_VOTING_OPENED = "5fbe7f8bbcbb"


def test_voting_opened_items_are_filled_in_from_the_votes_and_dropped_in_place(empty_url):
    upgrade(empty_url, BEFORE_VOTING_OPENED)
    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        _seed(conn)  # one vote on item c1
    upgrade(empty_url)
    with engine.begin() as conn:
        assert conn.scalar(sa.select(Meeting.voting_opened_items)) == ["c1"]
        # A session made with plain SQL that does not name the column starts with none.
        conn.execute(sa.text("INSERT INTO meetings (id, code, projector_key, title, unit, guide_snapshot, status, "
                             "voting_open, results_visible, state_version, created_at) VALUES ('m2', 'K7M2QY', "
                             "'pk2', 'M', '', '{}', 'waiting', :f, :f, 0, :now)"),
                     {"f": False, "now": dt.datetime.now(dt.UTC)})
        assert conn.scalar(sa.select(Meeting.voting_opened_items).where(Meeting.id == "m2")) == []
    downgrade(empty_url, BEFORE_VOTING_OPENED)
    assert "voting_opened_items" not in {c["name"] for c in sa.inspect(engine).get_columns("meetings")}
    with engine.connect() as conn:
        # Dropped in place, not by rebuilding the table: nothing that refers to it was lost.
        for table in ("meetings", "participants", "votes", "comments"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() >= 1, table
    engine.dispose()


# -- a meeting's language (issue 9, point 9) -----------------------------------------------------

BEFORE_MEETING_LANGUAGE = "c3e91d5a2b47"


def test_existing_meetings_get_their_guides_language_and_the_downgrade_drops_it(empty_url):
    upgrade(empty_url, BEFORE_MEETING_LANGUAGE)
    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        _seed(conn)
        conn.execute(sa.text("UPDATE meetings SET guide_snapshot = :doc"),
                     {"doc": '{"title": "G", "language": "sv", "sections": []}'})
    upgrade(empty_url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT language FROM meetings")).scalar_one() == "sv"
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(sa.text("UPDATE meetings SET language = 'de'"))
    downgrade(empty_url, BEFORE_MEETING_LANGUAGE)
    assert "language" not in {c["name"] for c in sa.inspect(engine).get_columns("meetings")}
    with engine.connect() as conn:  # dropped in place: nothing that refers to the session was lost
        assert conn.execute(sa.text("SELECT count(*) FROM votes")).scalar_one() == 1
    engine.dispose()
