"""The vote path: the one function that stores a vote, for sockets and for every test.

A vote is the one write that runs a thousand times a second in a full hall, so it is lean on
purpose (docs/architecture.md#the-vote-path): the participant and session were resolved at
connect, the snapshot comes from a per-process cache, the rate limit is checked before any
database connection is taken, and one guarded `INSERT … SELECT … ON CONFLICT` statement, compiled
once per dialect, runs on a pooled DB-API connection in its own transaction. It is still a unit
of work: the statement commits, and only then is `VotesChanged` published.
"""

from __future__ import annotations

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
    dialect = db.engine.dialect
    sql, params = _driver_statement(dialect, _vote_statement(dialect.name),
                                    {"m": meeting_id, "p": participant_id, "i": item_id, "c": choice, "t": utcnow()})
    with db.driver_transaction() as raw:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            stored = cursor.rowcount != 0
        finally:
            cursor.close()
    if not stored:  # rare: one more read to say why
        with db.engine.connect() as conn:
            raise _refusal(conn, meeting_id, item_id)
    event = VotesChanged(meeting_id, item_id)
    publish(db, [event])
    return event
