"""Group commit: writes that arrive together share one transaction and one commit.

A hall does the same small write a thousand times within seconds: every phone's connect stores a
participant and a connection row, every vote an upsert. Alone, each such write pays for its own
pool checkout, transaction and commit, which cost more than its statement: on SQLite the commit
writes the same few pages to the WAL again, on PostgreSQL each statement is a network round trip
and each commit waits for a WAL flush (issue 14).

`GroupCommit` is the one mechanism for both (the votes' `VoteCommit` in shared/meeting/votes.py,
the connects' `JoinCommit` in shared/presence.py). The first writer to find no batch in flight
leads: it takes every row waiting (at most `max_batch`, each key once) and stores them in one
transaction; when the commit has returned it marks each row stored or not and wakes the others.
Rows that came meanwhile form the next batch, led by one of them. SQLite's statements do not
yield to other green threads, so its leader yields once before it takes the batch: the writes
already read from their sockets join it.

An acknowledgement still means committed: `submit` returns only after the commit of the row's
batch. Latency is bounded by at most two batches (the one in flight, then the row's own), with no
timer: a lone write is sent at once (on SQLite after one turn of the event loop). A batch that
fails as a whole (one row the database refuses) is stored again one row at a time, so one bad row
does not fail the others.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any, TypeVar

import sqlalchemy as sa

__all__ = ["GroupCommit", "driver_statement", "for_engine"]

_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...] | None, dict, dict]] = {}


def driver_statement(dialect: sa.Dialect, stmt: sa.Executable, params: dict[str, Any]) -> tuple[str, Any]:
    """A statement compiled once per dialect, as SQL text and driver parameters.

    For the writes a hall does a thousand times (votes, connects): skipping SQLAlchemy's
    per-execution cache-key walk and its Connection machinery halves a vote's cost. Bind
    processors are applied from the compiled statement, so types (UTC timestamps) are handled
    exactly as SQLAlchemy would.
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


class _Pending:
    """One row waiting for its batch's commit."""

    __slots__ = ("done", "error", "row", "stored")

    def __init__(self, row: tuple) -> None:
        self.row = row
        self.stored = False
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Rows that arrive together share one commit; subclasses say how a batch is written."""

    #: at most this many rows share one commit
    max_batch = 500

    def __init__(self, db: Any) -> None:
        self.db = db
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        #: SQLite's calls never yield to other green threads (see `submit`)
        self._sqlite = db.engine.dialect.name == "sqlite"

    # -- what a subclass says ---------------------------------------------------------------------

    def key(self, row: tuple) -> Hashable:
        """Rows with the same key never share a batch (one statement cannot upsert a row twice)."""
        return id(row)

    def write(self, rows: list[tuple]) -> list[bool]:
        """Store `rows` in one transaction and commit it; whether each was stored."""
        raise NotImplementedError

    # -- the mechanism -------------------------------------------------------------------------

    def submit(self, row: tuple) -> bool:
        """Store one row; True when it was stored, after the commit. Raises the error that failed
        the row (its batch's, when the row alone could not be told apart)."""
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
                    time.sleep(0)  # one turn of the event loop: the writes read meanwhile join this batch
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
        """Commit a batch; when it fails as a whole, each of its rows on its own. Its rows are
        marked done only at the end, under the lock: a writer that checks between the failed batch
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
        """The next batch in arrival order, up to a row whose key is already in it."""
        batch: list[_Pending] = []
        keys: set[Hashable] = set()
        for pending in self._queue:
            key = self.key(pending.row)
            if key in keys or len(batch) >= self.max_batch:
                break
            keys.add(key)
            batch.append(pending)
        del self._queue[: len(batch)]
        return batch

    def _commit(self, batch: list[_Pending]) -> None:
        """Store a batch in one transaction; then note for each row whether it was stored, or the
        error that failed the batch (none of its rows was acknowledged). `_store` marks them done."""
        try:
            stored = self.write([p.row for p in batch])
            for pending, ok in zip(batch, stored, strict=True):  # committed: now each may be told
                pending.stored = ok
        except BaseException as exc:
            for pending in batch:
                pending.error = exc


G = TypeVar("G", bound=GroupCommit)

_instances: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def for_engine(db: Any, kind: type[G]) -> G:
    """The one `kind` group commit of `db`'s engine (every writer of a process shares it)."""
    with _lock:
        per_engine = _instances.setdefault(db.engine, {})
        found = per_engine.get(kind)
        if found is None:
            found = per_engine[kind] = kind(db)
        return found
