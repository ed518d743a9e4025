"""The vote path: the one function that stores a vote, for sockets and for every test.

A vote is the one write that runs a thousand times a second in a full hall, so it is lean on
purpose (docs/architecture.md#the-vote-path): the participant and session were resolved at
connect, the snapshot comes from a per-process cache, the rate limit is checked before any
database connection is taken, and one guarded `INSERT … SELECT … ON CONFLICT` statement, compiled
once per dialect, runs on a pooled DB-API connection. The votes that arrive together share one
transaction and one commit (`VoteCommit`, a group commit of shared/batching.py; on PostgreSQL
also one statement: a commit there waits for a WAL flush, and every statement is a round trip).
It is still a unit of work: the batch commits, and only then is `VotesChanged` published and the
vote acknowledged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from shared.batching import GroupCommit, driver_statement, for_engine
from shared.errors import DialogrumError
from shared.events import VotesChanged
from shared.meeting.snapshot import Snapshot, cached, snapshot
from shared.models import Meeting, MeetingStatus, Vote, utcnow
from shared.ratelimit import VOTE_LIMIT
from shared.uow import publish

_meetings = Meeting.__table__
_votes = Vote.__table__


def _insert_for(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


_vote_statements: dict[str, sa.Insert] = {}


def _vote_statement(dialect: str) -> sa.Insert:
    """One guarded upsert, built once per dialect so SQLAlchemy's compiled cache always hits."""
    stmt = _vote_statements.get(dialect)
    if stmt is None:
        guard = sa.exists().where(
            _meetings.c.id == sa.bindparam("m"),
            _meetings.c.status == MeetingStatus.LIVE,
            _meetings.c.voting_open.is_(True),
            _meetings.c.current_item_id == sa.bindparam("i"),
        )
        source = sa.select(
            sa.bindparam("m", type_=sa.String),
            sa.bindparam("p", type_=sa.String),
            sa.bindparam("i", type_=sa.String),
            sa.bindparam("c", type_=sa.String),
            sa.bindparam("t", type_=_votes.c.updated_at.type),
        ).where(guard)
        insert = _insert_for(dialect)(_votes).from_select(
            ["meeting_id", "participant_id", "item_id", "choice", "updated_at"], source
        )
        stmt = insert.on_conflict_do_update(
            index_elements=["participant_id", "item_id"],
            set_={"choice": insert.excluded.choice, "updated_at": insert.excluded.updated_at},
        )
        _vote_statements[dialect] = stmt
    return stmt


def check_rate(limiter: Any, limit: Any, kind: str, participant_id: str) -> None:
    """Refuse with `rate_limited` when a participant exceeds a limit (shared across processes)."""
    if limiter is not None and not limiter.hit(limit, kind, participant_id):
        raise DialogrumError("rate_limited")


def check_vote(snap: Snapshot, item_id: object, choice: object) -> None:
    """Refuse a vote that cannot be right whatever the state: unknown item or choice."""
    if not isinstance(item_id, str) or not isinstance(choice, str):
        raise DialogrumError("invalid_choice" if isinstance(item_id, str) else "not_current_item")
    item = snap.by_id.get(item_id)
    if item is None:
        raise DialogrumError("not_current_item")
    if choice not in item["choices"]:
        raise DialogrumError("invalid_choice")


def _refusal(conn: sa.Connection, meeting_id: str, item_id: str) -> DialogrumError:
    """Why the guarded upsert stored nothing: the item is no longer current, or voting is closed."""
    row = conn.execute(
        sa.select(_meetings.c.current_item_id, _meetings.c.status).where(_meetings.c.id == meeting_id)
    ).first()
    if row is not None and row.status == MeetingStatus.LIVE and row.current_item_id != item_id:
        return DialogrumError("not_current_item")
    return DialogrumError("voting_closed")


#: At most this many votes share one commit (and on PostgreSQL one statement).
MAX_BATCH = 500

#: The group commit's statement: the guarded upsert of `_vote_statement` for many votes at once,
#: telling which it stored. `{live}` is the status literal, `%s` psycopg2's VALUES list.
_BATCH_SQL = """INSERT INTO votes (meeting_id, participant_id, item_id, choice, updated_at)
SELECT v.m, v.p, v.i, v.c, v.t FROM (VALUES %s) AS v (m, p, i, c, t)
JOIN meetings ON meetings.id = v.m
WHERE meetings.status = {live} AND meetings.voting_open IS true AND meetings.current_item_id = v.i
ON CONFLICT (participant_id, item_id) DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at
RETURNING participant_id, item_id"""


class VoteCommit(GroupCommit):
    """Votes that arrive together share one commit (shared/batching.py); on PostgreSQL also one
    statement.

    On PostgreSQL each commit waits for its WAL flush and each statement is a network round trip,
    so a vote on its own costs four round trips (pool ping, BEGIN, the upsert, COMMIT) and a
    flush; a hall voting at once queued a thousand of them behind the pool (issue 14). On SQLite
    a vote's own pool checkout, transaction and commit cost more than its statement: a thousand
    phones voting at once ran at 0.7 x the bare stack (issue 14, item 2).

    On PostgreSQL a batch is one guarded upsert for all its votes as one statement in autocommit
    (its own transaction: no BEGIN or COMMIT round trip); on SQLite (and any driver but psycopg2),
    the one-vote guarded upsert per vote and one commit, so each vote's own `rowcount` says
    whether its guard let it in. A participant's second vote on an item waits for the next batch.
    """

    max_batch = MAX_BATCH

    def __init__(self, db: Any) -> None:
        super().__init__(db)
        self._sql: str | None = None
        dialect = db.engine.dialect
        #: psycopg2 stores a batch as one statement (`execute_values`); any other driver, one per vote
        self._one_statement = dialect.name == "postgresql" and dialect.driver == "psycopg2"

    def key(self, row: tuple) -> tuple:
        """A participant and an item: one statement cannot upsert the same row twice."""
        return row[1], row[2]

    def write(self, rows: list[tuple]) -> list[bool]:
        """Store the votes in one transaction; whether each vote's guard let it in."""
        return self._write_one_statement(rows) if self._one_statement else self._write_each(rows)

    def _statement(self) -> str:
        if self._sql is None:
            status = _meetings.c.status.type
            proc = status.bind_processor(self.db.engine.dialect)
            live = proc(MeetingStatus.LIVE) if proc else str(MeetingStatus.LIVE)
            raw = self.db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                literal = cursor.mogrify("%s", (live,)).decode()
                cursor.close()
            finally:
                raw.close()
            self._sql = _BATCH_SQL.replace("{live}", literal)
        return self._sql

    def _write_one_statement(self, rows: list[tuple]) -> list[bool]:
        from psycopg2.extras import execute_values

        sql = self._statement()
        raw = self.db.engine.raw_connection()
        try:
            # One statement is its own transaction: in autocommit it is committed (WAL flushed,
            # with synchronous_commit on) when it returns, without a BEGIN and a COMMIT round trip.
            driver = raw.driver_connection
            driver.autocommit = True
            try:
                cursor = driver.cursor()
                try:
                    returned = execute_values(cursor, sql, rows, page_size=len(rows), fetch=True)
                finally:
                    cursor.close()
            finally:
                if not driver.closed:  # a lost connection is discarded by the pool anyway
                    driver.autocommit = False
        finally:
            raw.close()
        stored = {(pid, item) for pid, item in returned}
        return [(row[1], row[2]) in stored for row in rows]

    def _write_each(self, rows: list[tuple]) -> list[bool]:
        """The one-vote guarded upsert for each vote, in one transaction (SQLite, other drivers)."""
        dialect = self.db.engine.dialect
        stmt = _vote_statement(dialect.name)
        stored = []
        with self.db.driver_transaction() as raw:
            cursor = raw.cursor()
            try:
                for row in rows:
                    sql, params = driver_statement(dialect, stmt, dict(zip("mpict", row, strict=True)))
                    cursor.execute(sql, params)
                    stored.append(cursor.rowcount != 0)  # whether its guard let it in
            finally:
                cursor.close()
        return stored


def group_commit(db: Any) -> VoteCommit:
    """The votes' group commit of `db`'s engine (one per engine)."""
    return for_engine(db, VoteCommit)


def cast_vote(db: Any, meeting_id: str, participant_id: str, item_id: object, choice: object, *,
              limiter: Any = None) -> VotesChanged:
    """Record (or replace) a participant's vote on the current item while voting is open.

    `db` is the app's `Database`. The guarded upsert stores the vote only if the session is live,
    voting is open and the item is the current one, so a vote can never land on a closed or left
    item. Returns after the commit, with the event it published; refusals raise `DialogrumError`.
    """
    check_rate(limiter, VOTE_LIMIT, "vote", participant_id)
    snap = cached(meeting_id)
    if snap is None:
        with db.engine.connect() as conn:
            snap = snapshot(conn, meeting_id)
    check_vote(snap, item_id, choice)
    stored = group_commit(db).submit((meeting_id, participant_id, item_id, choice, utcnow()))
    if not stored:  # rare: one more read to say why
        with db.engine.connect() as conn:
            raise _refusal(conn, meeting_id, item_id)
    event = VotesChanged(meeting_id, item_id)
    publish(db, [event])
    return event
