"""The sessions overview: every session the user may see (`shared.access`), filtered, sorted and
paged in SQL; the sessions page only translates it.

Participant, vote and comment counts come from one GROUP BY per table, joined to the session
rows, so the page costs the same few queries however many sessions there are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared.access import visible_meetings
from shared.models import Comment, Guide, HandCount, Meeting, Participant, User, Vote

#: ?sort= keys; a leading "-" sorts descending
SORT_KEYS = ("title", "guide", "unit", "facilitator", "date", "status", "participants", "votes", "comments")
DEFAULT_SORT = "-date"
#: sessions per page: a year of a whole organisation's dialogues must not make one huge page
PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    """The overview's GET parameters, parsed."""

    guide: str = ""
    unit: str = ""
    facilitator: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = DEFAULT_SORT
    page: int = 1

    @property
    def active(self) -> bool:
        """True when anything narrows the list."""
        return bool(self.guide or self.unit or self.facilitator or self.date_from or self.date_to)

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as URL parameters, with `changes` applied (for sort and page links)."""
        values = {"guide": self.guide, "unit": self.unit,
                  "facilitator": str(self.facilitator) if self.facilitator else "",
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "sort": self.sort,
                  "page": str(self.page) if self.page > 1 else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def parse_filters(args: Any, *, organiser: bool) -> Filters:
    """Read the filters from request args; unknown or malformed values are ignored."""
    sort = args.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in SORT_KEYS:
        sort = DEFAULT_SORT
    facilitator = args.get("facilitator", "")
    page = args.get("page", "1")
    return Filters(
        guide=args.get("guide", "")[:16],
        unit=args.get("unit", "")[:200],
        facilitator=int(facilitator) if organiser and facilitator.isdigit() else None,
        date_from=_date(args.get("from")),
        date_to=_date(args.get("to")),
        sort=sort,
        page=min(int(page), 100_000) if page.isdigit() and int(page) >= 1 else 1,
    )


def day_start(day: dt.date, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """Midnight in `tz` (the organisation's time zone) at the start of `day`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class Page:
    """One page of the overview."""

    rows: list[sa.Row]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """1-based position of the first row on this page."""
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """1-based position of the last row on this page."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def sessions(db: so.Session, user: User, filters: Filters, tz: dt.tzinfo = dt.UTC, *, size: int = PAGE_SIZE) -> Page:
    """One page of the overview: session columns, guide title, facilitator, and the three counts."""
    base = visible_meetings(user).subquery()
    m = so.aliased(Meeting, base)
    participants = (sa.select(Participant.meeting_id, sa.func.count().label("n"))
                    .group_by(Participant.meeting_id).subquery())
    votes = sa.select(Vote.meeting_id, sa.func.count().label("n")).group_by(Vote.meeting_id).subquery()
    # Counted hands are votes too (issue 11); a paper session's participants are the stated number.
    hands = sa.select(HandCount.meeting_id, sa.func.sum(HandCount.count).label("n")).group_by(
        HandCount.meeting_id).subquery()
    comments = (sa.select(Comment.meeting_id, sa.func.count().label("n"))
                .where(Comment.hidden.is_(False), Comment.approved.is_(True))
                .group_by(Comment.meeting_id).subquery())
    when = sa.func.coalesce(m.started_at, m.created_at)
    facilitator_name = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    columns = {
        "title": sa.func.lower(m.title), "guide": sa.func.lower(Guide.title), "unit": sa.func.lower(m.unit),
        "facilitator": sa.func.lower(facilitator_name), "date": when, "status": m.status,
        "participants": sa.case((m.entered_by_hand & m.stated_participants.is_not(None), m.stated_participants),
                                else_=sa.func.coalesce(participants.c.n, 0)),
        "votes": sa.func.coalesce(votes.c.n, 0) + sa.func.coalesce(hands.c.n, 0),
        "comments": sa.func.coalesce(comments.c.n, 0),
    }
    stmt = (
        sa.select(m.id, m.title, m.unit, m.code, m.status, m.facilitator_id, m.guide_id,
                  when.label("held_at"), Guide.title.label("guide_title"),
                  facilitator_name.label("facilitator"),
                  columns["participants"].label("participants"), columns["votes"].label("votes"),
                  columns["comments"].label("comments"), m.entered_by_hand, m.anonymised_at)
        .outerjoin(Guide, Guide.id == m.guide_id)
        .outerjoin(User, User.id == m.facilitator_id)
        .outerjoin(participants, participants.c.meeting_id == m.id)
        .outerjoin(votes, votes.c.meeting_id == m.id)
        .outerjoin(hands, hands.c.meeting_id == m.id)
        .outerjoin(comments, comments.c.meeting_id == m.id)
    )
    if filters.guide:
        stmt = stmt.where(m.guide_id == filters.guide)
    if filters.unit:
        stmt = stmt.where(m.unit == filters.unit)
    if filters.facilitator:
        stmt = stmt.where(m.facilitator_id == filters.facilitator)
    if filters.date_from:
        stmt = stmt.where(when >= day_start(filters.date_from, tz))
    if filters.date_to:
        stmt = stmt.where(when < day_start(filters.date_to + dt.timedelta(days=1), tz))
    key = filters.sort.lstrip("-")
    order = columns[key].desc() if filters.sort.startswith("-") else columns[key].asc()
    total = db.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    number = min(filters.page, max(1, -(-total // size)))
    rows = list(db.execute(stmt.order_by(order, when.desc(), m.id).limit(size).offset((number - 1) * size)))
    return Page(rows, total, number, size)


def unit_names(db: so.Session, user: User) -> list[str]:
    """The distinct, non-empty units of the sessions the user may see (for the unit filter)."""
    base = visible_meetings(user).subquery()
    return list(db.scalars(sa.select(base.c.unit).where(base.c.unit != "").distinct().order_by(base.c.unit)))


def facilitators(db: so.Session) -> list[User]:
    """Everyone who can run a session (for the organiser's facilitator filter)."""
    return list(db.scalars(sa.select(User).order_by(sa.func.lower(sa.func.coalesce(sa.func.nullif(User.name, ""),
                                                                                    User.email)))))
