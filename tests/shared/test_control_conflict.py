"""The state_version guard of `control` (shared/meeting/commands.py): when another connection
changes the session between control's read and its write, the guarded UPDATE matches no row and the
action is refused with `conflict`, changing nothing and announcing nothing. On SQLite and PostgreSQL,
with the other writer on a connection of its own that commits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import meeting as rules
from shared import uow
from shared.db import get_db
from shared.errors import DialogrumError
from shared.meeting import commands
from shared.models import Meeting

COLUMNS = (Meeting.status, Meeting.position, Meeting.current_item_id, Meeting.started_at, Meeting.state_version)


def _row(engine: sa.Engine, meeting_id: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.select(*COLUMNS).where(Meeting.id == meeting_id)).one()


@pytest.fixture
def other(db_url):
    """A second engine on the same database: another process's connection."""
    engine = sa.create_engine(db_url)
    yield engine
    engine.dispose()


def test_a_change_between_read_and_write_is_a_conflict_that_changes_nothing(app, make, other, monkeypatch):
    database = get_db(app)
    meeting_id = make.meeting(make.user())
    before = _row(other, meeting_id)
    assert (before.status, before.position) == ("waiting", None)

    real_snapshot, calls = commands.snapshot, []

    def snapshot_then_another_writer(conn, mid):
        # control has read the meeting row (and its state_version); another connection now
        # applies and commits an action of its own before control writes.
        calls.append(mid)
        if len(calls) == 1:
            with other.begin() as conn2:
                conn2.execute(sa.update(Meeting).where(Meeting.id == meeting_id)
                              .values(state_version=Meeting.state_version + 1))
        return real_snapshot(conn, mid)

    monkeypatch.setattr(commands, "snapshot", snapshot_then_another_writer)
    published: list = []
    database.subscribers.append(published.extend)
    try:
        with app.app_context(), pytest.raises(DialogrumError) as refused:
            uow.run(database, rules.control, meeting_id, "start")
    finally:
        database.subscribers.remove(published.extend)

    assert calls == [meeting_id]  # the hook ran inside control, between its read and its write
    assert (refused.value.code, refused.value.status) == ("conflict", 409)
    after = _row(other, meeting_id)
    # Only the other writer's change is there: not started, no item, its state_version.
    assert (after.status, after.position, after.current_item_id, after.started_at) == ("waiting", None, None, None)
    assert after.state_version == before.state_version + 1
    assert published == []

    # Read again, the same action goes through.
    with app.app_context():
        uow.run(database, rules.control, meeting_id, "start")
    assert _row(other, meeting_id).status == "live"
