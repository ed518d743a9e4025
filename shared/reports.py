"""The reads behind the results pages: one session's results and printable report, what deleting a
session removes, a guide's roll-up page (filters, unit choices, public links) and the published
roll-up that anyone with its link may read.

Pages, the REST API and the CLI call these and only translate; who sees which session is
`shared.access`, the roll-up arithmetic `shared.rollup`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from shared import access, organiser
from shared import meeting as rules
from shared.meeting.summary import summary
from shared.models import Comment, Guide, Meeting, Participant, PublicRollup, User, Vote
from shared.overview import day_start
from shared.rollup import rollup

# -- one session -------------------------------------------------------------------------------


def facilitator_name(meeting: Meeting) -> str | None:
    """The name (or e-mail) of the session's facilitator, as exports print it."""
    return (meeting.facilitator.name or meeting.facilitator.email) if meeting.facilitator else None


def session_results(db: so.Session, meeting: Meeting) -> dict[str, Any]:
    """The contract's JSON export of one session: what `/results` answers and every file holds."""
    return rules.results(db.connection(), meeting.id, facilitator_name=facilitator_name(meeting))


def session_report(db: so.Session, meeting: Meeting) -> dict[str, Any]:
    """The results for the printed report: hidden comments and those still waiting for approval
    left out, pinned ones first, then in the order written."""
    data = session_results(db, meeting)
    for item in data["items"]:
        visible = [c for c in item["comments"] if not c["hidden"] and c.get("approved", True)]
        item["comments"] = sorted(visible, key=lambda c: not c["pinned"])
    # The closing summary of each section ("Samlet refleksion", issue 11, section 5), by its index:
    # the same read model the projector shows.
    data["summary"] = {part["index"]: part for part in summary(db.connection(), meeting.id)["sections"]}
    # Not reached (issue 12, defect 7): an item the session never showed, so the report can say so
    # rather than print "0 votes" like an item the room discussed and did not vote on. Sessions held
    # before `shown_items` was recorded (null) go by the considerations voting was opened on. A
    # session entered by hand has no live meeting to go by: its items count as reached.
    shown = meeting.shown_items
    opened = set(meeting.voting_opened_items or ())
    for item in data["items"]:
        if meeting.entered_by_hand or item.get("voters", 0) > 0 or item["comments"] or item.get("conclusion"):
            item["reached"] = True
        elif shown is not None:
            item["reached"] = item["id"] in shown
        else:
            item["reached"] = item["kind"] != "consideration" or item["id"] in opened
    return data


def deletion_counts(db: so.Session, meeting_id: str) -> dict[str, int]:
    """What deleting the session removes: participants, votes and comments."""
    return {name: db.scalar(sa.select(sa.func.count()).select_from(model).where(model.meeting_id == meeting_id)) or 0
            for name, model in (("participants", Participant), ("votes", Vote), ("comments", Comment))}


# -- one guide across sessions -----------------------------------------------------------------


@dataclass(frozen=True)
class RollupFilters:
    """The roll-up's filters: a unit and a range of days (both ends included)."""

    unit: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def since(self, tz: dt.tzinfo) -> dt.datetime | None:
        """The first instant counted: midnight in `tz` of the first day."""
        return day_start(self.date_from, tz) if self.date_from else None

    def until(self, tz: dt.tzinfo) -> dt.datetime | None:
        """The first instant no longer counted: midnight in `tz` after the last day."""
        return day_start(self.date_to + dt.timedelta(days=1), tz) if self.date_to else None

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (for download links and "show all")."""
        values = {"unit": self.unit or "", "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


def parse_rollup_filters(args: Any) -> RollupFilters:
    """Read unit, from and to (YYYY-MM-DD) from request args; malformed days are ignored."""

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(args.get(name, "")) if args.get(name) else None
        except ValueError:
            return None

    return RollupFilters(unit=args.get("unit", "")[:200] or None, date_from=day("from"), date_to=day("to"))


def guide_rollup(db: so.Session, guide: Guide, user: Any, filters: RollupFilters,
                 tz: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    """The roll-up of `guide` over the sessions `user` may see, narrowed by `filters`."""
    return rollup(db, guide, user, unit=filters.unit, since=filters.since(tz), until=filters.until(tz))


def rollup_units(db: so.Session, guide_id: str, user: User) -> list[str]:
    """The units of the guide's sessions the user may see (the roll-up's unit filter)."""
    stmt = access.visible(sa.select(Meeting.unit).where(Meeting.guide_id == guide_id, Meeting.unit != ""), user)
    return list(db.scalars(stmt.distinct().order_by(Meeting.unit)))


def public_links(db: so.Session, guide_id: str) -> list[PublicRollup]:
    """The guide's public links, live ones first, newest first."""
    return list(db.scalars(sa.select(PublicRollup).where(PublicRollup.guide_id == guide_id)
                           .order_by(PublicRollup.revoked_at.is_not(None), PublicRollup.created_at.desc())))


def public_link(db: so.Session, guide_id: str, link_id: int) -> PublicRollup | None:
    """One public link of the guide (revoked or not), or None."""
    link = db.get(PublicRollup, link_id)
    return link if link is not None and link.guide_id == guide_id else None


# -- the roll-ups' index -----------------------------------------------------------------------


def rollup_index(db: so.Session, user: User) -> list[dict[str, Any]]:
    """Every guide in the library (archived ones too: their sessions still add up) with how many of
    its sessions `user` may see and when the latest started: the list the main navigation's
    roll-up entry opens (issue 12, gap 10). A guide without sessions is listed all the same."""
    seen = access.visible_meetings(user).subquery()
    rows = db.execute(sa.select(seen.c.guide_id, sa.func.count(), sa.func.max(seen.c.started_at))
                      .where(seen.c.guide_id.is_not(None)).group_by(seen.c.guide_id)).all()
    figures = {guide_id: (n, latest) for guide_id, n, latest in rows}
    guides = db.scalars(sa.select(Guide).order_by(Guide.archived_at.is_not(None), Guide.builtin_key.is_(None),
                                                  Guide.title))
    return [{"guide": g, "sessions": figures.get(g.id, (0, None))[0], "latest": figures.get(g.id, (0, None))[1]}
            for g in guides]


# -- the published roll-up ---------------------------------------------------------------------


def published_rollup(db: so.Session, link: PublicRollup) -> dict[str, Any]:
    """What a public link shows: the guide, its results per unit over the *ended* sessions (a
    meeting in progress is not shown to the world half-way), and the visible comment texts per
    item when the link includes them. No participant data, no comment ids or times."""
    guide = db.get(Guide, link.guide_id)
    data = rollup(db, guide, access.EVERYONE)
    ended = set(db.scalars(sa.select(Meeting.id).where(Meeting.guide_id == guide.id, Meeting.status == "ended")))
    data["sessions"] = [s for s in data["sessions"] if s["id"] in ended]
    comments = public_comments(db, [s["id"] for s in data["sessions"]]) if link.include_comments else {}
    return {"guide": guide, "by_unit": organiser.per_unit(data), "comments": comments,
            "include_comments": link.include_comments}


def public_comments(db: so.Session, session_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Visible comment texts per item, with the unit: no ids, no times, nothing about the writer."""
    out: dict[str, list[dict[str, str]]] = {}
    if not session_ids:
        return out
    rows = db.execute(
        sa.select(Comment.item_id, Comment.text, Meeting.unit)
        .join(Meeting, Meeting.id == Comment.meeting_id)
        .where(Comment.meeting_id.in_(session_ids), Comment.hidden.is_(False), Comment.approved.is_(True))
        .order_by(Meeting.started_at, Comment.pinned.desc(), Comment.created_at, Comment.id)
    )
    for item_id, text, unit in rows:
        out.setdefault(item_id, []).append({"text": text, "unit": unit or "—"})
    return out
