"""The vote path: the one function that stores a vote, for sockets and for every test.

A vote is the one write that runs a thousand times a second in a full hall, so it is lean on
purpose (docs/architecture.md#the-vote-path): the participant and session were resolved at
connect, the snapshot comes from a per-process cache, the rate limit is checked before any
database connection is taken, and one guarded `INSERT … SELECT … ON CONFLICT` statement, compiled
once per dialect, runs on a pooled DB-API connection. The votes that arrive together share one
transaction and one commit (`GroupCommit`; on PostgreSQL also one statement: a commit there waits
for a WAL flush, and every statement is a round trip). It is still a unit of work: the batch
commits, and only then is `VotesChanged` published and the vote acknowledged.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

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


_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...] | None, dict, dict]] = {}


def _driver_statement(dialect: sa.Dialect, stmt: sa.Executable, params: dict[str, Any]) -> tuple[str, Any]:
    """A statement compiled once per dialect, as SQL text and driver parameters.

    Skipping SQLAlchemy's per-execution cache-key walk and its Connection machinery halves the
    vote's cost. Bind processors are applied from the compiled statement, so types (UTC
    timestamps) are handled exactly as SQLAlchemy would.
    """
    key = (id(stmt), dialect.name)
    entry = _compiled.get(key)
    if entry is None:
        compiled = stmt.compile(dialect=dialect)
        processors = {name: proc for name, proc in compiled._bind_processors.items() if proc is not None}
        # Literal values of the statement (e.g. status = 'live') are bound parameters too.
        defaults = {name: value for name, value in compiled.params.items() if name not in params}
        entry = (str(compiled), compiled.positiontup, processors, defaults)
        _compiled[key] = entry
    sql, order, processors, defaults = entry
    merged = {**defaults, **params}
    values = {name: (processors[name](value) if name in processors else value) for name, value in merged.items()}
    return sql, (tuple(values[name] for name in order) if order else values)


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


class _Pending:
    """One vote waiting for its batch's commit."""

    __slots__ = ("done", "error", "row", "stored")

    def __init__(self, row: tuple) -> None:
        self.row = row  # (meeting_id, participant_id, item_id, choice, updated_at)
        self.stored = False
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Votes that arrive together share one commit (on PostgreSQL also one statement).

    On PostgreSQL each commit waits for its WAL flush and each statement is a network round trip,
    so a vote on its own costs four round trips (pool ping, BEGIN, the upsert, COMMIT) and a
    flush; a hall voting at once queued a thousand of them behind the pool (issue 14). On SQLite
    a vote's own pool checkout, transaction and commit cost more than its statement: a thousand
    phones voting at once ran at 0.7 x the bare stack (issue 14, item 2).

    Here the first vote to find no batch in flight leads: it takes every vote waiting (at most
    `MAX_BATCH`, each participant and item once) and stores them in one transaction. On
    PostgreSQL that is one guarded upsert for all of them as one statement in autocommit (its own
    transaction: no BEGIN or COMMIT round trip); on SQLite (and any driver but psycopg2), the
    one-vote guarded upsert per vote and one commit, so each vote's own `rowcount` says whether
    its guard let it in. When the
    commit has returned, it marks each vote stored or not and wakes the others. Votes that came
    meanwhile form the next batch, led by one of them. SQLite's statements do not yield to other
    green threads, so its leader yields once before it takes the batch: the votes already read
    from their sockets join it.

    An acknowledgement still means committed: `submit` returns only after the commit of the
    vote's batch. Latency is bounded by at most two batches (the one in flight, then the vote's
    own), each at most `MAX_BATCH` rows, with no timer: a lone vote is sent at once (on SQLite
    after one turn of the event loop). A batch that fails as a whole (one row the database
    refuses) is stored again one vote at a time, so one bad vote does not fail the others.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        self._sql: str | None = None
        dialect = db.engine.dialect
        #: psycopg2 stores a batch as one statement (`execute_values`); any other driver, one per vote
        self._one_statement = dialect.name == "postgresql" and dialect.driver == "psycopg2"
        #: SQLite's calls never yield to other green threads (see `submit`)
        self._sqlite = dialect.name == "sqlite"

    def submit(self, row: tuple) -> bool:
        """Store one vote (the guarded upsert's five values); True when stored, after the commit."""
        me = _Pending(row)
        with self._cond:
            self._queue.append(me)
        while True:
            with self._cond:
                while not me.done and self._busy:
                    self._cond.wait()
                if me.done:
                    break
                self._busy = True
            try:
                if self._sqlite:
                    time.sleep(0)  # one turn of the event loop: the votes read meanwhile join this batch
                with self._cond:
                    batch = self._take()
                self._store(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if me.error is not None:
            raise me.error
        return me.stored

    def _store(self, batch: list[_Pending]) -> None:
        """Commit a batch; when it fails as a whole, each of its votes on its own. Its votes are
        marked done only at the end, under the lock: a voter that checks between the failed batch
        and its own retry must not take the batch's error for its own."""
        try:
            self._commit(batch)
            if len(batch) > 1 and all(p.error is not None for p in batch):
                for pending in batch:
                    pending.error = None
                    self._commit([pending])
        finally:
            with self._cond:
                for pending in batch:
                    pending.done = True

    def _take(self) -> list[_Pending]:
        """The next batch in arrival order: a participant's second vote on an item waits for the
        next batch (one statement cannot upsert the same row twice)."""
        batch, keys = [], set()
        for pending in self._queue:
            key = (pending.row[1], pending.row[2])
            if key in keys or len(batch) >= MAX_BATCH:
                break
            keys.add(key)
            batch.append(pending)
        del self._queue[: len(batch)]
        return batch

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

    def _commit(self, batch: list[_Pending]) -> None:
        """Store a batch in one transaction; then note for each vote whether it was stored, or the
        error that failed the batch (none of its votes was acknowledged). `_store` marks them done."""
        try:
            stored = self._write_one_statement(batch) if self._one_statement else self._write_each(batch)
            for pending, ok in zip(batch, stored, strict=True):  # committed: now each may be told
                pending.stored = ok
        except BaseException as exc:
            for pending in batch:
                pending.error = exc

    def _write_one_statement(self, batch: list[_Pending]) -> list[bool]:
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
                    rows = execute_values(cursor, sql, [p.row for p in batch], page_size=len(batch), fetch=True)
                finally:
                    cursor.close()
            finally:
                if not driver.closed:  # a lost connection is discarded by the pool anyway
                    driver.autocommit = False
        finally:
            raw.close()
        stored = {(pid, item) for pid, item in rows}
        return [(p.row[1], p.row[2]) in stored for p in batch]

    def _write_each(self, batch: list[_Pending]) -> list[bool]:
        """The one-vote guarded upsert for each vote, in one transaction (SQLite, other drivers)."""
        dialect = self.db.engine.dialect
        stmt = _vote_statement(dialect.name)
        stored = []
        with self.db.driver_transaction() as raw:
            cursor = raw.cursor()
            try:
                for pending in batch:
                    sql, params = _driver_statement(dialect, stmt, dict(zip("mpict", pending.row, strict=True)))
                    cursor.execute(sql, params)
                    stored.append(cursor.rowcount != 0)  # whether its guard let it in
            finally:
                cursor.close()
        return stored


_group_commits: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_group_lock = threading.Lock()


def group_commit(db: Any) -> GroupCommit:
    """The group commit of `db`'s engine (one per engine)."""
    engine = db.engine
    with _group_lock:
        gc = _group_commits.get(engine)
        if gc is None:
            gc = _group_commits[engine] = GroupCommit(db)
        return gc


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
