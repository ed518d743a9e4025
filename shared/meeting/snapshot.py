"""Guide snapshots: the items a session runs with, immutable per session.

Because a snapshot never changes after the session was created, a per-process cache is safe (it
never goes stale) and spares the vote path from parsing JSON (docs/architecture.md#the-vote-path).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from shared import guides
from shared.errors import DialogrumError
from shared.models import Meeting

_meetings = Meeting.__table__
CACHE_SIZE = 256


@dataclass(frozen=True)
class Snapshot:
    """The flattened items of one meeting's guide snapshot."""

    title: str
    language: str
    items: tuple[dict[str, Any], ...]
    by_id: dict[str, dict[str, Any]]


_cache: OrderedDict[str, Snapshot] = OrderedDict()
_lock = threading.Lock()


def cached(meeting_id: str) -> Snapshot | None:
    """The snapshot if this process already read it (no database access)."""
    return _cache.get(meeting_id)


def snapshot(conn: sa.Connection, meeting_id: str) -> Snapshot:
    """The items of a meeting in guide order (cached: a snapshot never changes)."""
    with _lock:
        hit = _cache.get(meeting_id)
        if hit is not None:
            _cache.move_to_end(meeting_id)
            return hit
    doc = conn.execute(sa.select(_meetings.c.guide_snapshot).where(_meetings.c.id == meeting_id)).scalar()
    if doc is None:
        raise DialogrumError("unknown_session")
    items = tuple(guides.flatten(doc))
    snap = Snapshot(doc["title"], doc["language"], items, {item["id"]: item for item in items})
    with _lock:
        _cache[meeting_id] = snap
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return snap
