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


# -- sockets that outlive their credential (issue 15, point 1) ----------------------------------


def lapsed_grants(conn: sa.Connection, grants: dict[str, tuple[int, int | None, int | None, str]]) -> dict[str, str]:
    """Which open facilitator sockets may no longer act, and why.

    `grants` maps a socket id to what let it in: (user id, API token id or None, the login's
    session version or None, session id). A socket lapses with `unauthorized` when its user is
    deactivated or gone, its token revoked, or its sign-in ended (sign-out, new password), and
    with `forbidden` when its user may no longer manage the session (a role change) or the
    session is gone. Three small queries for any number of sockets: the hubs run it every second
    for their own sockets, and every facilitator command runs it for its socket first."""
    from shared.models import ApiToken, User

    if not grants:
        return {}
    user_ids = {g[0] for g in grants.values()}
    token_ids = {g[1] for g in grants.values() if g[1] is not None}
    meeting_ids = {g[3] for g in grants.values()}
    users = {row.id: row for row in conn.execute(
        sa.select(User.id, User.active, User.role, User.session_version).where(User.id.in_(user_ids)))}
    live_tokens = set(conn.scalars(sa.select(ApiToken.id).where(
        ApiToken.id.in_(token_ids), ApiToken.revoked_at.is_(None)))) if token_ids else set()
    meetings = {row.id: row for row in conn.execute(
        sa.select(Meeting.id, Meeting.facilitator_id).where(Meeting.id.in_(meeting_ids)))}
    lapsed = {}
    for sid, (user_id, token_id, version, meeting_id) in grants.items():
        user = users.get(user_id)
        if (user is None or not user.active or (token_id is not None and token_id not in live_tokens)
                or (version is not None and user.session_version != version)):
            lapsed[sid] = "unauthorized"
        elif meeting_id not in meetings or not may_manage(user, meetings[meeting_id]):
            lapsed[sid] = "forbidden"
    return lapsed
