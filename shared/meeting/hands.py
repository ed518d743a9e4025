"""Results entered by hand (issue 11, section 1): counted hands in a live meeting, and dialogues
held on paper recorded after the fact.

Both store counted hands in `hand_counts`, one row per item and choice, apart from the phones'
votes; `shared.meeting.read.counts` is the one reader that sums the two, so every report, export,
roll-up and screen gets the same totals with the split beside them.

The rules for a count: a whole number from 0 to `MAX_COUNT`; the hands on one item, all choices
summed, never more than the stated participants where they were given (one person raises one hand
per question). Refusals name every wrong place at once (`CountsError`) and change nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import gettext

from shared import guides
from shared.errors import DialogrumError
from shared.events import VotesChanged
from shared.ids import hash_token, new_code, random_id, unique_value
from shared.meeting.commands import LANGUAGES, MAX_COMMENT, MAX_CONCLUSION, MAX_TITLE, MAX_UNIT
from shared.meeting.read import get_meeting
from shared.meeting.snapshot import snapshot
from shared.models import (
    Comment,
    Conclusion,
    Guide,
    HandCount,
    JoinDisplay,
    Meeting,
    MeetingStatus,
    Participant,
    utcnow,
)
from shared.text import clean, storable
from shared.uow import Work

#: more hands than any room holds: a typing slip, not a count
MAX_COUNT = 100_000
#: at most this many comments typed in from one item's paper
MAX_PAPER_COMMENTS = 200
#: the earliest day a paper dialogue may say it took place
EARLIEST = dt.date(2000, 1, 1)

_hands = HandCount.__table__
_meetings = Meeting.__table__
_guides = Guide.__table__
_participants = Participant.__table__
_comments = Comment.__table__
_conclusions = Conclusion.__table__


class CountsError(DialogrumError):
    """Refused input with every wrong place: `errors` is `[(place, kind, params)]`, where `kind` is
    one of `whole_number`, `too_big`, `too_many_hands`, `bad_date`, `required`, `too_long`,
    `unknown_choice`. `messages()` translates them into the request's language."""

    def __init__(self, errors: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.errors = errors
        super().__init__("invalid_count", "; ".join(f"{p}: {describe(k, v)}" for p, k, v in errors))

    def messages(self) -> list[dict[str, str]]:
        """`[{place, message}]` in the request's language."""
        return [{"place": p, "message": describe(k, v)} for p, k, v in self.errors]


def describe(kind: str, params: dict[str, Any]) -> str:
    """One refusal in words, in the request's language (English without a request)."""
    tr = gettext if has_request_context() else (lambda text, **kw: text % kw if kw else text)
    texts = {
        "whole_number": lambda: tr("Enter a whole number, 0 or more."),
        "too_big": lambda: tr("At most %(max)s.", max=MAX_COUNT),
        "too_many_hands": lambda: tr("The hands on this item add up to %(sum)s, more than the %(n)s who took "
                                     "part.", sum=params.get("sum"), n=params.get("n")),
        "bad_date": lambda: tr("Enter the day the dialogue was held (not in the future)."),
        "required": lambda: tr("This field is required."),
        "too_long": lambda: tr("The text is too long."),
        "unknown_choice": lambda: tr("This is not one of the choices."),
    }
    return texts.get(kind, lambda: kind)()


def whole(value: object) -> int | None:
    """A count as sent: an int, or a string of digits from a form; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    return None


def check_counts(place: str, choices: list[str], raw: object, stated: int | None,
                 errors: list[tuple[str, str, dict[str, Any]]]) -> dict[str, int]:
    """The counts of one item checked: `{choice: n}` for the choices given (a blank is not
    counted); wrong ones are added to `errors`."""
    if not isinstance(raw, dict):
        errors.append((place, "whole_number", {}))
        return {}
    out: dict[str, int] = {}
    for choice, value in raw.items():
        if choice not in choices:
            errors.append((f"{place}.{choice}" if storable(choice) else place, "unknown_choice", {}))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        n = whole(value)
        if n is None or n < 0:
            errors.append((f"{place}.{choice}", "whole_number", {}))
        elif n > MAX_COUNT:
            errors.append((f"{place}.{choice}", "too_big", {}))
        else:
            out[choice] = n
    total = sum(out.values())
    if stated is not None and total > stated:
        errors.append((place, "too_many_hands", {"sum": total, "n": stated}))
    return out


def hand_counts(conn: sa.Connection, meeting_id: str) -> dict[str, dict[str, int]]:
    """The counted hands of a session: `{item_id: {choice: n}}`, only what was counted."""
    out: dict[str, dict[str, int]] = {}
    for item_id, choice, n in conn.execute(
        sa.select(_hands.c.item_id, _hands.c.choice, _hands.c.count).where(_hands.c.meeting_id == meeting_id)
    ):
        out.setdefault(item_id, {})[str(choice)] = n
    return out


def _store(conn: sa.Connection, meeting_id: str, item_id: str, counts: dict[str, int]) -> None:
    conn.execute(_hands.delete().where(_hands.c.meeting_id == meeting_id, _hands.c.item_id == item_id))
    now = utcnow()
    for choice, n in counts.items():
        conn.execute(_hands.insert().values(meeting_id=meeting_id, item_id=item_id, choice=choice, count=n,
                                            updated_at=now))


def set_hands(work: Work, meeting_id: object, item_id: object, counts: object) -> dict[str, Any]:
    """Set the counted hands of one item (every choice at once; a choice left out or blank is not
    counted, `{}` clears them). Open while the session is waiting or live, and on a session entered
    by hand at any time; refused with `session_ended` once a live session ended. The item's
    `results` follow after the commit, as for a vote. Returns `{item_id, hands}`."""
    conn = work.conn
    meeting = get_meeting(conn, meeting_id)
    if meeting.status == MeetingStatus.ENDED and not meeting.entered_by_hand:
        raise DialogrumError("session_ended")
    item = snapshot(conn, meeting.id).by_id.get(item_id) if isinstance(item_id, str) else None
    if item is None:
        raise DialogrumError("unknown_item")
    if not item["choices"]:
        raise DialogrumError("no_choices")
    errors: list[tuple[str, str, dict[str, Any]]] = []
    checked = check_counts("counts", list(item["choices"]), counts, meeting.stated_participants, errors)
    if errors:
        raise CountsError(errors)
    _store(conn, meeting.id, item["id"], checked)
    work.emit(VotesChanged(meeting.id, item["id"]))
    return {"item_id": item["id"], "hands": checked}


def create_paper_session(work: Work, *, guide_id: object, held_on: object, unit: object, participants: object,
                         items: object, facilitator_id: int | None, title: object = None) -> str:
    """Record a dialogue held on paper as an ended session marked `entered_by_hand`; returns its id.

    `items` is `{item_id: {"counts": {choice: n}, "conclusion": str, "comments": [str]}}` (any
    part may be left out). Every wrong place is refused at once (`CountsError`), and nothing is
    stored then. Its comments need a participant row: the session gets one anonymous participant
    whose token is never handed out, and reports count the stated participants instead."""
    conn = work.conn
    if not isinstance(guide_id, str) or not storable(guide_id):
        raise DialogrumError("not_found", "unknown guide")
    guide = conn.execute(sa.select(_guides).where(_guides.c.id == guide_id)).first()
    if guide is None:
        raise DialogrumError("not_found", "unknown guide")
    errors: list[tuple[str, str, dict[str, Any]]] = []
    day = _day(held_on)
    if day is None:
        errors.append(("held_on", "bad_date", {}))
    stated = whole(participants) if participants not in (None, "") else None
    if participants in (None, ""):
        errors.append(("participants", "required", {}))
    elif stated is None or stated < 0:
        errors.append(("participants", "whole_number", {}))
    elif stated > MAX_COUNT:
        errors.append(("participants", "too_big", {}))
        stated = None
    unit = clean(unit) if isinstance(unit, str) else ""
    if len(unit) > MAX_UNIT:
        errors.append(("unit", "too_long", {}))
    title = clean(title) if isinstance(title, str) else ""
    title = title or guide.title
    if len(title) > MAX_TITLE:
        errors.append(("title", "too_long", {}))
    by_id = {i["id"]: i for i in guides.flatten(guide.document)}
    given = items if isinstance(items, dict) else {}
    counts: dict[str, dict[str, int]] = {}
    texts: dict[str, tuple[str, list[str]]] = {}
    for item_id, entry in given.items():
        item = by_id.get(item_id)
        if item is None or not isinstance(entry, dict):
            raise DialogrumError("unknown_item")
        place = f"items.{item_id}"
        if entry.get("counts"):
            if not item["choices"]:
                errors.append((f"{place}.counts", "unknown_choice", {}))
            else:
                counts[item_id] = check_counts(f"{place}.counts", list(item["choices"]), entry["counts"],
                                               stated, errors)
        conclusion = clean(entry.get("conclusion")) if isinstance(entry.get("conclusion"), str) else ""
        if len(conclusion) > MAX_CONCLUSION:
            errors.append((f"{place}.conclusion", "too_long", {}))
        raw_comments = entry.get("comments") or []
        comments = [clean(c) for c in raw_comments if isinstance(c, str)] if isinstance(raw_comments, list) else []
        comments = [c for c in comments if c]
        if any(len(c) > MAX_COMMENT for c in comments) or len(comments) > MAX_PAPER_COMMENTS:
            errors.append((f"{place}.comments", "too_long", {}))
        texts[item_id] = (conclusion, comments)
    if errors:
        raise CountsError(errors)
    assert day is not None
    # Noon UTC is the same calendar day in every time zone a report is read in around here.
    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    meeting_id = unique_value(conn, _meetings.c.id, random_id)
    conn.execute(_meetings.insert().values(
        id=meeting_id, code=unique_value(conn, _meetings.c.code, new_code),
        projector_key=secrets.token_urlsafe(24), title=title, unit=unit, guide_id=guide.id,
        guide_snapshot=guide.document, language=guide.language if guide.language in LANGUAGES else None,
        facilitator_id=facilitator_id, status=MeetingStatus.ENDED, voting_open=False, voting_opened_items=[],
        results_visible=False, join_display=JoinDisplay.HIDDEN, state_version=0, created_at=utcnow(),
        started_at=when, ended_at=when, entered_by_hand=True, held_on=day, stated_participants=stated,
    ))
    for item_id, checked in counts.items():
        _store(conn, meeting_id, item_id, checked)
    writer = None
    now = utcnow()
    for item_id, (conclusion, comments) in texts.items():
        if conclusion:
            conn.execute(_conclusions.insert().values(meeting_id=meeting_id, item_id=item_id, text=conclusion,
                                                      updated_at=now))
        if comments and writer is None:
            writer = random_id()
            conn.execute(_participants.insert().values(id=writer, meeting_id=meeting_id,
                                                       token_hash=hash_token(secrets.token_urlsafe(24)),
                                                       created_at=now))
        for text in comments:
            conn.execute(_comments.insert().values(meeting_id=meeting_id, participant_id=writer, item_id=item_id,
                                                   text=text, created_at=now))
    return meeting_id


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, dt.date):
        return None
    # A day ahead of UTC is still today somewhere east of it.
    if value < EARLIEST or value > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        return None
    return value

