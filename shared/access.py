"""Who may see and manage which sessions: the one rule, written once.

Organisers see and manage every session, facilitators their own, and a deactivated user (or
nobody) nothing. Checks on one session use `may_manage` (or `managed_meeting`, which also loads
it); lists, counts and roll-ups narrow their
statement with `visible` (or start from `visible_meetings`), so a page, the REST API, a socket
and the CLI can never disagree about it.

A published roll-up is read by people without an account: `EVERYONE` stands for them. It sees
every session (the organiser who published the link chose that) and manages none.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.errors import DialogrumError
from shared.models import Meeting


class _Everyone:
    """The reader of a published roll-up: every session counts, nothing may be changed."""

    id = None
    role = "public"
    active = True

    def __repr__(self) -> str:
        return "EVERYONE"


#: the reader of a published roll-up (no account)
EVERYONE = _Everyone()


def sees_every_session(user: Any) -> bool:
    """An active organiser, or the reader of a published roll-up."""
    if user is EVERYONE:
        return True
    return user is not None and bool(getattr(user, "active", False)) and user.role == "organiser"


def may_manage(user: Any, meeting: Any) -> bool:
    """Organisers manage every session, facilitators their own, inactive users none.

    `meeting` is anything with a `facilitator_id` (a model or a row).
    """
    if user is None or user is EVERYONE or not getattr(user, "active", False):
        return False
    return user.role == "organiser" or meeting.facilitator_id == user.id


def visible_clause(user: Any, facilitator_id: Any = Meeting.facilitator_id) -> sa.ColumnElement[bool]:
    """A WHERE clause on `facilitator_id` (a column of `meetings`, an alias or a subquery) that
    keeps the sessions `user` may see."""
    if sees_every_session(user):
        return sa.true()
    if user is None or not getattr(user, "active", False) or user.id is None:
        return sa.false()
    return facilitator_id == user.id


def visible(stmt: sa.Select, user: Any, facilitator_id: Any = Meeting.facilitator_id) -> sa.Select:
    """`stmt` narrowed to the sessions `user` may see."""
    return stmt.where(visible_clause(user, facilitator_id))


def visible_meetings(user: Any, guide_id: str | None = None) -> sa.Select:
    """`SELECT meetings` the user may see, of one guide if given."""
    stmt = visible(sa.select(Meeting), user)
    if guide_id is not None:
        stmt = stmt.where(Meeting.guide_id == guide_id)
    return stmt


def managed_meeting(db: so.Session, user: Any, meeting_id: object) -> Meeting:
    """The session `user` may manage, or `unknown_session` (404) / `forbidden` (403)."""
    meeting = db.get(Meeting, meeting_id) if isinstance(meeting_id, str) and meeting_id else None
    if meeting is None:
        raise DialogrumError("unknown_session")
    if not may_manage(user, meeting):
        raise DialogrumError("forbidden")
    return meeting
