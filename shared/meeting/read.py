"""Read models of a session: its row, the state object, counts, comments, conclusions, results.

Everything here only reads. The serialisers of the wire payloads (`state`, `comment`, the JSON
export) live here once, so sockets, REST and pages send the same shapes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared import guides
from shared.errors import DialogrumError
from shared.ids import normalise_code
from shared.meeting.snapshot import snapshot
from shared.meeting.timer import timer_state
from shared.models import CHOICES, Comment, CommentLike, Conclusion, HandCount, Meeting, Participant, Vote, utcnow
from shared.presence import participant_count
from shared.text import storable

_meetings = Meeting.__table__
_votes = Vote.__table__
_comments = Comment.__table__
_participants = Participant.__table__
_conclusions = Conclusion.__table__
_hands = HandCount.__table__
_likes = CommentLike.__table__
#: A meeting row without its guide snapshot: rows are read on every connect and every state
#: change, and the snapshot (parsed JSON) is only ever needed through the `snapshot()` cache.
MEETING_COLUMNS = tuple(c for c in _meetings.c if c.name != "guide_snapshot")
#: Built once and executed with bound parameters: a wide SELECT built on every call costs
#: SQLAlchemy a new statement and cache key each time, which a hall connecting at once pays a
#: thousand times over (issue 14's connect storm, profiled with py-spy).
_MEETING_BY_ID = sa.select(*MEETING_COLUMNS).where(_meetings.c.id == sa.bindparam("meeting_id"))
_MEETING_BY_CODE = sa.select(*MEETING_COLUMNS).where(_meetings.c.code == sa.bindparam("code"))
#: What a phone's connect needs of its session: the whole row (its JSON settings and timestamps
#: decoded, a tenth of a hall's connect storm) only when the tick's shared state is computed.
JOIN_COLUMNS = (_meetings.c.id, _meetings.c.status, _meetings.c.state_version)
_JOIN_BY_CODE = sa.select(*JOIN_COLUMNS).where(_meetings.c.code == sa.bindparam("code"))


def get_meeting(conn: sa.Connection, meeting_id: object) -> sa.Row:
    """The meeting row, or `unknown_session`."""
    if not storable(meeting_id):  # not a str, or a NUL or lone surrogate no query can carry
        raise DialogrumError("unknown_session")
    row = conn.execute(_MEETING_BY_ID, {"meeting_id": meeting_id}).first()
    if row is None:
        raise DialogrumError("unknown_session")
    return row


def meeting_rows(conn: sa.Connection, meeting_ids: list[str]) -> list[sa.Row]:
    """The rows of several meetings (those that still exist)."""
    return list(conn.execute(sa.select(*MEETING_COLUMNS).where(_meetings.c.id.in_(meeting_ids))))


_VERSIONS = sa.select(_meetings.c.id, _meetings.c.state_version).where(
    _meetings.c.id.in_(sa.bindparam("ids", expanding=True)))


def state_versions(conn: sa.Connection, meeting_ids: list[str]) -> dict[str, int]:
    """{meeting id: state version} of the meetings that still exist: what each process polls
    every tick to notice a step taken in another process, two narrow columns instead of the row."""
    return dict(conn.execute(_VERSIONS, {"ids": meeting_ids}).all())


def find_by_code(conn: sa.Connection, raw_code: object, *, narrow: bool = False) -> sa.Row | None:
    """The meeting with this join code (any case, spaces and dashes ignored); `narrow`: only its
    `JOIN_COLUMNS`."""
    code = normalise_code(raw_code)
    if code is None:
        return None
    return conn.execute(_JOIN_BY_CODE if narrow else _MEETING_BY_CODE, {"code": code}).first()


def find_by_projector_key(conn: sa.Connection, key: object) -> sa.Row | None:
    """The meeting whose projector key this is."""
    if not storable(key) or not key or len(key) > 64:
        return None
    return conn.execute(sa.select(*MEETING_COLUMNS).where(_meetings.c.projector_key == key)).first()


# ---------------------------------------------------------------------------------------------
# State


def public_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The contract's `item` of the state object."""
    if item is None:
        return None
    return {
        "id": item["id"],
        "kind": item["kind"],
        "title": item["title"],
        "text": item["text"],
        "choices": list(item["choices"]),
        "section": dict(item["section"]),
    }


def meeting_language(meeting: Any, snap: Any) -> str:
    """The meeting's language (contract v1.1): the one it was made with, else its guide's."""
    return str(getattr(meeting, "language", None) or snap.language)


def state(conn: sa.Connection, meeting: Any, *, participants: int | None = None) -> dict[str, Any]:
    """The contract's state object for a meeting row."""
    snap = snapshot(conn, meeting.id)
    item = snap.items[meeting.position] if meeting.position is not None and meeting.status != "waiting" else None
    if participants is None:
        participants = participant_count(conn, meeting.id)
    return {
        "session": {"id": meeting.id, "code": meeting.code, "title": meeting.title, "status": meeting.status},
        # The index stays an integer (0) while waiting, as in the contract's example; `item` is null.
        "position": {"index": meeting.position if item is not None else 0, "count": len(snap.items)},
        "item": public_item(item),
        "voting_open": bool(meeting.voting_open),
        "results_visible": bool(meeting.results_visible),
        "participants": participants,
        # Additive fields: whether voting was ever opened on the current item (screens say "Voting
        # opens soon" before and "Voting is closed" after), the vote labels in the guide's
        # language, and the state's version.
        "voting_opened": item is not None and item["id"] in (meeting.voting_opened_items or ()),
        # Additive: how the projector shows the QR code, address and code while live.
        "join_display": str(meeting.join_display or "corner"),
        # Additive (issue 11): how the console and the projector order an open question's comments
        # ("likes" is the top ideas), and the closing summary on the projector: null, or
        # {"section": its index, or null for the whole guide} (shared/meeting/summary.py).
        "comment_order": "likes" if getattr(meeting, "comments_by_likes", False) else "newest",
        "summary": {"section": meeting.summary_section} if getattr(meeting, "summary_shown", False) else None,
        "language": snap.language,
        "labels": dict(guides.VOTE_LABELS.get(snap.language, guides.VOTE_LABELS["en"])),
        "version": meeting.state_version,
        # Additive (issue 11): the current item's countdown as of now on the server's clock, and
        # whether new comments wait for the facilitator's approval.
        "timer": timer_state(meeting, utcnow()),
        "approve_comments": bool(getattr(meeting, "approve_comments", False)),
    }


NOBODY = {"vote": None, "comments": 0}


def me(conn: sa.Connection, meeting_id: str, participant_id: str, item_id: str | None) -> dict[str, Any]:
    """The participant's own vote and comment count on an item (the `me` of a state)."""
    if item_id is None:
        return dict(NOBODY)
    vote = conn.execute(
        sa.select(_votes.c.choice).where(_votes.c.participant_id == participant_id, _votes.c.item_id == item_id)
    ).scalar()
    comments = conn.execute(
        sa.select(sa.func.count())
        .select_from(_comments)
        .where(_comments.c.participant_id == participant_id, _comments.c.item_id == item_id)
    ).scalar_one()
    return {"vote": vote, "comments": comments}


def me_for_all(conn: sa.Connection, meeting_id: str, item_id: str | None) -> dict[str, dict[str, Any]]:
    """`me` for every participant of a session that voted or commented on the item (two queries)."""
    out: dict[str, dict[str, Any]] = {}
    if item_id is None:
        return out
    for pid, choice in conn.execute(
        sa.select(_votes.c.participant_id, _votes.c.choice).where(
            _votes.c.meeting_id == meeting_id, _votes.c.item_id == item_id
        )
    ):
        out[pid] = {"vote": choice, "comments": 0}
    for pid, n in conn.execute(
        sa.select(_comments.c.participant_id, sa.func.count())
        .where(_comments.c.meeting_id == meeting_id, _comments.c.item_id == item_id)
        .group_by(_comments.c.participant_id)
    ):
        out.setdefault(pid, dict(NOBODY))["comments"] = n
    return out


# ---------------------------------------------------------------------------------------------
# Counts, comments, conclusions


#: the keys of counted hands in a counts dict, one per choice (issue 11): `hands_yes` of `yes`
HAND_KEYS = {choice: f"hands_{choice}" for choice in CHOICES}


def empty_counts() -> dict[str, int]:
    """Counts of an item nobody voted on."""
    return {**dict.fromkeys(CHOICES, 0), "voters": 0, **dict.fromkeys(HAND_KEYS.values(), 0)}


def counts(conn: sa.Connection, meeting_id: str, item_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
    """The one source of an item's counts, phone votes and counted hands summed, with one query:
    {item_id: {"yes", "no", "unsure", "voters", "hands_yes", "hands_no", "hands_unsure"}}.

    `yes`/`no`/`unsure` and `voters` are the totals (a counted hand is a voter); `hands_<choice>`
    is the part of each that was counted by hand (shared/meeting/hands.py), so the phones' part is
    the difference. Every report, export, roll-up and screen reads counts here."""
    votes = sa.select(_votes.c.item_id, _votes.c.choice, sa.func.count().label("n"),
                      sa.literal(0).label("hand")).where(_votes.c.meeting_id == meeting_id)
    hands = sa.select(_hands.c.item_id, _hands.c.choice, _hands.c.count, sa.literal(1)).where(
        _hands.c.meeting_id == meeting_id)
    if item_ids is not None:
        votes = votes.where(_votes.c.item_id.in_(item_ids))
        hands = hands.where(_hands.c.item_id.in_(item_ids))
    out: dict[str, dict[str, int]] = {i: empty_counts() for i in item_ids or ()}
    stmt = sa.union_all(votes.group_by(_votes.c.item_id, _votes.c.choice), hands)
    for item_id, choice, n, hand in conn.execute(stmt):
        c = out.setdefault(item_id, empty_counts())
        c[choice] += n
        c["voters"] += n
        if hand:
            c[HAND_KEYS[choice]] += n
    return out


def hands_of(item_counts: dict[str, int]) -> dict[str, int]:
    """The counted hands per choice of one item's counts (0 where none were counted)."""
    return {choice: item_counts[key] for choice, key in HAND_KEYS.items()}


def results_payload(item_id: str, item_counts: dict[str, int], participants: int) -> dict[str, Any]:
    """The `results` event of one item; additive `hands`: the counted hands within `counts`."""
    return {"item_id": item_id, "counts": {k: item_counts[k] for k in CHOICES}, "voters": item_counts["voters"],
            "participants": participants, "hands": hands_of(item_counts)}


def voters_payload(results: dict[str, Any]) -> dict[str, Any]:
    """The additive `voters` event of one item: how many voted, never how (a `results` without
    its counts), for the projector while results are hidden."""
    # The projector says "N of M phones have voted": the phones only, never the counted hands.
    hands = sum(results.get("hands", {}).values())
    return {"item_id": results["item_id"], "voters": results["voters"] - hands, "participants": results["participants"]}


def comment_payload(row: Any, likes: int = 0) -> dict[str, Any]:
    """The wire form of a comment (the contract's fields plus `pinned`, `hidden` and, additive,
    `likes`: how many phones gave it a thumbs-up)."""
    return {
        "id": row.id,
        "item_id": row.item_id,
        "text": row.text,
        "created_at": row.created_at.isoformat(),
        "pinned": bool(row.pinned),
        "hidden": bool(row.hidden),
        # Additive: false while it waits for a facilitator's approval (never sent to the room then).
        "approved": bool(row.approved),
        "likes": likes,
    }


def like_counts(conn: sa.Connection, meeting_id: str, item_id: str | None = None) -> dict[int, int]:
    """Thumbs-up per comment of a session (or of one item), with one GROUP BY: {comment_id: n};
    comments nobody liked are left out."""
    stmt = (sa.select(_likes.c.comment_id, sa.func.count()).join(_comments, _comments.c.id == _likes.c.comment_id)
            .where(_comments.c.meeting_id == meeting_id))
    if item_id is not None:
        stmt = stmt.where(_comments.c.item_id == item_id)
    return dict(conn.execute(stmt.group_by(_likes.c.comment_id)).all())


def comments_for(conn: sa.Connection, meeting_id: str, item_id: str | None, *, include_hidden: bool) -> list[dict]:
    """Comments on an item, pinned first then newest first; without `include_hidden`, only those
    the room may see (not hidden, not waiting for approval)."""
    if item_id is None:
        return []
    stmt = sa.select(_comments).where(_comments.c.meeting_id == meeting_id, _comments.c.item_id == item_id)
    if not include_hidden:
        stmt = stmt.where(_comments.c.hidden.is_(False), _comments.c.approved.is_(True))
    stmt = stmt.order_by(_comments.c.pinned.desc(), _comments.c.created_at.desc(), _comments.c.id.desc())
    likes = like_counts(conn, meeting_id, item_id)
    return [comment_payload(r, likes.get(r.id, 0)) for r in conn.execute(stmt)]


def comments_by_id(conn: sa.Connection, meeting_id: str, ids: list[int]) -> list[dict]:
    """The comments of a session with these ids as they are now (hidden or not), oldest first."""
    if not ids:
        return []
    stmt = (sa.select(_comments).where(_comments.c.meeting_id == meeting_id, _comments.c.id.in_(ids))
            .order_by(_comments.c.created_at, _comments.c.id))
    rows = conn.execute(stmt).all()
    items = {r.item_id for r in rows}
    likes = like_counts(conn, meeting_id, items.pop()) if len(items) == 1 else like_counts(conn, meeting_id)
    return [comment_payload(r, likes.get(r.id, 0)) for r in rows]


def conclusions(conn: sa.Connection, meeting_id: str) -> dict[str, str]:
    """The conclusions of a session by item id."""
    return dict(conn.execute(sa.select(_conclusions.c.item_id, _conclusions.c.text)
                             .where(_conclusions.c.meeting_id == meeting_id)).all())


# ---------------------------------------------------------------------------------------------
# Results


def results(conn: sa.Connection, meeting_id: str, *, facilitator_name: str | None = None) -> dict[str, Any]:
    """The contract's JSON export of one session, with a few additive fields for reports."""
    meeting = get_meeting(conn, meeting_id)
    snap = snapshot(conn, meeting_id)
    all_counts = counts(conn, meeting_id)
    texts = conclusions(conn, meeting_id)
    likes = like_counts(conn, meeting_id)
    by_item: dict[str, list[dict]] = {}
    for row in conn.execute(
        sa.select(_comments).where(_comments.c.meeting_id == meeting_id)
        .order_by(_comments.c.created_at, _comments.c.id)
    ):
        by_item.setdefault(row.item_id, []).append(comment_payload(row, likes.get(row.id, 0)))
    participants_total = conn.execute(
        sa.select(sa.func.count()).select_from(_participants).where(_participants.c.meeting_id == meeting_id)
    ).scalar_one()
    items = []
    for item in snap.items:
        c = all_counts.get(item["id"], empty_counts())
        items.append({
            "id": item["id"],
            "index": item["index"],
            "kind": item["kind"],
            "title": item["title"],
            "section": dict(item["section"]),
            "text": item["text"],
            "choices": list(item["choices"]),
            "counts": {k: c[k] for k in CHOICES},
            "voters": c["voters"],
            "hands": hands_of(c),
            "comments": by_item.get(item["id"], []),
            "conclusion": texts.get(item["id"]),
        })
    return {
        "session": {
            "id": meeting.id,
            "code": meeting.code,
            "title": meeting.title,
            "unit": meeting.unit,
            "status": meeting.status,
            "guide_id": meeting.guide_id,
            "guide_title": snap.title,
            "language": snap.language,
            "created_at": meeting.created_at.isoformat(),
            "started_at": meeting.started_at.isoformat() if meeting.started_at else None,
            "ended_at": meeting.ended_at.isoformat() if meeting.ended_at else None,
            "facilitator": facilitator_name,
            # A paper session's anonymous comment writer is no participant: its stated number is.
            "participants": meeting.stated_participants if meeting.entered_by_hand and
            meeting.stated_participants is not None else participants_total,
            "entered_by_hand": bool(meeting.entered_by_hand),
            "held_on": meeting.held_on.isoformat() if meeting.held_on else None,
        },
        "items": items,
    }
