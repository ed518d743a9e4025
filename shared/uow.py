"""One unit of work: rules record the events they cause, one helper commits and then publishes.

Every write in Dialogrum (a socket command, a REST call, a page's form, a CLI command) runs as::

    with unit_of_work(db) as work:          # or unit_of_work(db, session=db.session) in a request
        result = rules.control(work, meeting_id, "next")
    # committed here; the events were published to every subscriber (the realtime hub) after it

Rules get the `Work`, run their SQL on `work.conn` and call `work.emit(event)` for each thing the
room must hear about. Nothing is published when the block raises: the transaction is rolled back
and the events are dropped, so an announcement always describes a committed row (docs/architecture.md,
"Emit after commit").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.events import Event

if TYPE_CHECKING:
    from shared.db import Database

log = logging.getLogger(__name__)

Subscriber = Callable[[list[Event]], None]


@dataclass
class Work:
    """The connection of one transaction and the events it will publish once committed."""

    conn: sa.Connection
    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        """Queue an event; it is published only if the transaction commits."""
        self.events.append(event)


@contextmanager
def unit_of_work(db: Database, *, session: so.Session | None = None) -> Iterator[Work]:
    """Run a block in one transaction, commit it, then publish its events to `db`'s subscribers.

    With `session` (a request's ORM session) the work shares the session's connection, so rows the
    session already loaded or added are in the same transaction; the session is committed, or
    rolled back on an error. Without it the work takes its own pooled connection.
    """
    if session is not None:
        work = Work(session.connection())
        try:
            yield work
            session.commit()
        except BaseException:
            session.rollback()
            raise
    else:
        with db.engine.begin() as conn:
            work = Work(conn)
            yield work
    publish(db, work.events)


def publish(db: Database, events: list[Event]) -> None:
    """Hand committed events to every subscriber; a failing subscriber never undoes the commit."""
    if not events:
        return
    for subscriber in db.subscribers:
        try:
            subscriber(events)
        except Exception:  # the rows are committed; the hub's poll repairs a missed state
            log.exception("publishing %d event(s) failed", len(events))


def run(db: Database, rule: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`rule(work, *args, **kwargs)` in its own unit of work; returns what the rule returned."""
    with unit_of_work(db) as work:
        return rule(work, *args, **kwargs)
