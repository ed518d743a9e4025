"""Approve first (issue 11, point 4): which comments the room may see, and what a change tells it.

A session with `approve_comments` on stores new comments with `approved` false: only the
facilitators (and the author, through the acknowledgement) know of them until a facilitator
approves one (`moderate(..., approved=True)`), which sends it to the room as a new `comment`, or
hides it. Turning approval off later leaves the waiting ones waiting: somebody chose to look at
them first. Existing comments and those of sessions without approval are approved.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.events import CommentApproved, CommentModerated
from shared.models import Setting

#: the control actions that turn approval on and off, and what they set `approve_comments` to
APPROVAL_ACTIONS = {"approval_on": True, "approval_off": False}
#: the organiser's setting: whether new sessions start with approval on
DEFAULT_KEY = "approve_comments"


def approval_default(conn: sa.Connection) -> bool:
    """Whether a new session's comments wait for approval unless its maker chooses (off unless set)."""
    value = conn.execute(sa.select(Setting.value).where(Setting.key == DEFAULT_KEY)).scalar()
    return bool(value.get("on")) if isinstance(value, dict) else False


def set_approval_default(conn: sa.Connection, on: object) -> bool:
    """Set the organiser's default for new sessions."""
    if not isinstance(on, bool):
        raise DialogrumError("invalid", "on must be true or false")
    conn.execute(sa.delete(Setting).where(Setting.key == DEFAULT_KEY))
    conn.execute(sa.insert(Setting).values(key=DEFAULT_KEY, value={"on": on}))
    return on


def approved_on_arrival(meeting: Any) -> bool:
    """Whether a comment written now is shown to the room at once."""
    return not bool(getattr(meeting, "approve_comments", False))


def room_may_see(comment: dict[str, Any]) -> bool:
    """The projector and the phones see a comment only when it is approved and not hidden."""
    return bool(comment.get("approved", True)) and not comment["hidden"]


def moderation_event(meeting_id: str, was_approved: bool, comment: dict[str, Any]) -> Any:
    """The event a moderation causes: a comment approved just now reaches the room as new
    (`CommentApproved`); every other change is a `CommentModerated`."""
    if comment["approved"] and not was_approved and not comment["hidden"]:
        return CommentApproved(meeting_id, comment)
    return CommentModerated(meeting_id, comment)
