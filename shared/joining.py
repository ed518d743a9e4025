"""Joining a session by its code: the one place that throttles guessing codes and paces new
participants per client address, for the pages (`/`, `/j/<code>`) and the sockets alike.

- **Wrong codes** count per client address (`WRONG_CODE_LIMIT`); the right code never does, so a
  hall of 300 phones behind one NAT address joins as fast as it likes. Past the limit the address
  may not look codes up until the window moves (`rate_limited`), whether the code is right or not:
  otherwise a guess that hits would still be told apart. A phone that brings its participant token
  of that session is let through all the same (the token is unguessable).
- **New participants** (a join without a valid token) count per client address
  (`NEW_PARTICIPANT_LIMIT`, a hall's pace); a reconnect that brings its token never counts.
- **One address making far more participants than the room holds** is told to the session's
  facilitators (`JoinWarning`): more than `WARN_AT_LEAST` participants made from one address, and
  more than `WARN_FACTOR` times the participants connected now. Anonymous voting cannot tell a
  person from a reloaded private browser tab or a script; the facilitator can (docs/api.md#anonymous-voting).

The limits are kept in the rate limits' storage (Redis across processes); when it does not answer,
joining is refused with `unavailable` at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.events import JoinWarning
from shared.ids import hash_token
from shared.meeting.read import find_by_code
from shared.models import Participant
from shared.presence import participant_count
from shared.ratelimit import NEW_PARTICIPANT_LIMIT, WRONG_CODE_LIMIT, Limiter

#: A warning needs at least this many participants made from one address in one session ...
WARN_AT_LEAST = 50
#: ... and more than this many times the participants connected at that moment.
WARN_FACTOR = 2
#: How long the count of participants made from one address in a session is kept (seconds).
WARN_WINDOW = 12 * 3600

_participants = Participant.__table__


def _owns(conn: sa.Connection, meeting: Any, token: object) -> bool:
    """Whether `token` is a participant token of this session."""
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return False
    return conn.execute(sa.select(_participants.c.id).where(
        _participants.c.token_hash == hash_token(token), _participants.c.meeting_id == meeting.id)).first() is not None


def may_look_up(limiter: Limiter, address: str) -> bool:
    """Whether this address may look codes up now (False: too many wrong codes lately)."""
    return limiter.test(WRONG_CODE_LIMIT, "wrong-code", address)


def find(conn: sa.Connection, raw_code: object, limiter: Limiter, address: str | None, *,
         token: object = None, allowed: bool | None = None, narrow: bool = False) -> Any:
    """The session with this join code, or None (a wrong code, counted against the address).

    Raises `rate_limited` while the address has sent too many wrong codes, unless `token` is a
    participant token of the session the code names. `allowed` is `may_look_up`'s answer when the
    caller asked before taking a database connection (the sockets do: a Redis round trip must not
    hold a pooled connection). `narrow`: only the columns a phone's connect needs (`JOIN_COLUMNS`).
    """
    address = address or "?"
    if allowed is None:
        allowed = may_look_up(limiter, address)
    meeting = find_by_code(conn, raw_code, narrow=narrow)
    if not allowed:
        if meeting is not None and _owns(conn, meeting, token):
            return meeting
        raise DialogrumError("rate_limited")
    if meeting is None:
        limiter.hit(WRONG_CODE_LIMIT, "wrong-code", address)
    return meeting


def new_participant(meeting_id: str, limiter: Limiter, address: str | None, limit: Any = None) -> int:
    """Count a participant about to be made from `address` in a session (before its row is
    stored: a refusal stores nothing); how many this address made there lately, for
    `join_warning` once the row is stored."""
    address = address or "?"
    if not limiter.hit(limit or NEW_PARTICIPANT_LIMIT, "new-participant", address):
        raise DialogrumError("rate_limited")
    return limiter.count(WARN_WINDOW, "made", meeting_id, address)


def may_warn(made: int) -> bool:
    """Whether `join_warning` has anything to check (every tenth participant past the threshold:
    a count of connections is a query)."""
    return made >= WARN_AT_LEAST and made % 10 == 0


def join_warning(conn: sa.Connection, meeting_id: str, limiter: Limiter, made: int, *,
                 connected: Callable[[sa.Connection, str], int] = participant_count) -> JoinWarning | None:
    """The warning for the session's facilitators when one address made `made` participants and
    that is far more than the room holds, else None. Called after the participant is stored, so
    the count includes it and the phones stored with it. `connected` counts the phones connected
    now (the sockets pass their hub's count, shared by the connects of one tick: only a count that
    would warn is taken again)."""
    if not may_warn(made) or made <= WARN_FACTOR * connected(conn, meeting_id):
        return None
    # A count shared over a tick lags a hall filling up from one address: warn on a fresh one.
    now = participant_count(conn, meeting_id)
    if made > WARN_FACTOR * now:
        limiter.raise_to(made, WARN_WINDOW, "warned", meeting_id)
        return JoinWarning(meeting_id, {"from_one_address": made, "participants": now})
    return None


def warning_for(conn: sa.Connection, meeting_id: str, limiter: Limiter) -> dict[str, int] | None:
    """The join warning a facilitator connecting now should see, or None."""
    made = limiter.get("warned", meeting_id)
    if not made:
        return None
    return {"from_one_address": made, "participants": participant_count(conn, meeting_id)}
