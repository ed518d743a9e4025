"""Who is connected: server processes with a heartbeat, and one row per open socket.

Socket.IO's rooms live in one process's memory, so they cannot answer "how many phones are in the
room" when several processes serve one session (docs/architecture.md#the-process-model). Each
process writes a row per socket it holds and refreshes its heartbeat; a process that stops beating
(killed, crashed) stops counting after `PROCESS_TIMEOUT_SECONDS`, and its rows are swept later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from shared.batching import GroupCommit, driver_statement, for_engine
from shared.models import Connection, Participant, ServerProcess, utcnow

#: a process whose heartbeat is older than this no longer counts its connections
PROCESS_TIMEOUT_SECONDS = 30
#: how often a live process refreshes its heartbeat
HEARTBEAT_SECONDS = 5.0

_connections = Connection.__table__
_processes = ServerProcess.__table__
_participants = Participant.__table__


def _timeout() -> dt.timedelta:
    return dt.timedelta(seconds=PROCESS_TIMEOUT_SECONDS)


#: Built once, like the other statements a hall's connect storm runs often.
_PARTICIPANT_COUNT = (
    sa.select(sa.func.count(sa.distinct(_connections.c.participant_id)))
    .select_from(_connections.join(_processes, _processes.c.id == _connections.c.process_id))
    .where(
        _connections.c.meeting_id == sa.bindparam("meeting_id"),
        _connections.c.role == "participant",
        _processes.c.heartbeat_at > sa.bindparam("cutoff", type_=_processes.c.heartbeat_at.type),
    )
)


def participant_count(conn: sa.Connection, meeting_id: str) -> int:
    """Phones connected to the session right now, across all live server processes."""
    return conn.execute(_PARTICIPANT_COUNT, {"meeting_id": meeting_id, "cutoff": utcnow() - _timeout()}).scalar_one()


def register_process(conn: sa.Connection, process_id: str) -> None:
    """Record a serving process, and sweep processes silent for a long time with their sockets."""
    now = utcnow()
    conn.execute(_processes.insert().values(id=process_id, started_at=now, heartbeat_at=now))
    stale = now - 4 * _timeout()
    dead = sa.select(_processes.c.id).where(_processes.c.heartbeat_at < stale)
    conn.execute(_connections.delete().where(_connections.c.process_id.in_(dead)))
    conn.execute(_processes.delete().where(_processes.c.heartbeat_at < stale))


def heartbeat(conn: sa.Connection, process_id: str) -> None:
    """Keep a process's connections counted."""
    conn.execute(_processes.update().where(_processes.c.id == process_id).values(heartbeat_at=utcnow()))


def unregister_process(conn: sa.Connection, process_id: str) -> None:
    """Forget a process and its sockets (clean shutdown)."""
    conn.execute(_connections.delete().where(_connections.c.process_id == process_id))
    conn.execute(_processes.delete().where(_processes.c.id == process_id))


#: Built once: every socket's connect runs it (a statement built per call costs a new cache key).
_ADD_CONNECTION = _connections.insert()


def _connection_row(sid: str, process_id: str, meeting_id: str, role: str, participant_id: str | None) -> dict:
    return {"sid": sid, "process_id": process_id, "meeting_id": meeting_id, "role": role,
            "participant_id": participant_id, "connected_at": utcnow()}


def add_connection(conn: sa.Connection, *, sid: str, process_id: str, meeting_id: str, role: str,
                   participant_id: str | None) -> None:
    """Record an open socket."""
    conn.execute(_ADD_CONNECTION, _connection_row(sid, process_id, meeting_id, role, participant_id))


#: Every column of each, so that the driver-level insert leaves nothing to a default.
_INSERT_PARTICIPANT = _participants.insert()


class JoinCommit(GroupCommit):
    """Phones connecting at the same moment store their rows in one transaction (shared/batching.py).

    When the QR code appears a whole hall connects within seconds, and each phone's connect
    writes its new participant row (none when it resumes with its token) and its socket's row.
    Alone, each connect paid for a transaction and a commit that writes the same index pages to
    SQLite's WAL again, or on PostgreSQL a BEGIN and a COMMIT round trip and a WAL flush (issue 14,
    item 1). A row is `(participant row or None, connection row)`, both as dicts of every column.
    """

    def key(self, row: tuple) -> str:
        """A socket's id (each connects once)."""
        return row[1]["sid"]

    def write(self, rows: list[tuple]) -> list[bool]:
        """Insert the participants, then the connections that name them, and commit: each table's
        rows as one batch of statements (on psycopg2 one round trip, `execute_batch`)."""
        dialect = self.db.engine.dialect
        participants = [driver_statement(dialect, _INSERT_PARTICIPANT, p) for p, _ in rows if p is not None]
        connections = [driver_statement(dialect, _ADD_CONNECTION, c) for _, c in rows]
        with self.db.driver_transaction() as raw:
            cursor = raw.cursor()
            try:
                for statements in (participants, connections):
                    if not statements:
                        continue
                    sql, params = statements[0][0], [p for _, p in statements]
                    if dialect.driver == "psycopg2":
                        from psycopg2.extras import execute_batch

                        execute_batch(cursor, sql, params, page_size=len(params))
                    else:
                        cursor.executemany(sql, params)
            finally:
                cursor.close()
        return [True] * len(rows)


def store_join(db: Any, participant: dict | None, *, sid: str, process_id: str, meeting_id: str,
               participant_id: str) -> None:
    """Commit a phone's new participant row (None: it resumed) and its socket's row, together
    with the other phones connecting now; returns after the commit."""
    connection = _connection_row(sid, process_id, meeting_id, "participant", participant_id)
    for_engine(db, JoinCommit).submit((participant, connection))


def remove_connection(conn: sa.Connection, sid: str) -> None:
    """Forget a socket that went away."""
    conn.execute(_connections.delete().where(_connections.c.sid == sid))
