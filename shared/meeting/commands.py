"""Meeting commands: every change of a session's data, with the rule that guards it.

Each command takes the `Work` of the caller's unit of work (shared/uow.py), runs its SQL on
`work.conn`, never commits, and records the events the room must hear about with `work.emit`;
the unit of work publishes them after the commit. Refusals raise `DialogrumError` with the
contract's code. Votes have their own lean path in `shared.meeting.votes`.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from shared.errors import DialogrumError
from shared.events import CommentAdded, ConclusionSaved, StateChanged
from shared.ids import MAX_INT, hash_token, new_code, random_id, unique_value
from shared.meeting.moderation import APPROVAL_ACTIONS, approval_default, approved_on_arrival, moderation_event
from shared.meeting.read import comment_payload, get_meeting, state
from shared.meeting.snapshot import snapshot
from shared.meeting.summary import ORDER_ACTIONS, SUMMARY_ACTIONS, control_values
from shared.meeting.timer import TIMER_ACTIONS, timer_action, timer_for_item
from shared.meeting.votes import check_rate
from shared.models import (
    Comment,
    Conclusion,
    Guide,
    JoinDisplay,
    Language,
    Meeting,
    MeetingStatus,
    Participant,
    utcnow,
)
from shared.ratelimit import COMMENT_LIMIT
from shared.text import clean, storable
from shared.uow import Work, unit_of_work

MAX_TITLE = 300
MAX_UNIT = 200
MAX_COMMENT = 1000
MAX_CONCLUSION = 10000
ACTIONS = ("start", "next", "prev", "goto", "open_voting", "close_voting", "show_results", "hide_results", "end",
           # Additive: the projector's QR code, address and code while live (in a corner by default).
           "show_join", "show_join_large", "hide_join",
           # Additive (issue 11): the facilitator's countdown, and whether new comments wait for approval.
           *TIMER_ACTIONS, *APPROVAL_ACTIONS,
           # Additive (issue 11): the closing summary on the projector, and the "top ideas" order.
           *SUMMARY_ACTIONS, *ORDER_ACTIONS)
#: what each of the additive join actions sets `join_display` to
JOIN_ACTIONS = {"show_join": JoinDisplay.CORNER, "show_join_large": JoinDisplay.LARGE, "hide_join": JoinDisplay.HIDDEN}

LANGUAGES = tuple(language.value for language in Language)

_meetings = Meeting.__table__
_comments = Comment.__table__
_participants = Participant.__table__
_conclusions = Conclusion.__table__
_guides = Guide.__table__


def create_meeting(work: Work, *, guide_id: object, title: object, unit: object = "",
                   facilitator_id: int | None, language: object = None, approve_comments: object = None) -> str:
    """Create a waiting session from a guide, snapshotting the guide; returns the session id.

    `language` is the meeting's (`sv`, `da` or `en`), which the projector and the phones that
    have not chosen one follow; None or "" gives the guide's. `approve_comments` (new comments wait
    for approval) defaults to the organiser's setting."""
    conn = work.conn
    if language not in (None, "") and language not in LANGUAGES:
        raise DialogrumError("invalid", "language must be one of " + ", ".join(LANGUAGES))
    if not isinstance(guide_id, str) or not guide_id:
        raise DialogrumError("invalid", "guide_id must be a guide's id")
    if not storable(guide_id):
        raise DialogrumError("not_found", "unknown guide")
    if not isinstance(title, str) or not title.strip():
        raise DialogrumError("invalid", "title must be a non-empty string")
    if unit is None:
        unit = ""
    if not isinstance(unit, str):
        raise DialogrumError("invalid", "unit must be a string")
    title, unit = clean(title), clean(unit)
    if not title:
        raise DialogrumError("invalid", "title must be a non-empty string")
    if len(title) > MAX_TITLE or len(unit) > MAX_UNIT:
        raise DialogrumError("invalid", "title or unit is too long")
    if approve_comments is None:
        approve_comments = approval_default(conn)
    if not isinstance(approve_comments, bool):
        raise DialogrumError("invalid", "approve_comments must be true or false")
    guide = conn.execute(sa.select(_guides).where(_guides.c.id == guide_id)).first()
    if guide is None:
        raise DialogrumError("not_found", "unknown guide")
    meeting_id = unique_value(conn, _meetings.c.id, random_id)
    conn.execute(
        _meetings.insert().values(
            id=meeting_id,
            code=unique_value(conn, _meetings.c.code, new_code),
            projector_key=secrets.token_urlsafe(24),
            title=title,
            unit=unit,
            guide_id=guide.id,
            guide_snapshot=guide.document,
            guide_version=guide.version,
            language=language or guide.language,
            facilitator_id=facilitator_id,
            status=MeetingStatus.WAITING,
            voting_open=False,
            voting_opened_items=[],
            shown_items=[],
            results_visible=False,
            join_display=JoinDisplay.CORNER,
            approve_comments=approve_comments,
            state_version=0,
            created_at=utcnow(),
        )
    )
    return meeting_id


def control(work: Work, meeting_id: object, action: object, index: object = None) -> dict[str, Any]:
    """Apply a facilitator's action; returns the state object after it (computed once).

    Moving to another item closes voting and hides results. An action that does not fit the
    state is refused with `wrong_state` (or `session_ended` after the end).
    """
    conn = work.conn
    if action not in ACTIONS:
        raise DialogrumError("invalid", "action must be one of " + ", ".join(ACTIONS))
    meeting = get_meeting(conn, meeting_id)
    snap = snapshot(conn, meeting.id)
    if meeting.status == MeetingStatus.ENDED:
        raise DialogrumError("session_ended")
    live = meeting.status == MeetingStatus.LIVE
    current = snap.items[meeting.position] if live and meeting.position is not None else None
    values: dict[str, Any] = {}

    def move_to(pos: int) -> None:
        values.update(position=pos, current_item_id=snap.items[pos]["id"], voting_open=False, results_visible=False,
                      **timer_for_item(snap.items[pos]))

    if action == "start":
        if meeting.status != MeetingStatus.WAITING:
            raise DialogrumError("wrong_state", "the session has already started")
        move_to(0)
        values.update(status=MeetingStatus.LIVE, started_at=utcnow())
    elif action == "end":
        values.update(status=MeetingStatus.ENDED, voting_open=False, ended_at=utcnow())
    elif action in JOIN_ACTIONS:  # while waiting too: it takes effect once the session is live
        if meeting.join_display == JOIN_ACTIONS[action]:
            raise DialogrumError("wrong_state", f"the join code is already {JOIN_ACTIONS[action]}")
        values["join_display"] = JOIN_ACTIONS[action]
    elif action in TIMER_ACTIONS:
        values.update(timer_action(meeting, action, utcnow()))
    elif action in APPROVAL_ACTIONS:  # while waiting too
        if bool(meeting.approve_comments) == APPROVAL_ACTIONS[action]:
            raise DialogrumError("wrong_state", f"approve_comments is already {str(APPROVAL_ACTIONS[action]).lower()}")
        values["approve_comments"] = APPROVAL_ACTIONS[action]
    elif not live:
        raise DialogrumError("wrong_state", "the session has not started")
    elif action == "next":
        if meeting.position + 1 >= len(snap.items):
            raise DialogrumError("wrong_state", "already at the last item")
        move_to(meeting.position + 1)
    elif action == "prev":
        if meeting.position == 0:
            raise DialogrumError("wrong_state", "already at the first item")
        move_to(meeting.position - 1)
    elif action == "goto":
        if isinstance(index, bool) or not isinstance(index, int):
            raise DialogrumError("invalid", "index must be an integer")
        if not 0 <= index < len(snap.items):
            raise DialogrumError("wrong_state", "index is outside the guide")
        if index == meeting.position:
            raise DialogrumError("wrong_state", "already at that item")
        move_to(index)
    elif action in SUMMARY_ACTIONS or action in ORDER_ACTIONS:
        values.update(control_values(meeting, snap, action, index))
    else:  # open_voting, close_voting, show_results, hide_results
        if current is None or current["kind"] != "consideration":
            raise DialogrumError("wrong_state", "only considerations are voted on")
        flag, wanted = {
            "open_voting": ("voting_open", True),
            "close_voting": ("voting_open", False),
            "show_results": ("results_visible", True),
            "hide_results": ("results_visible", False),
        }[action]
        if bool(getattr(meeting, flag)) == wanted:
            raise DialogrumError("wrong_state", f"{flag} is already {str(wanted).lower()}")
        values[flag] = wanted
        opened = list(meeting.voting_opened_items or ())
        if action == "open_voting" and current["id"] not in opened:
            values["voting_opened_items"] = [*opened, current["id"]]
    if "position" in values:  # which items the room ever saw: the report's "not reached" (issue 12, defect 7)
        shown = list(meeting.shown_items or ())
        if values["current_item_id"] not in shown:
            values["shown_items"] = [*shown, values["current_item_id"]]
    if "position" in values and meeting.summary_shown:  # moving on ends the closing summary
        values.update(summary_shown=False, summary_section=None)
    version = meeting.state_version + 1
    # The version guard makes two concurrent actions on the same state serialise: the loser
    # sees no row updated and is told to retry instead of silently overwriting.
    result = conn.execute(
        _meetings.update()
        .where(_meetings.c.id == meeting.id, _meetings.c.state_version == meeting.state_version)
        .values(state_version=version, **values)
    )
    if result.rowcount != 1:
        raise DialogrumError("conflict", "the session changed at the same time; try again")
    after = state(conn, SimpleNamespace(**{**meeting._asdict(), **values, "state_version": version}))
    work.emit(StateChanged(meeting.id, version, after))
    return after


#: Built once (every phone's connect runs them; see shared/meeting/read.py `_MEETING_BY_ID`).
_PARTICIPANT_BY_TOKEN = sa.select(_participants.c.id).where(
    _participants.c.token_hash == sa.bindparam("token_hash"), _participants.c.meeting_id == sa.bindparam("meeting_id"))
_NEW_PARTICIPANT = _participants.insert()


def admit(conn: sa.Connection, meeting: Any, token: object = None) -> tuple[str, str, dict | None]:
    """Who a phone joining `meeting` is, read only: (participant_id, token, row). `row` is the new
    participant's row to insert (None: the phone sent its token back and is that participant).

    The sockets insert the row together with the other phones connecting at the same moment
    (shared/presence.py `JoinCommit`); `join` inserts it at once."""
    if meeting.status == MeetingStatus.ENDED:
        raise DialogrumError("session_ended")
    if isinstance(token, str) and 16 <= len(token) <= 128:
        pid = conn.execute(_PARTICIPANT_BY_TOKEN, {"token_hash": hash_token(token), "meeting_id": meeting.id}).scalar()
        if pid is not None:
            return pid, token, None
    token = secrets.token_urlsafe(24)
    pid = random_id()
    return pid, token, {"id": pid, "meeting_id": meeting.id, "token_hash": hash_token(token), "created_at": utcnow()}


def join(work: Work, meeting: Any, token: object = None) -> tuple[str, str]:
    """Return (participant_id, token): the same participant when the phone sends its token back."""
    pid, token, row = admit(work.conn, meeting, token)
    if row is not None:
        work.conn.execute(_NEW_PARTICIPANT, row)
    return pid, token


def add_comment(work: Work, meeting_id: str, participant_id: str, item_id: object, text: object) -> dict:
    """Store a participant's comment on the current item; returns its wire form."""
    conn = work.conn
    if not isinstance(text, str):
        raise DialogrumError("empty")
    text = clean(text)
    if not text:
        raise DialogrumError("empty")
    if len(text) > MAX_COMMENT:
        raise DialogrumError("too_long")
    if not isinstance(item_id, str):
        raise DialogrumError("not_current_item")
    meeting = get_meeting(conn, meeting_id)
    if meeting.status != MeetingStatus.LIVE:
        raise DialogrumError("comments_closed" if meeting.status == MeetingStatus.ENDED else "not_current_item")
    if meeting.current_item_id != item_id:
        raise DialogrumError("not_current_item")
    if snapshot(conn, meeting_id).by_id[item_id]["kind"] == "info":
        raise DialogrumError("comments_closed")
    now = utcnow()
    approved = approved_on_arrival(meeting)  # else it waits for the facilitator (shared/meeting/moderation.py)
    comment_id = conn.execute(
        _comments.insert()
        .values(meeting_id=meeting_id, participant_id=participant_id, item_id=item_id, text=text, created_at=now,
                approved=approved)
        .returning(_comments.c.id)
    ).scalar_one()
    comment = {"id": comment_id, "item_id": item_id, "text": text, "created_at": now.isoformat(),
               "pinned": False, "hidden": False, "approved": approved, "likes": 0}
    work.emit(CommentAdded(meeting_id, comment))
    return comment


def post_comment(db: Any, meeting_id: str, participant_id: str, item_id: object, text: object, *,
                 limiter: Any = None) -> dict:
    """A participant's comment, as sockets take it: the rate limit first (with Redis a network
    round trip, which must not hold a pooled database connection), then `add_comment` in its
    own unit of work. Returns the comment after the commit."""
    check_rate(limiter, COMMENT_LIMIT, "comment", participant_id)
    with unit_of_work(db) as work:
        return add_comment(work, meeting_id, participant_id, item_id, text)


def moderate(work: Work, meeting_id: str, comment_id: object, *, hidden: object = None,
             pinned: object = None, approved: object = None) -> dict:
    """Hide/unhide, pin/unpin or approve (or send back to waiting) a comment; returns the comment
    after the change. Approving one that waited sends it to the room (shared/meeting/moderation.py)."""
    conn = work.conn
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise DialogrumError("invalid", "comment_id must be an integer")
    if not 0 < comment_id <= MAX_INT:  # no such row, and the database would refuse the number
        raise DialogrumError("unknown_comment")
    values = {}
    for name, value in (("hidden", hidden), ("pinned", pinned), ("approved", approved)):
        if value is not None:
            if not isinstance(value, bool):
                raise DialogrumError("invalid", f"{name} must be true or false")
            values[name] = value
    if not values:
        raise DialogrumError("invalid", "nothing to change: give hidden, pinned or approved")
    get_meeting(conn, meeting_id)
    was_approved = conn.execute(sa.select(_comments.c.approved).where(
        _comments.c.id == comment_id, _comments.c.meeting_id == meeting_id)).scalar()
    result = conn.execute(
        _comments.update().where(_comments.c.id == comment_id, _comments.c.meeting_id == meeting_id).values(**values)
    )
    if result.rowcount != 1:
        raise DialogrumError("unknown_comment")
    comment = comment_payload(conn.execute(sa.select(_comments).where(_comments.c.id == comment_id)).one())
    work.emit(moderation_event(meeting_id, bool(was_approved), comment))
    return comment


def set_conclusion(work: Work, meeting_id: str, item_id: object, text: object) -> dict:
    """Save (or clear, with an empty text) the group's conclusion on an item."""
    conn = work.conn
    get_meeting(conn, meeting_id)
    if not isinstance(item_id, str) or item_id not in snapshot(conn, meeting_id).by_id:
        raise DialogrumError("unknown_item")
    if not isinstance(text, str):
        raise DialogrumError("invalid", "text must be a string")
    text = clean(text)
    if len(text) > MAX_CONCLUSION:
        raise DialogrumError("too_long", f"at most {MAX_CONCLUSION} characters")
    where = (_conclusions.c.meeting_id == meeting_id, _conclusions.c.item_id == item_id)
    conn.execute(_conclusions.delete().where(*where))
    if text:
        conn.execute(_conclusions.insert().values(meeting_id=meeting_id, item_id=item_id, text=text,
                                                  updated_at=utcnow()))
    saved = {"item_id": item_id, "text": text}
    work.emit(ConclusionSaved(meeting_id, saved))
    return saved
