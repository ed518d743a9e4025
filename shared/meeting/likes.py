"""Idea votes: a phone's thumbs-up on another phone's comment (issue 11, section 3).

The rule: a participant may like a comment that is on the session's current item, that item an
open question (the only item whose comments the phones see), while the session is live; not a
hidden comment or one waiting for approval, not one of their own (`own_comment`), at most once
(taking it back deletes the row). Likes are counted with one GROUP BY (`read.like_counts`); a
change only marks the comment's item dirty (`LikesChanged`), and the realtime hub sends the item's
counts at most ten times a second, as it does with votes (docs/architecture.md#coalesce).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.events import LikesChanged
from shared.ids import MAX_INT
from shared.meeting.read import comment_payload, get_meeting, like_counts
from shared.meeting.snapshot import snapshot
from shared.meeting.votes import check_rate
from shared.models import Comment, CommentLike, MeetingStatus, utcnow
from shared.ratelimit import IDEAS_LIMIT, LIKE_LIMIT
from shared.uow import Work, unit_of_work

_comments = Comment.__table__
_likes = CommentLike.__table__


def set_like(work: Work, meeting_id: str, participant_id: str, comment_id: object, liked: object) -> dict[str, Any]:
    """Give (`liked` true) or take back (false) a participant's thumbs-up on a comment; returns
    `{comment_id, item_id, likes, liked}` after the change. Giving twice or taking back what was
    never given changes nothing and is no error: a phone that retries after a lost ack is right."""
    conn = work.conn
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise DialogrumError("invalid", "comment_id must be an integer")
    if not isinstance(liked, bool):
        raise DialogrumError("invalid", "liked must be true or false")
    if not 0 < comment_id <= MAX_INT:  # no such row, and the database would refuse the number
        raise DialogrumError("unknown_comment")
    meeting = get_meeting(conn, meeting_id)
    comment = conn.execute(
        sa.select(_comments.c.item_id, _comments.c.participant_id, _comments.c.hidden, _comments.c.approved)
        .where(_comments.c.id == comment_id, _comments.c.meeting_id == meeting.id)
    ).first()
    # A hidden comment, or one still waiting for approval, is as unknown to a phone as another
    # session's: the room never saw it.
    if comment is None or comment.hidden or not comment.approved:
        raise DialogrumError("unknown_comment")
    if meeting.status != MeetingStatus.LIVE:
        raise DialogrumError("comments_closed" if meeting.status == MeetingStatus.ENDED else "not_current_item")
    on_prompt = snapshot(conn, meeting.id).by_id.get(comment.item_id, {}).get("kind") == "prompt"
    if comment.item_id != meeting.current_item_id or not on_prompt:
        raise DialogrumError("not_current_item")
    if comment.participant_id == participant_id:
        raise DialogrumError("own_comment")
    mine = (_likes.c.comment_id == comment_id, _likes.c.participant_id == participant_id)
    exists = conn.execute(sa.select(sa.literal(1)).where(*mine)).first() is not None
    if liked and not exists:
        conn.execute(_likes.insert().values(comment_id=comment_id, participant_id=participant_id,
                                            created_at=utcnow()))
    elif not liked and exists:
        conn.execute(_likes.delete().where(*mine))
    count = conn.execute(sa.select(sa.func.count()).select_from(_likes)
                         .where(_likes.c.comment_id == comment_id)).scalar_one()
    if liked != exists:
        work.emit(LikesChanged(meeting.id, comment.item_id))
    return {"comment_id": comment_id, "item_id": comment.item_id, "likes": count, "liked": liked}


def post_like(db: Any, meeting_id: str, participant_id: str, comment_id: object, liked: object, *,
              limiter: Any = None) -> dict[str, Any]:
    """A phone's `like`, as sockets take it: the rate limit first (with Redis a network round trip,
    which must not hold a pooled database connection), then `set_like` in its own unit of work."""
    check_rate(limiter, LIKE_LIMIT, "like", participant_id)
    with unit_of_work(db) as work:
        return set_like(work, meeting_id, participant_id, comment_id, liked)


def comments_for_phone(db: Any, meeting_id: str, participant_id: str, *,
                       limiter: Any = None) -> tuple[str | None, list[dict]]:
    """A phone's `comments`: (the current item's id or None, what `phone_comments` gives), the
    rate limit checked first (`IDEAS_LIMIT`, before a pooled connection is taken)."""
    check_rate(limiter, IDEAS_LIMIT, "ideas", participant_id)
    with db.begin() as conn:
        row = get_meeting(conn, meeting_id)
        item_id = row.current_item_id if row.status == MeetingStatus.LIVE else None
        return item_id, phone_comments(conn, row.id, participant_id, item_id)


def likes_payload(conn: sa.Connection, meeting_id: str, item_id: str) -> dict[str, Any]:
    """The additive `likes` event of one item: `{item_id, likes: {comment_id: n}}` for every
    comment on it that has any (JSON keys are strings)."""
    return {"item_id": item_id, "likes": {str(k): v for k, v in like_counts(conn, meeting_id, item_id).items()}}


def phone_comments(conn: sa.Connection, meeting_id: str, participant_id: str, item_id: str | None) -> list[dict]:
    """The comments a phone sees on an item: on an open question every comment that is not hidden
    and not waiting for approval, pinned first then newest first, each with its `likes`, whether this phone liked it
    (`liked_by_me`) and whether it is the phone's own (`mine`: no thumbs-up for those). Nothing
    on other items: a Ja/Nej item's comments reach the room only through the projector."""
    if item_id is None or snapshot(conn, meeting_id).by_id.get(item_id, {}).get("kind") != "prompt":
        return []
    rows = list(conn.execute(
        sa.select(_comments).where(_comments.c.meeting_id == meeting_id, _comments.c.item_id == item_id,
                                   _comments.c.hidden.is_(False), _comments.c.approved.is_(True))
        .order_by(_comments.c.pinned.desc(), _comments.c.created_at.desc(), _comments.c.id.desc())
    ))
    counts = like_counts(conn, meeting_id, item_id)
    liked = set(conn.execute(
        sa.select(_likes.c.comment_id).join(_comments, _comments.c.id == _likes.c.comment_id)
        .where(_likes.c.participant_id == participant_id, _comments.c.item_id == item_id,
               _comments.c.meeting_id == meeting_id)
    ).scalars())
    return [{**comment_payload(row, counts.get(row.id, 0)), "liked_by_me": row.id in liked,
             "mine": row.participant_id == participant_id} for row in rows]
